// Invariant 6 under load: the table is swapped every 50 ms while 50 connections send GETs and POSTs, and
// some tables hold a dead endpoint so that requests are retried. Every attempt records the version of
// the table it routed by; its release must be that table's, and its endpoint that release's. A request
// that saw parts of two tables (say, the release of one and the endpoints of the next) fails the test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import type { Endpoint } from '../../src/proxy/endpoint.js';
import type { Exchange } from '../../src/proxy/exchange.js';
import type { Attempted, ExchangeObserver } from '../../src/proxy/proxy-context.js';
import type { ServiceRoute, TableSpec } from '../../src/proxy/routing-table.js';
import { refusedPort, startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';

interface Attempt {
  version: number;
  release: string;
  endpoint: string;
  /** The attempt's release and endpoint are objects of the service route of that version. */
  coherent: boolean;
}

const attempts = new Map<string, Attempt[]>();

function record(requestId: string, service: ServiceRoute | null, release: string, endpoint: Endpoint | null): void {
  const route = service?.releases.find((r) => r.name === release);
  const coherent = route !== undefined && endpoint !== null && route.endpoints.includes(endpoint);
  let list = attempts.get(requestId);
  if (list === undefined) attempts.set(requestId, (list = []));
  list.push({ version: service?.tableVersion ?? -1, release, endpoint: endpoint?.address ?? '', coherent });
}

const observer: ExchangeObserver = {
  onExchangeEnd: (x: Exchange) => record(x.requestId, x.service, x.release?.name ?? '', x.endpoint),
  onAttemptFailed: (a: Attempted, endpoint: Endpoint, release: string) => record((a as Exchange).requestId, a.service, release, endpoint),
};

describe('routing table swaps under load (invariant 6)', () => {
  let backends: Backend[];
  let dead: string;
  let proxy: RunningProxy;

  before(async () => {
    backends = await Promise.all(['a', 'b', 'c'].map((name) => startBackend(name)));
    dead = `127.0.0.1:${await refusedPort()}`;
    proxy = await startProxy({ services: [serviceSpec(backends.slice(0, 2).map((b) => b.address))] }, { observer });
  });
  after(async () => {
    await proxy.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  it('routes every attempt of 50 connections by exactly one table while the table is swapped every 50 ms', async () => {
    const [a, b, c] = backends.map((x) => x.address) as [string, string, string];
    const policy = {
      // The dead endpoint stays in rotation (never ejected) and retries are never short of budget.
      outlier: { consecutiveFailures: 1_000_000, baseEjectionTime: 1, maxEjectionTime: 1, maxEjectionPercent: 1 },
      retryBudget: { ratio: 1, minPerSecond: 100_000 },
      retries: 3,
    };
    const release = (name: string, weight: number, addresses: string[]) => ({
      name,
      weight,
      endpoints: addresses.map((address) => ({ id: address, address, weight: 1, healthy: true, healthySince: 0 })),
    });
    const specs: TableSpec[] = [
      { services: [serviceSpec([release('r1', 100, [a, b])], policy)] },
      { services: [serviceSpec([release('r2', 100, [b, c, dead])], policy)] },
      { services: [serviceSpec([release('r1', 50, [a]), release('r3', 50, [c, dead])], policy)] },
      { services: [serviceSpec([release('r4', 100, [c])], policy)] },
    ];
    /** Version → release name → endpoint addresses, as each swapped-in table was built. */
    const tables = new Map<number, Map<string, string[]>>();
    const swap = (spec: TableSpec) => {
      const table = proxy.swap(spec);
      tables.set(table.version, new Map(spec.services[0]!.releases.map((r) => [r.name, r.endpoints.map((e) => e.address)])));
    };
    swap(specs[0]!);
    let swaps = 0;
    const swapper = setInterval(() => swap(specs[++swaps % specs.length]!), 50);
    const client = new Pool(proxy.url, { connections: 50 });
    const deadline = Date.now() + 5000;
    const failures: string[] = [];
    const answeredBy = new Map<string, string>();
    let sent = 0;
    const worker = async (w: number) => {
      // Bounded by time and by count.
      for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
        const id = `w${w}-${i}`;
        sent++;
        try {
          const post = i % 5 === 0;
          const res = await client.request({ path: '/', method: post ? 'POST' : 'GET', headers: { 'x-request-id': id }, body: post ? 'x'.repeat(100) : undefined });
          const body = await res.body.text();
          if (res.statusCode === 200) answeredBy.set(id, body);
          else failures.push(`${id}: ${res.statusCode} ${body.slice(0, 80)}`);
        } catch (err) {
          failures.push(`${id}: ${String(err)}`);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 50 }, (_, w) => worker(w)));
    } finally {
      clearInterval(swapper);
      await client.close();
    }
    // A POST whose only endpoint refused it may fail when its retries all hit the dead one; none may
    // fail otherwise. Every failure is listed.
    const unexpected = failures.filter((f) => !f.includes('upstream_connect_failed'));
    assert.deepEqual(unexpected.slice(0, 5), [], `${unexpected.length} of ${sent} failed`);

    const nameOf = new Map(backends.map((x) => [x.address, x.name]));
    let checked = 0;
    let retried = 0;
    const versionsSeen = new Set<number>();
    for (const [id, list] of attempts) {
      for (const attempt of list) {
        const table = tables.get(attempt.version);
        assert.ok(table !== undefined, `${id}: routed by table ${attempt.version}, which was never swapped in`);
        assert.ok(table.get(attempt.release)?.includes(attempt.endpoint), `${id}: attempt routed by table ${attempt.version} went to ${attempt.endpoint} of release ${attempt.release}, not in that table: ${JSON.stringify([...table])}`);
        assert.ok(attempt.coherent, `${id}: release ${attempt.release} and endpoint ${attempt.endpoint} are not both of the table ${attempt.version} route`);
        versionsSeen.add(attempt.version);
        checked++;
      }
      if (list.length > 1) retried++;
      // The answer came from the endpoint the final attempt recorded.
      const body = answeredBy.get(id);
      if (body !== undefined) assert.equal(body, nameOf.get(list.at(-1)!.endpoint), `${id}: answered by ${body}, recorded ${list.at(-1)!.endpoint}`);
    }
    assert.equal(attempts.size, sent, 'every request was recorded');
    assert.ok(swaps >= 20, `the table was swapped ${swaps} times`);
    assert.ok(versionsSeen.size >= 10, `requests routed by ${versionsSeen.size} different tables`);
    assert.ok(retried > 0, 'some requests were retried (each attempt by the table current then)');
    assert.ok(checked > sent, `${checked} attempts checked for ${sent} requests`);
  });
});
