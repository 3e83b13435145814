import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFixedRate, formatTable, formatWarnings, median, summarize, type Run } from './report.js';
import type { TargetName } from './targets.js';

function run(target: TargetName, round: number, rps: number, cpuUsPerRequest: number | null, extra: Partial<Run> = {}): Run {
  return {
    round,
    target,
    offeredRate: null,
    requests: rps * 10,
    durationS: 10,
    rps,
    p50Ms: 1,
    p99Ms: 2,
    errors: 0,
    badStatus: 0,
    cpuSeconds: cpuUsPerRequest === null ? null : (cpuUsPerRequest * rps * 10) / 1e6,
    cpuUsPerRequest,
    cpuUtilisation: cpuUsPerRequest === null ? null : 1,
    workerCpuSeconds: null,
    loop: null,
    proxyCoreForeignShare: 0,
    ...extra,
  };
}

describe('bench report', () => {
  it('takes the median over rounds', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('compares every target with direct and nginx by median', () => {
    const runs = [
      run('direct', 0, 30_000, null),
      run('direct', 1, 10_000, null),
      run('direct', 2, 20_000, null),
      run('nginx', 0, 10_000, 20),
      run('switchyard', 0, 5_000, 50),
    ];
    const [direct, nginx, switchyard] = summarize(runs, ['direct', 'nginx', 'switchyard', 'haproxy']);
    assert.equal(direct?.rps, 20_000);
    assert.equal(direct?.cpuVsNginx, null);
    assert.equal(nginx?.rpsVsDirect, 0.5);
    assert.equal(switchyard?.rpsVsNginx, 0.5);
    assert.equal(switchyard?.cpuVsNginx, 2.5);
  });

  it('prints one aligned row per target with "-" where a column does not apply', () => {
    const table = formatTable(summarize([run('direct', 0, 20_000, null), run('haproxy', 0, 15_000, 20)], ['direct', 'haproxy']));
    const lines = table.split('\n');
    assert.match(lines[0] ?? '', /^target\s+rps\s+p50 ms\s+p99 ms\s+CPU µs\/req\s+CPU used\s+rps vs direct\s+rps vs nginx\s+CPU vs nginx$/);
    assert.match(lines[2] ?? '', /^direct\s+20000\s+1\.00\s+2\.00\s+-\s+-\s+100%\s+-\s+-$/);
    assert.match(lines[3] ?? '', /^haproxy\s+15000 .* 20\.0\s+100% \s+75%\s+-\s+-$/);
    assert.equal(new Set(lines.map((l) => l.length)).size, 1);
  });

  it('says when a proxy was not saturated at full load, so its rps is only a floor', () => {
    const [nginx] = summarize([run('nginx', 0, 20_000, 25, { cpuUtilisation: 0.7 })], ['nginx']);
    assert.equal(nginx?.saturated, false);
    const table = formatTable([nginx]);
    assert.match(table, /70%\*/);
    assert.match(table, /nginx used 70% of a core: not saturated/);
    const [paced] = summarize([run('nginx', 0, 5000, 25, { cpuUtilisation: 0.2, offeredRate: 5000 })], ['nginx']);
    assert.equal(paced?.saturated, null, 'a paced run is not meant to saturate');
  });

  it('compares every target at the same fixed rate: CPU with nginx, p50 with direct, p99 with nginx', () => {
    const paced = { offeredRate: 5000 };
    const rows = summarize(
      [
        run('direct', 0, 5000, null, { ...paced, p50Ms: 0.5, p99Ms: 1.5 }),
        run('switchyard', 0, 5000, 40, { ...paced, p50Ms: 0.6, p99Ms: 3 }),
        run('nginx', 0, 5000, 25, { ...paced, p50Ms: 0.55, p99Ms: 2.5 }),
      ],
      ['direct', 'switchyard', 'nginx'],
    );
    const text = formatFixedRate(5000, rows);
    assert.match(text, /^switchyard\s+5000\s+0\.60\s+3\.00\s+40\.0\s+100%\s+1\.60×\s+\+0\.10 ms\s+\+0\.50 ms$/m);
  });

  it('flags runs with errors or a busy proxy core', () => {
    const warnings = formatWarnings([run('nginx', 0, 1, 1, { errors: 3 }), run('haproxy', 1, 1, 1, { proxyCoreForeignShare: 0.4 })]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /nginx round 1: 3 socket errors/);
    assert.match(warnings[1] ?? '', /haproxy round 2: other processes used 40%/);
  });
});
