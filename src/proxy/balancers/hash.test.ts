// Specification of weighted rendezvous hashing: stable per key, even, weighted, minimal movement.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { destroyEndpoints, endpoint } from '../../../test/fixtures/endpoints.js';
import type { Endpoint } from '../endpoint.js';
import { fnv1a } from '../hashing.js';
import type { PickContext } from './balancer.js';
import { HashBalancer } from './hash.js';

const NOW = 1_000_000;
const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);


function ctx(key: string, exclude: readonly Endpoint[] | null = null): PickContext {
  return { now: NOW, keyHash: fnv1a(key), exclude };
}

/** Where each key goes. */
function assign(balancer: HashBalancer, keys: readonly string[] = KEYS): Map<string, string> {
  const owners = new Map<string, string>();
  for (const key of keys) owners.set(key, balancer.pick(ctx(key))?.id ?? 'none');
  return owners;
}

function tally(owners: ReadonlyMap<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of owners.values()) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

function within(actual: number, expected: number, tolerance: number): boolean {
  return Math.abs(actual - expected) <= expected * tolerance;
}

after(destroyEndpoints);

describe('hash balancer (weighted rendezvous)', () => {
  it('sends the same key to the same endpoint every time', () => {
    const balancer = new HashBalancer([endpoint('web/1'), endpoint('web/2'), endpoint('web/3')]);
    const first = assign(balancer, KEYS.slice(0, 1000));
    assert.deepEqual(assign(balancer, KEYS.slice(0, 1000)), first);
  });

  it('sends a key to the same endpoint whatever the order of endpoints in the table', () => {
    const endpoints = [endpoint('web/1'), endpoint('web/2'), endpoint('web/3'), endpoint('web/4')];
    const forward = assign(new HashBalancer(endpoints), KEYS.slice(0, 2000));
    const reversed = assign(new HashBalancer([...endpoints].reverse()), KEYS.slice(0, 2000));
    assert.deepEqual(reversed, forward);
  });

  it('spreads 10,000 keys over 4 equal endpoints within ±15% of a quarter each', () => {
    const balancer = new HashBalancer([endpoint('web/1'), endpoint('web/2'), endpoint('web/3'), endpoint('web/4')]);
    const counts = tally(assign(balancer));
    assert.equal(Object.keys(counts).length, 4);
    for (const [id, n] of Object.entries(counts)) assert.ok(within(n, 2500, 0.15), `${id} got ${n}`);
  });

  it('moves only the keys of an endpoint that leaves the table, about a fifth of them', () => {
    const endpoints = ['web/1', 'web/2', 'web/3', 'web/4', 'web/5'].map((id) => endpoint(id));
    const before = assign(new HashBalancer(endpoints));
    const afterLeave = assign(new HashBalancer(endpoints.filter((e) => e.id !== 'web/3')));
    let moved = 0;
    const movedTo: Record<string, number> = {};
    for (const [key, owner] of before) {
      const current = afterLeave.get(key)!;
      if (owner === current) continue;
      moved++;
      assert.equal(owner, 'web/3', `${key} moved from ${owner} to ${current}`);
      movedTo[current] = (movedTo[current] ?? 0) + 1;
    }
    assert.equal(moved, tally(before)['web/3']);
    assert.ok(within(moved, 2000, 0.15), `${moved} keys moved`);
    // The leaving endpoint's keys spread over all the others rather than landing on one neighbour.
    for (const id of ['web/1', 'web/2', 'web/4', 'web/5']) {
      assert.ok(within(movedTo[id] ?? 0, moved / 4, 0.25), `${id} took ${movedTo[id]} of ${moved}`);
    }
  });

  it('moves only the keys of an endpoint that becomes unavailable, and moves them back when it returns', () => {
    const endpoints = ['web/1', 'web/2', 'web/3', 'web/4', 'web/5'].map((id) => endpoint(id));
    const balancer = new HashBalancer(endpoints);
    const before = assign(balancer);
    endpoints[1]!.ejectedUntil = NOW + 30_000;
    const during = assign(balancer);
    for (const [key, owner] of before) {
      if (owner !== 'web/2') assert.equal(during.get(key), owner, key);
      else assert.notEqual(during.get(key), 'web/2', key);
    }
    endpoints[1]!.ejectedUntil = 0;
    assert.deepEqual(assign(balancer), before);
  });

  it('moves to the new endpoint only the keys it takes when an endpoint joins', () => {
    const endpoints = ['web/1', 'web/2', 'web/3', 'web/4'].map((id) => endpoint(id));
    const before = assign(new HashBalancer(endpoints));
    const afterJoin = assign(new HashBalancer([...endpoints, endpoint('web/5')]));
    let moved = 0;
    for (const [key, owner] of before) {
      const current = afterJoin.get(key)!;
      if (owner === current) continue;
      moved++;
      assert.equal(current, 'web/5', `${key} moved from ${owner} to ${current}`);
    }
    assert.ok(within(moved, 2000, 0.15), `${moved} keys moved`);
  });

  it('gives endpoints weighted 2:1 about two thirds and one third of the keys', () => {
    const balancer = new HashBalancer([endpoint('heavy', 2), endpoint('light', 1)]);
    const counts = tally(assign(balancer));
    assert.ok(Math.abs((counts['heavy'] ?? 0) / KEYS.length - 2 / 3) < 0.03, `heavy got ${counts['heavy']}`);
    assert.ok(Math.abs((counts['light'] ?? 0) / KEYS.length - 1 / 3) < 0.03, `light got ${counts['light']}`);
  });

  it('gives a zero-weight endpoint no keys', () => {
    const balancer = new HashBalancer([endpoint('zero', 0), endpoint('a'), endpoint('b')]);
    assert.equal(tally(assign(balancer, KEYS.slice(0, 1000)))['zero'], undefined);
  });

  it('on a retry, sends a key to its next endpoint, the same one every time', () => {
    const endpoints = ['web/1', 'web/2', 'web/3', 'web/4'].map((id) => endpoint(id));
    const balancer = new HashBalancer(endpoints);
    for (const key of KEYS.slice(0, 200)) {
      const first = balancer.pick(ctx(key))!;
      const second = balancer.pick(ctx(key, [first]));
      assert.ok(second !== undefined && second !== first, key);
      assert.equal(balancer.pick(ctx(key, [first])), second, key);
    }
  });

  it('skips unavailable endpoints and returns undefined when none is available', () => {
    const a = endpoint('a');
    const b = endpoint('b');
    const c = endpoint('c');
    a.markUnhealthy();
    b.draining = true;
    const balancer = new HashBalancer([a, b, c]);
    assert.deepEqual(tally(assign(balancer, KEYS.slice(0, 500))), { c: 500 });
    c.ejectedUntil = NOW + 1;
    assert.equal(balancer.pick(ctx('user-1')), undefined);
    assert.equal(new HashBalancer([]).pick(ctx('user-1')), undefined);
  });
});
