import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable, formatWarnings, median, summarize, summarizeHalf, type Run } from './report.js';
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
    assert.match(lines[0] ?? '', /^target\s+rps\s+p50 ms\s+p99 ms\s+CPU µs\/req\s+rps vs direct\s+rps vs nginx\s+CPU vs nginx$/);
    assert.match(lines[2] ?? '', /^direct\s+20000\s+1\.00\s+2\.00\s+-\s+100%\s+-\s+-$/);
    assert.match(lines[3] ?? '', /^haproxy\s+15000 .* 20\.0\s+75%\s+-\s+-$/);
    assert.equal(new Set(lines.map((l) => l.length)).size, 1);
  });

  it('reports the p99 switchyard adds over direct at half capacity', () => {
    const half = summarizeHalf(5000, [
      run('direct', 0, 5000, null, { p99Ms: 1.5, offeredRate: 5000 }),
      run('switchyard', 0, 5000, 40, { p99Ms: 2.25, offeredRate: 5000 }),
    ]);
    assert.equal(half.addedP99Ms, 0.75);
  });

  it('flags runs with errors or a busy proxy core', () => {
    const warnings = formatWarnings([run('nginx', 0, 1, 1, { errors: 3 }), run('haproxy', 1, 1, 1, { proxyCoreForeignShare: 0.4 })]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /nginx round 1: 3 socket errors/);
    assert.match(warnings[1] ?? '', /haproxy round 2: other processes used 40%/);
  });
});
