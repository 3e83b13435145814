// Specification of /metrics as dashboards read it, against a real daemon: traffic weight always a percent
// of the service's traffic, process metrics under their standard names, and the Grafana dashboard in
// examples/ asking only for metrics that exist.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, startDaemon, staticConfig, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';

const DASHBOARD = new URL('../../examples/grafana/switchyard-dashboard.json', import.meta.url);

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

/** Metric names a Prometheus text exposition offers: each family, and a histogram's _bucket/_sum/_count. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      names.add(type[1]!);
      if (type[2] === 'histogram' || type[2] === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(type[1]! + suffix);
    } else if (/^[a-zA-Z_]/.test(line)) names.add(line.split(/[{ ]/)[0]!);
  }
  return names;
}

/** The metric names a PromQL expression reads (functions and label names are not metric names). */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]');
  const withoutGroupings = withoutStrings.replace(/\b(by|without)\s*\([^)]*\)/g, '');
  return [...withoutGroupings.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()/g)].map((m) => m[0]).filter((name) => !/^(and|or|unless|on|ignoring|group_left|group_right|bool|offset)$/.test(name) && !/^\d/.test(name));
}

describe('/metrics', { timeout: 60_000 }, () => {
  let tmp: TempDir;
  let backends: Backend[];
  let daemon: DaemonProcess;
  let metrics: string;
  before(async () => {
    tmp = await tempDir('switchyard-metrics-');
    backends = [await startBackend('a'), await startBackend('b')];
    const [proxyPort, adminPort] = [await freePort(), await freePort()];
    const file = await tmp.write('switchyard.yaml', staticConfig({ proxyPort, adminPort, targets: backends.map((b) => b.address), state: join(tmp.dir, 'state') }));
    daemon = await startDaemon(file, { adminUrl: `http://127.0.0.1:${adminPort}`, cwd: tmp.dir });
    for (let i = 0; i < 4; i++) {
      const res = await request(`http://127.0.0.1:${proxyPort}/`, { reset: true });
      await res.body.dump();
    }
    const res = await request(`${daemon.adminUrl}/metrics`, { reset: true });
    metrics = await res.body.text();
  });
  after(async () => {
    await daemon?.kill();
    for (const b of backends ?? []) await b.close();
    await tmp?.remove();
  });

  it('reports switchyard_traffic_weight as a percent of the service, also at rest (2 instances: 100, not 2)', () => {
    assert.match(metrics, /^switchyard_traffic_weight\{service="web",release="static"\} 100$/m);
  });

  it('exports process metrics under their standard names', () => {
    assert.match(metrics, /^process_cpu_seconds_total \d/m);
    assert.match(metrics, /^process_resident_memory_bytes \d/m);
    assert.doesNotMatch(metrics, /switchyard_process_/);
  });

  it('exposes the event-loop delay and GC pauses of the controller and of each proxy worker as histograms', async () => {
    // Workers ship once a second, the controller samples itself once a second: poll until both are in.
    const text = await waitFor(
      async () => {
        const res = await request(`${daemon.adminUrl}/metrics`, { reset: true });
        const body = await res.body.text();
        const sampled = (process: string) => new RegExp(`^switchyard_event_loop_delay_seconds_count\\{process="${process}"\\} [1-9]`, 'm').test(body);
        return sampled('proxy-1') && sampled('controller') ? body : undefined;
      },
      { timeout: 10_000, interval: 200, message: 'loop-delay samples from proxy 1 and the controller' },
    );
    for (const process of ['proxy-1', 'controller']) {
      const buckets = [...text.matchAll(new RegExp(`^switchyard_event_loop_delay_seconds_bucket\\{process="${process}",le="([^"]+)"\\} (\\d+)`, 'gm'))];
      assert.ok(buckets.length >= 10, `${process}: ${buckets.length} buckets`);
      assert.equal(buckets.at(-1)![1], '+Inf');
      const counts = buckets.map((b) => Number(b[2]));
      assert.deepEqual(counts, [...counts].sort((a, b) => a - b), `${process}: cumulative buckets`);
      assert.match(text, new RegExp(`^switchyard_gc_pause_seconds_count\\{process="${process}"\\} \\d+`, 'm'));
    }
  });

  it('has a Grafana dashboard in examples/ whose every query reads metrics this daemon exports', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { title: string; panels: Panel[]; templating: { list: { name: string; query?: unknown }[] } };
    assert.equal(dashboard.title, 'switchyard');
    const exposed = exposedNames(metrics);
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    const variables = dashboard.templating.list.flatMap((v) => (typeof v.query === 'string' && v.query.startsWith('label_values') ? [{ panel: `$${v.name}`, expr: v.query }] : []));
    assert.ok(queries.length >= 8, `${queries.length} queries`);
    for (const { panel, expr } of [...queries, ...variables]) {
      const names = metricsIn(expr).filter((name) => !['label_values', 'service', 'job', 'release', 'le', 'phase', 'kind', 'code', 'instance'].includes(name));
      assert.ok(names.length > 0, `${panel}: no metric in ${expr}`);
      for (const name of names) assert.ok(exposed.has(name), `${panel}: ${name} is not in /metrics`);
    }
    // What the issue asks the dashboard to show.
    const all = queries.map((q) => q.expr).join('\n');
    for (const metric of ['switchyard_requests_total', 'switchyard_request_duration_seconds_bucket', 'switchyard_traffic_weight', 'switchyard_deployment_phase', 'switchyard_upstream_errors_total']) {
      assert.ok(all.includes(metric), `the dashboard shows ${metric}`);
    }
  });
});
