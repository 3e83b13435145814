// Specification of sticky versions (invariant 8) in a real in-process proxy over two real backends: during
// a split a new client is assigned by weight and keeps its release (by cookie, or by a hashed user key);
// the weights hold over new clients; outside a split the cookie is removed; tester rules come first.
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackend, type Backend } from '../../test/helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../../test/helpers/proxy.js';
import type { RouteRule } from './route-rules.js';
import type { StickyReleasePolicy, TableSpec } from './routing-table.js';

const COOKIE = 'sy-release';
const agent = new Agent({ connections: 32 });

interface Answer {
  release: string;
  /** Every Set-Cookie header of the response, joined by newlines ('' when none). */
  setCookie: string;
}

async function get(url: string, headers: Record<string, string> = {}, path = '/'): Promise<Answer> {
  const res = await request(`${url}${path}`, { dispatcher: agent, headers });
  await res.body.dump();
  assert.equal(res.statusCode, 200);
  const setCookie = res.headers['set-cookie'];
  return { release: String(res.headers['x-backend']), setCookie: Array.isArray(setCookie) ? setCookie.join('\n') : (setCookie ?? '') };
}

/** `sy-release=VALUE` out of a Set-Cookie header, for the next request's Cookie header. */
function cookieFrom(setCookie: string): string {
  const match = new RegExp(`(?:^|\\n)${COOKIE}=([^;]+);`).exec(setCookie);
  assert.ok(match, `expected a ${COOKIE} cookie, got ${JSON.stringify(setCookie)}`);
  return `${COOKIE}=${match[1]}`;
}

