// Specification of power-of-two-choices: of two random endpoints, the less loaded per unit of weight.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { destroyEndpoints, endpoint, track } from '../../../test/fixtures/endpoints.js';
import { Endpoint } from '../endpoint.js';
import type { PickContext } from './balancer.js';
import { RandomTwoBalancer } from './random-two.js';

const NOW = 1_000_000;


function ctx(now = NOW, exclude: readonly Endpoint[] | null = null): PickContext {
  return { now, keyHash: 0, exclude };
}

/** mulberry32: a small seeded generator, so every run samples the same pairs. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns the given values in order, to choose exactly which two endpoints are sampled. */
function scripted(...values: number[]): () => number {
  let i = 0;
  return () => {
    const value = values[i++];
    if (value === undefined) throw new Error('scripted random ran out of values');
    return value;
  };
}

function tally(balancer: RandomTwoBalancer, count: number, context = ctx()): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const id = balancer.pick(context)?.id ?? 'none';
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

after(destroyEndpoints);

describe('random-two balancer', () => {
  it('sends the request to the less loaded of the two endpoints it samples', () => {
    const a = endpoint('a');
    const b = endpoint('b');
    const c = endpoint('c');
    a.inFlight = 3;
    // 0 → index 0 (a); 0 → the next index (b). c is not sampled even though it is idle too.
    assert.equal(new RandomTwoBalancer([a, b, c], scripted(0, 0)).pick(ctx()), b);
    b.inFlight = 7;
    assert.equal(new RandomTwoBalancer([a, b, c], scripted(0, 0)).pick(ctx()), a);
  });

  it('always samples two different endpoints', () => {
    const a = endpoint('a');
    const b = endpoint('b');
    a.inFlight = 1;
    // Even when both draws land on the same index, the second sample is the other endpoint.
    assert.equal(new RandomTwoBalancer([a, b], scripted(0, 0)).pick(ctx()), b);
    assert.equal(new RandomTwoBalancer([a, b], scripted(0, 0.999)).pick(ctx()), b);
  });

  it('compares load per unit of weight', () => {
    const big = endpoint('big', 2);
    const small = endpoint('small', 1);
    big.inFlight = 2; // (2 + 1) / 2 = 1.5
    small.inFlight = 1; // (1 + 1) / 1 = 2
    assert.equal(new RandomTwoBalancer([small, big], scripted(0, 0)).pick(ctx()), big);
  });

  it('never picks the most loaded of three endpoints', () => {
    const busy = endpoint('busy');
    busy.inFlight = 10;
    const balancer = new RandomTwoBalancer([endpoint('a'), busy, endpoint('c')], seeded(42));
    assert.equal(tally(balancer, 1000)['busy'], undefined);
  });

  it('spreads requests roughly evenly over equal idle endpoints', () => {
    const balancer = new RandomTwoBalancer([endpoint('a'), endpoint('b'), endpoint('c'), endpoint('d')], seeded(7));
    const counts = tally(balancer, 4000);
    for (const id of ['a', 'b', 'c', 'd']) {
      const n = counts[id] ?? 0;
      assert.ok(n > 1000 * 0.85 && n < 1000 * 1.15, `${id} got ${n}`);
    }
  });

  it('never picks an unhealthy, draining, ejected or already tried endpoint', () => {
    const unhealthy = endpoint('unhealthy');
    unhealthy.markUnhealthy();
    const draining = endpoint('draining');
    draining.draining = true;
    const ejected = endpoint('ejected');
    ejected.ejectedUntil = NOW + 1;
    const tried = endpoint('tried');
    const ok1 = endpoint('ok1');
    const ok2 = endpoint('ok2');
    ok1.inFlight = 20;
    ok2.inFlight = 20;
    const balancer = new RandomTwoBalancer([unhealthy, draining, ejected, tried, ok1, ok2], seeded(1));
    const counts = tally(balancer, 2000, ctx(NOW, [tried]));
    assert.deepEqual(Object.keys(counts).sort(), ['ok1', 'ok2']);
  });

  it(
    'still compares load when one of the endpoints is unavailable',
    () => {
      const down = endpoint('down');
      down.draining = true;
      const busy = endpoint('busy');
      busy.inFlight = 100;
      const balancer = new RandomTwoBalancer([down, busy, endpoint('idle')], seeded(11));
      assert.deepEqual(tally(balancer, 1000), { idle: 1000 });
    },
  );

  it('finds the one available endpoint when both samples are unavailable', () => {
    const a = endpoint('a');
    const b = endpoint('b');
    const c = endpoint('c');
    a.draining = true;
    b.draining = true;
    assert.equal(new RandomTwoBalancer([a, b, c], scripted(0, 0)).pick(ctx()), c);
    assert.deepEqual(tally(new RandomTwoBalancer([a, b, c], seeded(3)), 300), { c: 300 });
  });

  it('prefers the less loaded available endpoint when both samples are unavailable', () => {
    const down1 = endpoint('down1');
    const down2 = endpoint('down2');
    down1.markUnhealthy();
    down2.markUnhealthy();
    const busy = endpoint('busy');
    busy.inFlight = 9;
    const idle = endpoint('idle');
    // Samples down1 and down2, then the fallback samples busy and idle.
    const balancer = new RandomTwoBalancer([down1, down2, busy, idle], scripted(0, 0, 0, 0.99));
    assert.equal(balancer.pick(ctx()), idle);
  });

  it('works with a single endpoint', () => {
    const only = endpoint('only');
    const balancer = new RandomTwoBalancer([only], seeded(5));
    assert.deepEqual(tally(balancer, 10), { only: 10 });
    assert.equal(balancer.pick(ctx(NOW, [only])), undefined);
    only.draining = true;
    assert.equal(balancer.pick(ctx()), undefined);
  });

  it('returns undefined when no endpoint is available', () => {
    const a = endpoint('a');
    const b = endpoint('b');
    a.markUnhealthy();
    b.ejectedUntil = NOW + 5_000;
    assert.equal(new RandomTwoBalancer([a, b], seeded(9)).pick(ctx()), undefined);
    assert.equal(new RandomTwoBalancer([], seeded(9)).pick(ctx()), undefined);
  });

  it('counts a slow-starting endpoint as more loaded early in its ramp', () => {
    const steady = endpoint('steady');
    steady.inFlight = 3; // (3 + 1) / 1 = 4
    const rookie = new Endpoint('rookie', '192.0.2.201:80', 1, { connect: 1000, keepAlive: 4000 });
    track(rookie);
    rookie.slowStartMs = 10_000;
    rookie.markHealthy(NOW);
    rookie.inFlight = 0; // (0 + 1) / 0.1 = 10 at the start of the ramp
    assert.equal(new RandomTwoBalancer([steady, rookie], scripted(0, 0)).pick(ctx(NOW)), steady);
    assert.equal(new RandomTwoBalancer([steady, rookie], scripted(0, 0)).pick(ctx(NOW + 10_000)), rookie);
  });
});
