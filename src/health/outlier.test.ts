// Specification of passive outlier detection: eject after consecutive failures, longer each time, capped share.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Endpoint } from '../proxy/endpoint.js';
import { recordFailure, recordSuccess, type OutlierPolicy } from './outlier.js';

const T0 = 1_000_000;
const created: Endpoint[] = [];

const policy: OutlierPolicy = {
  consecutiveFailures: 3,
  baseEjectionTime: 30_000,
  maxEjectionTime: 100_000,
  maxEjectionPercent: 0.5,
};

function endpoint(id: string): Endpoint {
  const e = new Endpoint(id, `192.0.2.${created.length + 1}:80`, 1, { connect: 1000, keepAlive: 4000 });
  e.markHealthy(0);
  created.push(e);
  return e;
}

function endpoints(count: number): Endpoint[] {
  return Array.from({ length: count }, (_, i) => endpoint(`web/${i + 1}`));
}

/** Records `count` failures at `now`; returns what the last one returned. */
function fail(e: Endpoint, peers: readonly Endpoint[], count: number, now: number, p = policy): number {
  let result = 0;
  for (let i = 0; i < count; i++) result = recordFailure(e, peers, p, now);
  return result;
}

after(async () => {
  await Promise.all(created.map((e) => e.pool.destroy()));
});

describe('outlier detection', () => {
  it('ejects an endpoint after the configured number of consecutive failures', () => {
    const peers = endpoints(4);
    const e = peers[0]!;
    assert.equal(recordFailure(e, peers, policy, T0), 0);
    assert.equal(recordFailure(e, peers, policy, T0), 0);
    assert.equal(e.isAvailable(T0), true);
    assert.equal(recordFailure(e, peers, policy, T0), 30_000);
    assert.equal(e.ejectedUntil, T0 + 30_000);
    assert.equal(e.isAvailable(T0), false);
    assert.equal(e.isAvailable(T0 + 30_000), true);
  });

  it('starts counting again after a success', () => {
    const peers = endpoints(4);
    const e = peers[0]!;
    fail(e, peers, 2, T0);
    recordSuccess(e);
    assert.equal(e.consecutiveFailures, 0);
    assert.equal(fail(e, peers, 2, T0), 0);
    assert.equal(e.isAvailable(T0), true);
    assert.equal(recordFailure(e, peers, policy, T0), 30_000);
  });

  it('does not extend an ejection with failures that arrive while ejected', () => {
    const peers = endpoints(4);
    const e = peers[0]!;
    fail(e, peers, 3, T0);
    assert.equal(fail(e, peers, 10, T0 + 1000), 0);
    assert.equal(e.ejectedUntil, T0 + 30_000);
  });

  it('needs the full number of failures again after an ejection', () => {
    const peers = endpoints(4);
    const e = peers[0]!;
    fail(e, peers, 3, T0);
    const back = T0 + 30_000;
    assert.equal(fail(e, peers, 2, back), 0);
    assert.equal(e.isAvailable(back), true);
    assert.ok(recordFailure(e, peers, policy, back) > 0);
  });

  it('ejects for longer each time it happens again, up to the maximum', () => {
    const peers = endpoints(4);
    const e = peers[0]!;
    const durations: number[] = [];
    let now = T0;
    for (let i = 0; i < 6; i++) {
      const duration = fail(e, peers, 3, now);
      durations.push(duration);
      now += duration; // fails again as soon as it is back
    }
    assert.deepEqual(durations, [30_000, 60_000, 90_000, 100_000, 100_000, 100_000]);
  });

  it('forgives earlier ejections after a long quiet spell', () => {
    const peers = endpoints(4);
    const e = peers[0]!;
    assert.equal(fail(e, peers, 3, T0), 30_000);
    assert.equal(fail(e, peers, 3, T0 + 30_000), 60_000);
    const quiet = T0 + 90_000 + policy.maxEjectionTime + 1;
    assert.equal(fail(e, peers, 3, quiet), 30_000);
  });

  it('ejects at most half of two endpoints at 50%', () => {
    const [a, b] = endpoints(2) as [Endpoint, Endpoint];
    const peers = [a, b];
    assert.equal(fail(a, peers, 3, T0), 30_000);
    assert.equal(fail(b, peers, 3, T0), 0);
    assert.equal(b.isAvailable(T0), true);
    // Once the first is back, the second may go.
    assert.ok(recordFailure(b, peers, policy, T0 + 30_000) > 0);
  });

  it('never ejects the only endpoint of a release', () => {
    const [only] = endpoints(1) as [Endpoint];
    assert.equal(fail(only, [only], 20, T0), 0);
    assert.equal(only.isAvailable(T0), true);
    assert.equal(fail(only, [only], 20, T0, { ...policy, maxEjectionPercent: 0.99 }), 0);
  });

  it('ejects no endpoint at all at 0%', () => {
    const peers = endpoints(5);
    assert.equal(fail(peers[0]!, peers, 5, T0, { ...policy, maxEjectionPercent: 0 }), 0);
  });

  it('ejects at most 2 of 10 endpoints at 20%', () => {
    const peers = endpoints(10);
    const p = { ...policy, maxEjectionPercent: 0.2 };
    const ejected = peers.map((e) => fail(e, peers, 3, T0, p)).filter((d) => d > 0).length;
    assert.equal(ejected, 2);
    assert.equal(peers.filter((e) => e.isAvailable(T0)).length, 8);
  });

  it('ejects every endpoint one by one at 100% when they all fail', () => {
    const peers = endpoints(3);
    const p = { ...policy, maxEjectionPercent: 1 };
    assert.deepEqual(
      peers.map((e) => fail(e, peers, 3, T0, p)),
      [30_000, 30_000, 30_000],
    );
  });

  it(
    'does not eject the last available endpoint of a release whose other endpoints are unhealthy',
    () => {
      const [a, b] = endpoints(2) as [Endpoint, Endpoint];
      b.markUnhealthy();
      assert.equal(fail(a, [a, b], 3, T0), 0);
      assert.equal(a.isAvailable(T0), true);
    },
  );

  it(
    'allows exactly the configured share even when it is inexact in floating point (58% of 50 is 29)',
    () => {
      const peers = endpoints(50);
      const p = { ...policy, maxEjectionPercent: 0.58 };
      const ejected = peers.map((e) => fail(e, peers, 3, T0, p)).filter((d) => d > 0).length;
      assert.equal(ejected, 29);
    },
  );
});