/** Runs `task(i)` for i in 0..n-1, `parallel` at a time; results in order. */
async function times<T>(n: number, parallel: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

describe('sticky versions during a canary split', () => {
  let stable: Backend;
  let canary: Backend;
  let proxy: RunningProxy;

  /** A table with releases v1 (stable) and v2 (canary) at these weights; null leaves a release out. */
  function table(weights: { v1: number | null; v2: number | null }, sticky: StickyReleasePolicy | null, rules: RouteRule[] = []): TableSpec {
    const releases = (['v1', 'v2'] as const).flatMap((name) => {
      const weight = weights[name];
      const backend = name === 'v1' ? stable : canary;
      return weight === null ? [] : [{ name, weight, endpoints: [{ id: backend.address, address: backend.address, weight: 1, healthy: true, healthySince: 0 }] }];
    });
    return { services: [serviceSpec(releases, {}, { rules, stickyRelease: sticky })] };
  }

  const byCookie: StickyReleasePolicy = { cookie: COOKIE, hashKey: null };
  const byUser: StickyReleasePolicy = { cookie: COOKIE, hashKey: { kind: 'header', name: 'x-user-id' } };

  beforeEach(async () => {
    [stable, canary] = await Promise.all([startBackend('v1'), startBackend('v2')]);
  });
  afterEach(async () => {
    await proxy.close();
    await Promise.all([stable.close(), canary.close()]);
  });
  after(() => agent.close());

  it('gives a new client a cookie, and the client keeps its release for 50 requests', async () => {
    proxy = await startProxy(table({ v1: 90, v2: 10 }, byCookie));
    // Enough new clients that both releases get some: each keeps what it was given.
    const clients = await times(40, 4, () => get(proxy.url));
    assert.deepEqual(new Set(clients.map((c) => c.release)), new Set(['v1', 'v2']));
    // The clients come back at the same time, each with its own cookie.
    await times(clients.length, 8, async (c) => {
      const client = clients[c]!;
      assert.match(client.setCookie, new RegExp(`^${COOKIE}=[^;]+; Path=/; HttpOnly; SameSite=Lax$`));
      const cookie = cookieFrom(client.setCookie);
      for (let i = 0; i < 50; i++) {
        const next = await get(proxy.url, { cookie });
        assert.equal(next.release, client.release, `request ${i + 1} of a client first given ${client.release}`);
        assert.equal(next.setCookie, '', 'a client holding a valid cookie is not assigned again');
      }
    });
  });

  it('gives the canary about its weight of NEW clients (1000 cookieless clients at 10% → 100 ± 30), returning clients not counted', async () => {
    proxy = await startProxy(table({ v1: 90, v2: 10 }, byCookie));
    const first = await get(proxy.url);
    const returning = cookieFrom(first.setCookie);
    const answers = await times(1000, 10, async (i) => {
      // Between new clients, a returning one keeps coming back: its requests must not skew the new ones' shares.
      if (i % 2 === 0) assert.equal((await get(proxy.url, { cookie: returning })).release, first.release);
      return get(proxy.url);
    });
    const onCanary = answers.filter((a) => a.release === 'v2').length;
    assert.ok(Math.abs(onCanary - 100) <= 30, `${onCanary} of 1000 new clients on the canary`);
    assert.ok(answers.every((a) => a.setCookie !== ''), 'every new client is given the cookie');
  });

  it('with a hash key (x-user-id) keeps each user on one release without cookies, and raising the canary 10 → 50 moves users only onto it', async () => {
    proxy = await startProxy(table({ v1: 90, v2: 10 }, byUser));
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const releaseOf = async (user: string) => {
      const seen = await Promise.all([1, 2, 3].map(() => get(proxy.url, { 'x-user-id': user })));
      assert.equal(new Set(seen.map((s) => s.release)).size, 1, `${user} saw ${seen.map((s) => s.release).join(', ')}`);
      return seen[0]!.release;
    };
    const at10 = await times(users.length, 10, (i) => releaseOf(users[i]!));
    const canaryAt10 = at10.filter((r) => r === 'v2').length;
    assert.ok(canaryAt10 >= 10 && canaryAt10 <= 55, `${canaryAt10} of 300 users on the canary at 10%`);

    proxy.swap(table({ v1: 50, v2: 50 }, byUser));
    const at50 = await times(users.length, 10, (i) => releaseOf(users[i]!));
    const canaryAt50 = at50.filter((r) => r === 'v2').length;
    assert.ok(canaryAt50 >= 110 && canaryAt50 <= 190, `${canaryAt50} of 300 users on the canary at 50%`);
    const movedBack = users.filter((_, i) => at10[i] === 'v2' && at50[i] !== 'v2');
    assert.deepEqual(movedBack, [], 'users on the canary at 10% are still on it at 50%');
    assert.ok(canaryAt50 > canaryAt10);
  });

  it('removes the cookie (Max-Age=0) once the table has one release: after promotion, and after a rollback', async () => {
    proxy = await startProxy(table({ v1: 90, v2: 10 }, byCookie));
    const clients = await times(20, 1, () => get(proxy.url));
    const onStable = cookieFrom(clients.find((c) => c.release === 'v1')!.setCookie);
    const onCanary = cookieFrom(clients.find((c) => c.release === 'v2')!.setCookie);

    // Promoted: only v2 is left; a client of v1 reaches v2 and its cookie is removed.
    proxy.swap(table({ v1: null, v2: 100 }, byCookie));
    for (const cookie of [onStable, onCanary]) {
      const answer = await get(proxy.url, { cookie });
      assert.equal(answer.release, 'v2');
      assert.match(answer.setCookie, new RegExp(`^${COOKIE}=; Path=/; Max-Age=0`));
    }
    assert.equal((await get(proxy.url)).setCookie, '', 'no cookie is handed out without a split');

    // Rolled back: only v1 is left; the canary's client goes back to stable and loses its cookie.
    proxy.swap(table({ v1: 100, v2: null }, byCookie));
    const back = await get(proxy.url, { cookie: onCanary });
    assert.equal(back.release, 'v1');
    assert.match(back.setCookie, new RegExp(`^${COOKIE}=; Path=/; Max-Age=0`));
  });

  it('sends a tester (header x-canary: 1) to the canary at weight 0, everyone else to stable', async () => {
    const rule: RouteRule = { source: 'header', name: 'x-canary', match: { kind: 'equals', value: '1' }, release: 'v2' };
    proxy = await startProxy(table({ v1: 100, v2: 0 }, byCookie, [rule]));
    for (let i = 0; i < 20; i++) {
      assert.equal((await get(proxy.url, { 'x-canary': '1' })).release, 'v2');
      assert.equal((await get(proxy.url)).release, 'v1');
      assert.equal((await get(proxy.url, { 'x-canary': '0' })).release, 'v1');
    }
  });

  it('lets a tester rule win over a sticky cookie during a split', async () => {
    const rule: RouteRule = { source: 'header', name: 'x-canary', match: { kind: 'equals', value: '1' }, release: 'v2' };
    proxy = await startProxy(table({ v1: 90, v2: 10 }, byCookie, [rule]));
    const clients = await times(10, 1, () => get(proxy.url));
    const onStable = cookieFrom(clients.find((c) => c.release === 'v1')!.setCookie);
    assert.equal((await get(proxy.url, { cookie: onStable, 'x-canary': '1' })).release, 'v2');
    assert.equal((await get(proxy.url, { cookie: onStable })).release, 'v1');
  });
});
