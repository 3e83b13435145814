import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';

describe('routing table swaps under load', () => {
  let backends: Backend[];
  let proxy: RunningProxy;

  before(async () => {
    backends = await Promise.all(['a', 'b', 'c'].map((name) => startBackend(name)));
    proxy = await startProxy({ services: [serviceSpec(backends.slice(0, 2).map((b) => b.address))] });
  });
  after(async () => {
    await proxy.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('ends a 5 s load at 50 connections with zero failed requests while the table is swapped every 100 ms', async () => {
    const client = new Pool(proxy.url, { connections: 50 });
    const tables = [
      { services: [serviceSpec([backends[0]!.address, backends[1]!.address])] },
      { services: [serviceSpec([backends[1]!.address, backends[2]!.address])] },
      {
        services: [
          serviceSpec([
            { name: 'v1', weight: 50, endpoints: [{ id: backends[0]!.address, address: backends[0]!.address, weight: 1, healthy: true, healthySince: 0 }] },
            { name: 'v2', weight: 50, endpoints: [{ id: backends[2]!.address, address: backends[2]!.address, weight: 1, healthy: true, healthySince: 0 }] },
          ]),
        ],
      },
    ];
    let swaps = 0;
    const swapper = setInterval(() => proxy.swap(tables[++swaps % tables.length]!), 100);
    const deadline = Date.now() + 5000;
    const failures: string[] = [];
    let ok = 0;
    const worker = async () => {
      // Bounded by time and by count.
      for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
        try {
          const res = await client.request({ path: '/', method: i % 5 === 0 ? 'POST' : 'GET', body: i % 5 === 0 ? 'x'.repeat(100) : undefined });
          const body = await res.body.text();
          if (res.statusCode === 200 && ['a', 'b', 'c'].includes(body)) ok++;
          else failures.push(`${res.statusCode} ${body.slice(0, 80)}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 50 }, worker));
    } finally {
      clearInterval(swapper);
      await client.close();
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed of ${ok + failures.length}`);
    assert.ok(swaps >= 20, `the table was swapped ${swaps} times`);
    assert.ok(ok > 500, `${ok} requests succeeded`);
  });
});
