// Specification of weighted least-connections: fewest in flight per unit of weight, ties rotate.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { destroyEndpoints, endpoint, track } from '../../../test/fixtures/endpoints.js';
import { Endpoint, type Cuttable } from '../endpoint.js';
import type { PickContext } from './balancer.js';
import { LeastConnectionsBalancer } from './least-connections.js';

const NOW = 1_000_000;


function ctx(now = NOW, exclude: readonly Endpoint[] | null = null): PickContext {
  return { now, keyHash: 0, exclude };
}

function tally(ids: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

/** Picks `count` times; each pick stays in flight (long requests), so load builds up. */
function pickAndHold(balancer: LeastConnectionsBalancer, count: number, context = ctx()): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const chosen = balancer.pick(context);
    const exchange: Cuttable = { cut() {}, lose: () => false };
    chosen?.acquire(exchange);
    ids.push(chosen?.id ?? 'none');
  }
  return ids;
}

/** Picks `count` times; each request finishes before the next arrives. */
function pickAndRelease(balancer: LeastConnectionsBalancer, count: number, context = ctx()): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(balancer.pick(context)?.id ?? 'none');
  return ids;
}

after(destroyEndpoints);

describe('least-connections balancer', () => {
  it('steers away from an endpoint with many requests in flight', () => {
    const busy = endpoint('busy');
    busy.inFlight = 50;
    const balancer = new LeastConnectionsBalancer([busy, endpoint('b'), endpoint('c')]);
    assert.equal(tally(pickAndRelease(balancer, 100))['busy'], undefined);
  });

  it(
    'shares short requests evenly between the idle endpoints next to a busy one',
    () => {
      const busy = endpoint('busy');
      busy.inFlight = 50;
      const balancer = new LeastConnectionsBalancer([busy, endpoint('b'), endpoint('c')]);
      assert.deepEqual(tally(pickAndRelease(balancer, 300)), { b: 150, c: 150 });
    },
  );

  it('fills the idle endpoints up to the busy one before using it again', () => {
    const busy = endpoint('busy');
    busy.inFlight = 5;
    const balancer = new LeastConnectionsBalancer([busy, endpoint('b'), endpoint('c')]);
    assert.deepEqual(tally(pickAndHold(balancer, 10)), { b: 5, c: 5 });
    assert.deepEqual(tally(pickAndHold(balancer, 3)), { busy: 1, b: 1, c: 1 });
  });

  it('compares requests in flight per unit of weight', () => {
    const big = endpoint('big', 4);
    const small = endpoint('small', 1);
    big.inFlight = 4; // (4 + 1) / 4 = 1.25
    small.inFlight = 1; // (1 + 1) / 1 = 2
    const balancer = new LeastConnectionsBalancer([small, big]);
    assert.equal(balancer.pick(ctx())?.id, 'big');
  });

  it('shares long requests in proportion to weight (2:1)', () => {
    const balancer = new LeastConnectionsBalancer([endpoint('heavy', 2), endpoint('light', 1)]);
    const counts = tally(pickAndHold(balancer, 300));
    assert.ok(Math.abs((counts['heavy'] ?? 0) - 200) <= 1, `heavy got ${counts['heavy']}`);
    assert.ok(Math.abs((counts['light'] ?? 0) - 100) <= 1, `light got ${counts['light']}`);
  });

  it('rotates ties between equally loaded endpoints', () => {
    const balancer = new LeastConnectionsBalancer([endpoint('a'), endpoint('b'), endpoint('c')]);
    assert.deepEqual(pickAndRelease(balancer, 6), ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it(
    'rotates ties evenly among the available endpoints when one is out of rotation',
    () => {
      const b = endpoint('b');
      b.draining = true;
      const balancer = new LeastConnectionsBalancer([endpoint('a'), b, endpoint('c')]);
      const counts = tally(pickAndRelease(balancer, 300));
      assert.ok(Math.abs((counts['a'] ?? 0) - 150) <= 15, `a got ${counts['a']}, c got ${counts['c']}`);
      assert.ok(Math.abs((counts['c'] ?? 0) - 150) <= 15, `a got ${counts['a']}, c got ${counts['c']}`);
    },
  );

  it('skips unhealthy, draining, ejected and already tried endpoints', () => {
    const unhealthy = endpoint('unhealthy');
    unhealthy.markUnhealthy();
    const draining = endpoint('draining');
    draining.draining = true;
    const ejected = endpoint('ejected');
    ejected.ejectedUntil = NOW + 1;
    const tried = endpoint('tried');
    const ok = endpoint('ok');
    ok.inFlight = 100;
    const balancer = new LeastConnectionsBalancer([unhealthy, draining, ejected, tried, ok]);
    assert.deepEqual(tally(pickAndRelease(balancer, 20, ctx(NOW, [tried]))), { ok: 20 });
  });

  it('returns undefined when no endpoint is available', () => {
    const a = endpoint('a');
    a.draining = true;
    assert.equal(new LeastConnectionsBalancer([a]).pick(ctx()), undefined);
    assert.equal(new LeastConnectionsBalancer([]).pick(ctx()), undefined);
  });

  it('never picks a zero-weight endpoint', () => {
    const balancer = new LeastConnectionsBalancer([endpoint('zero', 0), endpoint('a')]);
    assert.deepEqual(tally(pickAndHold(balancer, 10)), { a: 10 });
    assert.equal(new LeastConnectionsBalancer([endpoint('only-zero', 0)]).pick(ctx()), undefined);
  });

  it('sends a slow-starting endpoint less of the long requests early in its ramp', () => {
    const rookie = new Endpoint('rookie', '192.0.2.201:80', 1, { connect: 1000, keepAlive: 4000 });
    track(rookie);
    rookie.slowStartMs = 10_000;
    rookie.markHealthy(NOW);
    const balancer = new LeastConnectionsBalancer([endpoint('steady'), rookie]);
    const counts = tally(pickAndHold(balancer, 110, ctx(NOW))); // weights 1 : 0.1
    assert.ok(Math.abs((counts['rookie'] ?? 0) - 10) <= 1, `rookie got ${counts['rookie']}`);
  });
});
