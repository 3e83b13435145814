// Specification of smooth weighted round-robin: exact shares, interleaved picks, only available endpoints.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { destroyEndpoints, endpoint, track } from '../../../test/fixtures/endpoints.js';
import { Endpoint } from '../endpoint.js';
import type { PickContext } from './balancer.js';
import { RoundRobinBalancer, scheduleOf } from './round-robin.js';

const NOW = 1_000_000;


function ctx(now = NOW, exclude: readonly Endpoint[] | null = null): PickContext {
  return { now, keyHash: 0, exclude };
}

function picks(balancer: RoundRobinBalancer, count: number, context = ctx()): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(balancer.pick(context)?.id ?? 'none');
  return ids;
}

function tally(ids: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

function longestRun(ids: readonly string[], id: string): number {
  let longest = 0;
  let run = 0;
  for (const x of ids) {
    run = x === id ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

after(destroyEndpoints);

describe('round-robin balancer', () => {
  it('gives each of three equal endpoints exactly a third of 300 picks', () => {
    const balancer = new RoundRobinBalancer([endpoint('a'), endpoint('b'), endpoint('c')]);
    assert.deepEqual(tally(picks(balancer, 300)), { a: 100, b: 100, c: 100 });
  });

  it('visits equal endpoints in turn', () => {
    const balancer = new RoundRobinBalancer([endpoint('a'), endpoint('b'), endpoint('c')]);
    assert.deepEqual(picks(balancer, 6), ['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('serves weights 5:1:1 in exact shares within every 7 consecutive picks', () => {
    const balancer = new RoundRobinBalancer([endpoint('a', 5), endpoint('b', 1), endpoint('c', 1)]);
    const ids = picks(balancer, 700);
    for (let start = 0; start + 7 <= ids.length; start++) {
      assert.deepEqual(tally(ids.slice(start, start + 7)), { a: 5, b: 1, c: 1 }, `window at ${start}`);
    }
  });

  it('interleaves weights 5:1:1 smoothly instead of sending bursts to the heavy endpoint', () => {
    const balancer = new RoundRobinBalancer([endpoint('a', 5), endpoint('b', 1), endpoint('c', 1)]);
    const ids = picks(balancer, 700);
    // A bursty rotation would send 5 in a row (a a a a a b c); the smooth one never more than 4.
    assert.ok(longestRun(ids, 'a') <= 4, `longest run of a: ${longestRun(ids, 'a')}`);
    for (let i = 1; i < ids.length; i++) {
      assert.ok(!(ids[i] !== 'a' && ids[i - 1] !== 'a'), `light endpoints back to back at ${i}`);
    }
  });

  it('skips an endpoint that has not passed a health check yet', () => {
    const fresh = new Endpoint('fresh', '192.0.2.200:80', 1, { connect: 1000, keepAlive: 4000 });
    track(fresh);
    const balancer = new RoundRobinBalancer([endpoint('a'), fresh, endpoint('c')]);
    assert.deepEqual(tally(picks(balancer, 100)), { a: 50, c: 50 });
  });

  it('skips an endpoint marked unhealthy', () => {
    const b = endpoint('b');
    b.markUnhealthy();
    const balancer = new RoundRobinBalancer([endpoint('a'), b, endpoint('c')]);
    assert.deepEqual(tally(picks(balancer, 100)), { a: 50, c: 50 });
  });

  it('skips a draining endpoint', () => {
    const b = endpoint('b');
    b.draining = true;
    const balancer = new RoundRobinBalancer([endpoint('a'), b, endpoint('c')]);
    assert.deepEqual(tally(picks(balancer, 100)), { a: 50, c: 50 });
  });

  it('skips an endpoint while it is ejected and uses it again once the ejection has ended', () => {
    const b = endpoint('b');
    b.ejectedUntil = NOW + 1;
    const balancer = new RoundRobinBalancer([endpoint('a'), b, endpoint('c')]);
    assert.deepEqual(tally(picks(balancer, 100, ctx(NOW))), { a: 50, c: 50 });
    assert.deepEqual(tally(picks(balancer, 90, ctx(NOW + 1))), { a: 30, b: 30, c: 30 });
  });

  it('skips the endpoints this request already tried', () => {
    const a = endpoint('a');
    const b = endpoint('b');
    const balancer = new RoundRobinBalancer([a, b, endpoint('c')]);
    assert.deepEqual(tally(picks(balancer, 30, ctx(NOW, [a, b]))), { c: 30 });
  });

  it('returns undefined when no endpoint is available', () => {
    const a = endpoint('a');
    const b = endpoint('b');
    const c = endpoint('c');
    a.draining = true;
    b.markUnhealthy();
    c.ejectedUntil = NOW + 10_000;
    assert.equal(new RoundRobinBalancer([a, b, c]).pick(ctx()), undefined);
    const d = endpoint('d');
    assert.equal(new RoundRobinBalancer([d]).pick(ctx(NOW, [d])), undefined);
  });

  it('returns undefined for a release with no endpoints', () => {
    assert.equal(new RoundRobinBalancer([]).pick(ctx()), undefined);
  });

  it('never picks a zero-weight endpoint while another is available', () => {
    const balancer = new RoundRobinBalancer([endpoint('zero', 0), endpoint('a'), endpoint('b', 3)]);
    assert.deepEqual(tally(picks(balancer, 400)), { a: 100, b: 300 });
  });

  it('grows the share of a slow-starting endpoint as its ramp advances', () => {
    const steady = endpoint('steady');
    const rookie = new Endpoint('rookie', '192.0.2.201:80', 1, { connect: 1000, keepAlive: 4000 });
    track(rookie);
    rookie.slowStartMs = 10_000;
    rookie.markHealthy(NOW);
    const balancer = new RoundRobinBalancer([steady, rookie]);
    const share = (now: number) => (tally(picks(balancer, 1100, ctx(now)))['rookie'] ?? 0) / 1100;
    const atStart = share(NOW); // 0.1 / 1.1
    const halfway = share(NOW + 5_000); // 0.5 / 1.5
    const done = share(NOW + 10_000); // 1 / 2
    assert.ok(Math.abs(atStart - 1 / 11) < 0.01, `share at start: ${atStart}`);
    assert.ok(Math.abs(halfway - 1 / 3) < 0.01, `share halfway: ${halfway}`);
    assert.ok(Math.abs(done - 1 / 2) < 0.01, `share when done: ${done}`);
    assert.ok(atStart < halfway && halfway < done);
  });

  it('precomputes the repeating sequence of whole-number weights, and none for fractional ones', () => {
    assert.deepEqual([...scheduleOf([5, 1, 1])!], [0, 0, 1, 0, 2, 0, 0]);
    assert.deepEqual([...scheduleOf([2, 0, 2])!], [0, 2], 'weights divided by their gcd, zero weights left out');
    assert.equal(scheduleOf([0.5, 1]), null);
    assert.equal(scheduleOf([0, 0]), null);
  });

  it('keeps exact shares when an endpoint is ejected mid-sequence and again once it is back', () => {
    const b = endpoint('b', 2);
    const balancer = new RoundRobinBalancer([endpoint('a'), b, endpoint('c')]);
    assert.deepEqual(tally(picks(balancer, 400)), { a: 100, b: 200, c: 100 });
    b.ejectedUntil = NOW + 1000;
    // The pick that meets b switches to full passes: the rest split evenly from there on.
    const during = picks(balancer, 401).slice(1);
    assert.deepEqual(tally(during), { a: 200, c: 200 });
    // Back in rotation: after the next check, the precomputed sequence again, with b's double share.
    const after = picks(balancer, 4000, ctx(NOW + 1000)).slice(-2000);
    assert.deepEqual(tally(after), { a: 500, b: 1000, c: 500 });
  });
});
