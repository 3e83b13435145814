import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestMetrics } from './request-metrics.js';
import { WINDOW_SECONDS } from './rolling-window.js';

function batchFor(release: string, second: number) {
  return {
    releases: [
      { service: 'web', release, seconds: [{ second, requests: 3, upstream: 0, codes: [200, 3], bins: [10, 3] }], byCode: [200, 3], upstreamErrors: [], latencyBuckets: [3], latencySumSeconds: 0.003 },
    ],
    instances: [{ instance: `${release}-1`, seconds: [{ second, requests: 3, upstream: 0, codes: [200, 3], bins: [10, 3] }] }],
  };
}

describe('request metrics pruning', () => {
  it('forgets the series of a release that left the table once it has been quiet for the whole window', () => {
    const metrics = new RequestMetrics();
    const t0 = 1_000_000;
    for (const release of ['v1', 'v2', 'v3']) metrics.merge(batchFor(release, t0));
    metrics.merge(batchFor('v3', t0 + WINDOW_SECONDS));
    const routed = (_service: string, release: string) => release === 'v2';
    metrics.prune(t0 + WINDOW_SECONDS - 1, routed);
    assert.deepEqual([...metrics.series.get('web')!.keys()], ['v1', 'v2', 'v3'], 'nothing is pruned within the window');
    metrics.prune(t0 + WINDOW_SECONDS + 1, routed);
    // v1: gone from the table and quiet; v2: quiet but still routed (its counters stay); v3: not routed but had traffic.
    assert.deepEqual([...metrics.series.get('web')!.keys()], ['v2', 'v3']);
    assert.deepEqual([...metrics.instances.keys()], ['v3-1']);
    metrics.prune(t0 + 2 * WINDOW_SECONDS + 1, () => false);
    assert.equal(metrics.series.get('web'), undefined, 'a service with no series left goes too');
  });
});
