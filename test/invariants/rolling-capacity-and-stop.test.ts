// Invariants 2 and 3 end to end: a rolling deploy of 2 instances under load (fast requests and 3 s
// requests always in flight) while the proxy's own routing table is sampled through the admin API,
// and every app instance records when it got SIGTERM, what it still had in flight, and when it last
// served a request (examples/node-app, LIFECYCLE_FILE).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Switchyard } from '../helpers/deploy-harness.js';
import { describeFailures, Load, type LoadReport } from '../helpers/load.js';
import { endpointIds, RoutingSampler, type RoutingSample } from '../helpers/routing-sampler.js';
import { waitFor } from '../helpers/wait.js';

const INSTANCES = 2;
const DRAIN_MS = 5000;

interface Lifecycle {
  pid: number;
  version: string;
  sigtermAt: number | null;
  inFlightAtSigterm: number | null;
  lastRequestAt: number | null;
  lastAnsweredAt: number | null;
}

describe('a rolling deploy under load, seen from the proxy table and from the apps', () => {
  let sy: Switchyard;
  let samples: RoutingSample[];
  let report: LoadReport;

  before(async () => {
    sy = await Switchyard.start({
      instances: INSTANCES,
      drainTimeout: `${DRAIN_MS}ms`,
      stopTimeout: '5s',
      // Relative to the instances' working directory, the test's temp dir.
      env: { LIFECYCLE_FILE: 'lifecycle.jsonl' },
      deploy: { strategy: 'rolling', rolling: { maxSurge: 1, maxUnavailable: 0 } },
    });
    const load = Load.start({ url: sy.proxyUrl, workers: 6, slowWorkers: 6, slowMs: 3000, postShare: 0.2, pauseMs: 5, maxDurationMs: 120_000 });
    const sampler = new RoutingSampler(sy.adminUrl, { intervalMs: 20, maxDurationMs: 150_000 });
    try {
      // 3 s requests are in flight on both old instances before the deploy starts.
      await waitFor(() => load.count('v1') >= 30, { timeout: 30_000, message: 'v1 answers under load' });
      const { id } = await sy.deploy({ version: 'v2' });
      const done = await sy.finished(id, 120_000);
      assert.equal(done.state, 'succeeded', `${done.reason}\n${sy.logTail()}`);
      // Both old instances have exited (their lifecycle is written on exit).
      await waitFor(() => lifecycles().filter((l) => l.version === 'v1').length === INSTANCES, { timeout: 15_000, message: 'both v1 instances to record their stop' });
    } finally {
      samples = await sampler.stop();
      report = await load.stop();
    }
  });
  after(async () => sy?.close());

  function lifecycles(): Lifecycle[] {
    try {
      return readFileSync(join(sy.tmp.dir, 'lifecycle.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Lifecycle);
    } catch {
      return [];
    }
  }

  it('keeps at least `instances` healthy endpoints in rotation in every sample of the proxy table (invariant 3)', () => {
    assert.equal(report.failed, 0, describeFailures(report));
    assert.ok(samples.length >= 50, `${samples.length} samples of the routing table`);
    const versions = new Set(samples.map((s) => s.view.version));
    assert.ok(versions.size >= 3, `the samples saw ${versions.size} table versions: the deploy changed the table as it was watched`);
    let lowest = Infinity;
    for (const { view, sentAt } of samples) {
      const web = view.services.web;
      assert.ok(web !== undefined, 'the web service is in every table');
      const inRotation = web.releases.filter((r) => r.weight > 0).flatMap((r) => r.endpoints.filter((e) => e.available));
      lowest = Math.min(lowest, inRotation.length);
      assert.ok(inRotation.length >= INSTANCES, `table ${view.version} (asked for at ${sentAt}) had ${inRotation.length} healthy endpoints in rotation: ${JSON.stringify(web)}`);
    }
    assert.equal(lowest, INSTANCES, 'the check saw the tight moments (exactly `instances` in rotation)');
  });

  it('sends SIGTERM only after an instance left every table and its in-flight requests finished (invariant 2)', () => {
    const byPid = new Map(sy.instanceRecords().map((r) => [r.pid, r.id]));
    const drainStarts = new Map(sy.events().filter((e) => e.type === 'instance.draining' && e.instanceId !== null).map((e) => [e.instanceId!, Date.parse(e.time)]));
    const stopped = lifecycles().filter((l) => l.version === 'v1');
    assert.equal(stopped.length, INSTANCES, JSON.stringify(lifecycles()));
    for (const app of stopped) {
      const id = byPid.get(app.pid);
      assert.ok(id !== undefined, `pid ${app.pid} is an instance of the service`);
      assert.ok(app.sigtermAt !== null, `${id} got SIGTERM`);
      // In the table until it was taken out; in no sample asked for after the SIGTERM.
      const containing = samples.filter((s) => endpointIds(s.view).has(id));
      assert.ok(containing.length > 0, `${id} was seen in the table before its deploy`);
      const lastSeen = Math.max(...containing.map((s) => s.sentAt));
      const late = samples.filter((s) => s.sentAt >= app.sigtermAt! && endpointIds(s.view).has(id));
      assert.deepEqual(late.map((s) => s.view.version), [], `${id} was still in a routing table after its SIGTERM at ${app.sigtermAt}`);
      const removedBefore = samples.some((s) => s.sentAt > lastSeen && s.receivedAt <= app.sigtermAt!);
      assert.ok(removedBefore, `a sample showed ${id} out of the table before its SIGTERM`);
      // Its in-flight requests (3 s, under the 5 s drain timeout) finished before SIGTERM.
      const drainStart = drainStarts.get(id);
      assert.ok(drainStart !== undefined, `${id} was drained`);
      const deadlinePassed = app.sigtermAt >= drainStart + DRAIN_MS;
      assert.ok(app.inFlightAtSigterm === 0 || deadlinePassed, `${id} got SIGTERM with ${app.inFlightAtSigterm} requests in flight, ${app.sigtermAt - drainStart} ms into a ${DRAIN_MS} ms drain`);
      assert.ok(app.lastAnsweredAt !== null && app.lastAnsweredAt <= app.sigtermAt, `${id} answered its last request before SIGTERM`);
      assert.ok(app.lastRequestAt !== null && app.lastRequestAt <= app.sigtermAt, `${id} got no request after SIGTERM`);
    }
  });
});
