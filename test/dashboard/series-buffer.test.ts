// Specification of the charts' buffer: five minutes of per-second columns grown by incremental polls.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReleaseSeries, TimeseriesView } from '../../src/dashboard/api/types.js';
import { SeriesBuffer, WINDOW_SECONDS } from '../../src/dashboard/state/series-buffer.js';

function release(name: string, requests: number[], role: ReleaseSeries['role'] = 'stable'): ReleaseSeries {
  return { name, version: name, number: Number(name.slice(1)), role, requests, errorRate: requests.map((n) => (n === 0 ? null : 0)), p50: requests.map(() => 1), p99: requests.map(() => 5) };
}

function view(seconds: number[], releases: ReleaseSeries[]): TimeseriesView {
  return { service: 'web', seconds, releases, instances: [] };
}

describe('the series buffer', () => {
  it('appends only seconds it has not seen', () => {
    const buffer = new SeriesBuffer('web');
    buffer.merge(view([10, 11, 12], [release('v1', [1, 2, 3])]));
    buffer.merge(view([12, 13], [release('v1', [9, 4])]));
    assert.deepEqual(buffer.seconds, [10, 11, 12, 13]);
    assert.deepEqual(buffer.releases[0]!.columns.requests, [1, 2, 3, 4]);
  });

  it('pads a release that appears later with gaps before it, and one that is missing with zero requests', () => {
    const buffer = new SeriesBuffer('web');
    buffer.merge(view([10, 11], [release('v1', [5, 5])]));
    buffer.merge(view([12], [release('v2', [1], 'target')]));
    const [v1, v2] = buffer.releases;
    assert.deepEqual(v1!.columns.requests, [5, 5, 0]);
    assert.deepEqual(v1!.columns.p99, [5, 5, null]);
    assert.deepEqual(v2!.columns.requests, [0, 0, 1]);
    assert.deepEqual(v2!.columns.errorRate, [null, null, 0]);
    assert.equal(v2!.role, 'target');
  });

  it('keeps five minutes and drops a release with no request left in them', () => {
    const buffer = new SeriesBuffer('web');
    buffer.merge(view([1, 2], [release('v1', [3, 3]), release('v2', [1, 0], 'target')]));
    const later = Array.from({ length: WINDOW_SECONDS }, (_, i) => i + 3);
    buffer.merge(view(later, [release('v1', later.map(() => 1))]));
    assert.equal(buffer.seconds.length, WINDOW_SECONDS);
    assert.equal(buffer.seconds[0], 3);
    assert.deepEqual(buffer.releases.map((r) => r.name), ['v1']);
  });
});
