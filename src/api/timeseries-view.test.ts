// Specification of the dashboard's per-second series: columns per release from the rolling windows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorStatusMatcher, RollingWindow } from '../metrics/rolling-window.js';
import { requestRate, timeseriesView, type ReleaseLabel } from './timeseries-view.js';

const isError = errorStatusMatcher('5xx');
const label = (name: string): ReleaseLabel => ({ number: name === 'v1' ? 1 : 2, version: name, role: name === 'v1' ? 'stable' : 'target' });

describe('the timeseries view', () => {
  it('gives one point per second per release: requests, error rate in percent, latency quantiles', () => {
    const v1 = new RollingWindow();
    const v2 = new RollingWindow();
    for (let i = 0; i < 4; i++) v1.record(1000, 200, false, 10);
    v2.record(1000, 200, false, 50);
    v2.record(1000, 503, false, 50);
    v1.record(1002, 200, false, 10);
    const view = timeseriesView('web', new Map([['v2', { window: v2 }], ['v1', { window: v1 }]]), { to: 1002, seconds: 3 }, isError, label);
    assert.deepEqual(view.seconds, [1000, 1001, 1002]);
    assert.deepEqual(view.releases.map((r) => [r.name, r.role]), [['v1', 'stable'], ['v2', 'target']]);
    const [first, second] = view.releases;
    assert.deepEqual(first!.requests, [4, 0, 1]);
    assert.deepEqual(first!.errorRate, [0, null, 0]);
    assert.deepEqual(second!.errorRate, [50, null, null]);
    assert.equal(first!.p50[1], null);
    assert.ok(first!.p99[0]! > 5 && first!.p99[0]! < 20, `p99 near 10 ms: ${first!.p99[0]}`);
  });

  it('answers only the seconds after `after`', () => {
    const v1 = new RollingWindow();
    v1.record(2000, 200, false, 1);
    const view = timeseriesView('web', new Map([['v1', { window: v1 }]]), { to: 2005, seconds: 300, after: 2003 }, isError, label);
    assert.deepEqual(view.seconds, [2004, 2005]);
    assert.deepEqual(view.releases[0]!.requests, [0, 0]);
  });

  it('leaves out a release with no request in the whole window', () => {
    const old = new RollingWindow();
    old.record(100, 200, false, 1);
    assert.deepEqual(timeseriesView('web', new Map([['v1', { window: old }]]), { to: 1000, seconds: 300 }, isError, label).releases, []);
  });

  it('rates an instance over its last seconds', () => {
    const w = new RollingWindow();
    for (let s = 96; s <= 100; s++) for (let i = 0; i < 3; i++) w.record(s, 200, false, 1);
    assert.equal(requestRate(w, 100), 3);
    assert.equal(requestRate(undefined, 100), 0);
  });
});
