// Specification of sticky sessions: a cookie pins a client to one endpoint (an opaque key, never its
// address); when that endpoint is gone or unhealthy the client moves to another and gets a new cookie.
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';

const agent = new Agent();

interface Answer {
  backend: string;
  /** The Set-Cookie header, if the proxy sent one. */
  setCookie: string | undefined;
}

async function get(url: string, cookie?: string): Promise<Answer> {
  const res = await request(url, { dispatcher: agent, headers: cookie === undefined ? {} : { cookie } });
  await res.body.dump();
  assert.equal(res.statusCode, 200);
  const setCookie = res.headers['set-cookie'];
  return { backend: String(res.headers['x-backend']), setCookie: Array.isArray(setCookie) ? setCookie.join('\n') : setCookie };
}

/** `sy=VALUE` out of a Set-Cookie header. */
function cookiePair(setCookie: string | undefined): string {
  const match = /^sy=([^;]*)/.exec(setCookie ?? '');
  assert.ok(match, `expected a sy cookie, got ${setCookie}`);
  return `sy=${match[1]}`;
}

describe('sticky sessions', () => {
  let backends: Backend[];
  let proxy: RunningProxy;
  const spec = (list: Backend[]) => ({ services: [serviceSpec(list.map((b) => b.address), { sticky: { cookie: 'sy' } })] });

  beforeEach(async () => {
    backends = await Promise.all(['a', 'b', 'c'].map((name) => startBackend(name)));
    proxy = await startProxy(spec(backends));
  });
  afterEach(async () => {
    await proxy.close();
    await Promise.all(backends.map((b) => b.close()));
  });
  after(() => agent.close());

  it('sets a cookie on the first response whose value reveals neither the backend address nor its port', async () => {
    const first = await get(proxy.url);
    assert.match(first.setCookie ?? '', /^sy=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const value = cookiePair(first.setCookie).slice('sy='.length);
    for (const b of backends) {
      assert.ok(!value.includes(String(b.port)), `cookie ${value} contains port ${b.port}`);
      assert.ok(!value.includes('127.0.0.1'), `cookie ${value} contains the address`);
    }
  });

  it('sends every follow-up request with the cookie to the same backend, without setting the cookie again', async () => {
    const first = await get(proxy.url);
    const cookie = cookiePair(first.setCookie);
    for (let i = 0; i < 12; i++) {
      const next = await get(proxy.url, `theme=dark; ${cookie}`);
      assert.equal(next.backend, first.backend, `request ${i + 1} left ${first.backend}`);
      assert.equal(next.setCookie, undefined);
    }
    // Without the cookie, round-robin goes on spreading.
    const others = new Set<string>();
    for (let i = 0; i < 6; i++) others.add((await get(proxy.url)).backend);
    assert.equal(others.size, 3);
  });

  it('gives different backends different cookies', async () => {
    const cookies = new Map<string, string>();
    for (let i = 0; i < 3; i++) {
      const answer = await get(proxy.url);
      cookies.set(answer.backend, cookiePair(answer.setCookie));
    }
    assert.equal(cookies.size, 3);
    assert.equal(new Set(cookies.values()).size, 3);
    for (const [backend, cookie] of cookies) assert.equal((await get(proxy.url, cookie)).backend, backend);
  });

  it('moves a client whose backend left the table to another backend, with a new cookie that then sticks', async () => {
    const first = await get(proxy.url);
    const cookie = cookiePair(first.setCookie);
    proxy.swap(spec(backends.filter((b) => b.name !== first.backend)));

    const moved = await get(proxy.url, cookie);
    assert.notEqual(moved.backend, first.backend);
    const newCookie = cookiePair(moved.setCookie);
    assert.notEqual(newCookie, cookie);
    for (let i = 0; i < 6; i++) assert.equal((await get(proxy.url, newCookie)).backend, moved.backend);
  });

  it('moves a client whose backend became unhealthy to another backend, with a new cookie', async () => {
    const first = await get(proxy.url);
    const cookie = cookiePair(first.setCookie);
    const pinned = backends.find((b) => b.name === first.backend)!;
    proxy.proxy.endpoints.get(pinned.address)!.markUnhealthy();

    const moved = await get(proxy.url, cookie);
    assert.notEqual(moved.backend, first.backend);
    assert.notEqual(cookiePair(moved.setCookie), cookie);
    assert.equal(pinned.requests.length, 1, 'the unhealthy backend got nothing more');
  });

  it(
    'keeps a client on its instance while traffic is split 50/50 between two releases (invariant 8)',
    async () => {
      const [a, b] = backends;
      proxy.swap({
        services: [
          serviceSpec(
            [
              { name: 'v1', weight: 50, endpoints: [{ id: a!.address, address: a!.address, weight: 1, healthy: true, healthySince: 0 }] },
              { name: 'v2', weight: 50, endpoints: [{ id: b!.address, address: b!.address, weight: 1, healthy: true, healthySince: 0 }] },
            ],
            { sticky: { cookie: 'sy' } },
          ),
        ],
      });
      const first = await get(proxy.url);
      const cookie = cookiePair(first.setCookie);
      const seen = [];
      for (let i = 0; i < 6; i++) seen.push((await get(proxy.url, cookie)).backend);
      assert.deepEqual(seen, Array.from({ length: 6 }, () => first.backend), 'the client flipped between releases');
    },
  );

  it('treats an unknown or forged cookie value like no cookie: balanced, and given a valid cookie', async () => {
    const answer = await get(proxy.url, 'sy=127.0.0.1%3A1');
    const cookie = cookiePair(answer.setCookie);
    assert.notEqual(cookie, 'sy=127.0.0.1%3A1');
    assert.equal((await get(proxy.url, cookie)).backend, answer.backend);
  });
});
