// Specification of load balancing through a real proxy: how requests spread over a release's endpoints
// for each algorithm, counted by the x-backend header real backends answer with.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, afterEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import type { ServicePolicy } from '../../src/proxy/routing-table.js';
import { echoName, startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';

const agent = new Agent({ connections: 64 });

async function get(url: string, headers: Record<string, string> = {}, dispatcher: Agent = agent): Promise<string> {
  const res = await request(url, { headers, dispatcher });
  const body = await res.body.text();
  assert.equal(res.statusCode, 200, `status ${res.statusCode}: ${body}`);
  return String(res.headers['x-backend']);
}

function tally(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** A fixed number of requests sent by `concurrency` workers; returns which backend answered each. */
async function load(url: string, total: number, concurrency: number): Promise<string[]> {
  const answered: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      answered.push(await get(url));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answered;
}

/** Answers after `ms`, like echoName. */
function slowEcho(ms: number) {
  return (req: IncomingMessage, res: ServerResponse, backend: Backend) => {
    setTimeout(() => echoName(req, res, backend), ms);
  };
}

describe('load balancing', () => {
  let backends: Backend[] = [];
  let proxy: RunningProxy | undefined;

  async function serve(names: string[], policy: Partial<ServicePolicy>, weights: number[] = []): Promise<RunningProxy> {
    backends = await Promise.all(names.map((name) => startBackend(name)));
    const endpoints = backends.map((b, i) => ({ id: b.address, address: b.address, weight: weights[i] ?? 1, healthy: true, healthySince: 0 }));
    proxy = await startProxy({ services: [serviceSpec([{ name: 'v1', weight: 100, endpoints }], policy)] });
    return proxy;
  }

  afterEach(async () => {
    await proxy?.close();
    await Promise.all(backends.map((b) => b.close()));
    proxy = undefined;
    backends = [];
  });
  after(() => agent.close());

  describe('round-robin', () => {
    it('spreads 300 sequential requests over 3 backends exactly 100 each', async () => {
      const { url } = await serve(['a', 'b', 'c'], { balance: 'round-robin' });
      const answered = await load(url, 300, 1);
      assert.deepEqual(tally(answered), { a: 100, b: 100, c: 100 });
    });

    it('gives backends with weights 3 and 1 exactly 300 and 100 of 400 requests, interleaved', async () => {
      const { url } = await serve(['heavy', 'light'], { balance: 'round-robin' }, [3, 1]);
      const answered = await load(url, 400, 1);
      assert.deepEqual(tally(answered), { heavy: 300, light: 100 });
      // Smooth weighted round-robin: never more than three in a row on the heavy one.
      assert.doesNotMatch(answered.map((n) => n[0]).join(''), /hhhh/);
    });
  });

  for (const balance of ['least-connections', 'random-two'] as const) {
    describe(balance, () => {
      it('steers most of 200 requests from 20 concurrent clients away from a backend that holds each for 300 ms', async () => {
        backends = [await startBackend('slow', slowEcho(300)), await startBackend('fast1'), await startBackend('fast2')];
        const endpoints = backends.map((b) => ({ id: b.address, address: b.address, weight: 1, healthy: true, healthySince: 0 }));
        proxy = await startProxy({ services: [serviceSpec([{ name: 'v1', weight: 100, endpoints }], { balance })] });
        const counts = tally(await load(proxy.url, 200, 20));
        const slow = counts.slow ?? 0;
        const fast = Math.min(counts.fast1 ?? 0, counts.fast2 ?? 0);
        // Round-robin would give each about 67; the slow one should get a small fraction.
        assert.ok(slow < 200 * 0.2, `slow got ${slow} of 200 (${JSON.stringify(counts)})`);
        assert.ok(slow * 2 < fast, `slow got ${slow}, the least loaded fast one ${fast}`);
      });
    });
  }

  describe('hash', () => {
    it('sends every request with the same x-user-id to the same backend, and different users over several', async () => {
      const { url } = await serve(['a', 'b', 'c'], { balance: 'hash', hashKey: { kind: 'header', name: 'x-user-id' } });
      const owner = new Map<string, string>();
      for (let round = 0; round < 4; round++) {
        for (let user = 0; user < 60; user++) {
          const backend = await get(url, { 'x-user-id': `user-${user}` });
          const first = owner.get(`user-${user}`);
          if (first === undefined) owner.set(`user-${user}`, backend);
          else assert.equal(backend, first, `user-${user} moved from ${first} to ${backend} in round ${round}`);
        }
      }
      assert.equal(Object.keys(tally([...owner.values()])).length, 3, 'the 60 users are spread over all 3 backends');
    });

    it('moves only the keys of a backend that leaves the table: about 1/4 of 400, none between the others', async () => {
      const running = await serve(['a', 'b', 'c', 'd'], { balance: 'hash', hashKey: { kind: 'header', name: 'x-user-id' } });
      const keys = Array.from({ length: 400 }, (_, i) => `key-${i}`);
      const before = new Map<string, string>();
      for (const key of keys) before.set(key, await get(running.url, { 'x-user-id': key }));

      const staying = backends.filter((b) => b.name !== 'd');
      const endpoints = staying.map((b) => ({ id: b.address, address: b.address, weight: 1, healthy: true, healthySince: 0 }));
      running.swap({
        services: [serviceSpec([{ name: 'v1', weight: 100, endpoints }], { balance: 'hash', hashKey: { kind: 'header', name: 'x-user-id' } })],
      });

      let moved = 0;
      for (const key of keys) {
        const now = await get(running.url, { 'x-user-id': key });
        const was = before.get(key)!;
        if (was === 'd') {
          assert.notEqual(now, 'd');
          moved++;
        } else {
          assert.equal(now, was, `${key} moved from ${was} to ${now} although ${was} stayed`);
        }
      }
      assert.ok(moved >= 60 && moved <= 140, `${moved} of 400 keys moved; expected about 100`);
    });

    it('keys on a cookie: the same cookie value always reaches the same backend', async () => {
      const { url } = await serve(['a', 'b', 'c'], { balance: 'hash', hashKey: { kind: 'cookie', name: 'sid' } });
      const owner = new Map<string, string>();
      for (let round = 0; round < 3; round++) {
        for (let session = 0; session < 40; session++) {
          // Other cookies around it do not change the key.
          const cookie = round === 1 ? `theme=dark; sid=s${session}; lang=en` : `sid=s${session}`;
          const backend = await get(url, { cookie });
          const first = owner.get(`s${session}`);
          if (first === undefined) owner.set(`s${session}`, backend);
          else assert.equal(backend, first, `session s${session} moved from ${first} to ${backend}`);
        }
      }
      assert.ok(Object.keys(tally([...owner.values()])).length >= 2, 'different sessions use more than one backend');
    });

    it('keys on the client ip: one address always reaches the same backend, several addresses spread', async () => {
      const { url } = await serve(['a', 'b', 'c'], { balance: 'hash', hashKey: { kind: 'ip' } });
      // All of 127.0.0.0/8 is loopback on Linux, so each agent is a different client address.
      const clients = Array.from({ length: 16 }, (_, i) => new Agent({ localAddress: `127.0.0.${i + 1}` }));
      try {
        const owners: string[] = [];
        for (const client of clients) {
          const answered = [];
          for (let i = 0; i < 5; i++) answered.push(await get(url, {}, client));
          assert.equal(new Set(answered).size, 1, `one client address went to ${answered.join(', ')}`);
          owners.push(answered[0]!);
        }
        assert.ok(new Set(owners).size >= 2, `16 client addresses all went to ${owners[0]}`);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });
  });
});
