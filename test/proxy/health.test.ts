// Specification of health: active checks decide when an endpoint gets traffic (invariant 1), passive
// outlier detection ejects endpoints that keep failing real requests, and slow start ramps a new one up.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, afterEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { HealthChecker, probe, type HealthCheckPolicy, type HealthTarget } from '../../src/health/active-checker.js';
import { Proxy } from '../../src/proxy/proxy.js';
import type { ServicePolicy } from '../../src/proxy/routing-table.js';
import { echoName, refusedPort, startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, testLimits, type RunningProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

const agent = new Agent({ connections: 32 });

interface Answer {
  status: number;
  backend: string | undefined;
  error: string | undefined;
}

async function get(url: string): Promise<Answer> {
  const res = await request(url, { dispatcher: agent });
  await res.body.dump();
  const header = (name: string) => (res.headers[name] === undefined ? undefined : String(res.headers[name]));
  return { status: res.statusCode, backend: header('x-backend'), error: header('x-switchyard-error') };
}

/** `count` requests, `concurrency` at a time. */
async function burst(url: string, count: number, concurrency: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
      answers.push(await get(url));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

/** A backend whose /healthz answers `state.status`; other paths echo its name. */
interface HealthState {
  status: number;
  /** Health checks answered since the last reset, and whether the endpoint was healthy when each arrived. */
  served: { status: number; endpointHealthy: boolean | undefined }[];
  /** Whether the endpoint counted as healthy, read when each check arrives. */
  healthyNow?: () => boolean;
}

async function startCheckedBackend(name: string, state: HealthState): Promise<Backend> {
  return startBackend(name, (req: IncomingMessage, res: ServerResponse, backend: Backend) => {
    if (req.url !== '/healthz') return echoName(req, res, backend);
    state.served.push({ status: state.status, endpointHealthy: state.healthyNow?.() });
    res.statusCode = state.status;
    if (state.status >= 300 && state.status < 400) res.setHeader('location', '/elsewhere');
    res.end();
  });
}

const appRequests = (backend: Backend) => backend.requests.filter((r) => r.url !== '/healthz').length;

function checkPolicy(overrides: Partial<HealthCheckPolicy> = {}): HealthCheckPolicy {
  return { path: '/healthz', interval: 30, timeout: 2000, healthyThreshold: 1, unhealthyThreshold: 1, ...overrides };
}

interface CheckedProxy {
  proxy: Proxy;
  url: string;
  /** The checked target at an address. */
  target: (address: string) => HealthTarget;
}

/**
 * A proxy over endpoints that start unhealthy, wired as the controller wires it: every health change
 * publishes a new table carrying the checker's verdicts, so only a passing check lets traffic in.
 */
async function checkedProxy(health: HealthChecker, addresses: string[], policy: Partial<ServicePolicy> = {}): Promise<CheckedProxy> {
  const proxy = new Proxy({ limits: testLimits, dropServerHeader: false });
  const targets = new Map(addresses.map((address) => [address, { address }]));
  const publish = () => {
    const endpoints = [...targets.values()].map((t) => ({ id: t.address, address: t.address, weight: 1, healthy: health.isHealthy(t), healthySince: health.healthySince(t) }));
    proxy.swap({ services: [serviceSpec([{ name: 'v1', weight: 100, endpoints }], policy)] });
  };
  publish();
  health.onChange(publish);
  const [bound] = await proxy.listen([{ host: '127.0.0.1', port: 0 }]);
  return {
    proxy,
    url: `http://127.0.0.1:${bound!.port}`,
    target: (address) => targets.get(address) ?? assert.fail(`no target ${address}`),
  };
}

describe('health', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  after(() => agent.close());

  async function backends(...states: HealthState[]): Promise<Backend[]> {
    const started = await Promise.all(states.map((state, i) => startCheckedBackend(`b${i}`, state)));
    cleanups.push(() => Promise.all(started.map((b) => b.close())).then(() => {}));
    return started;
  }

  function checker(): HealthChecker {
    const health = new HealthChecker();
    cleanups.push(() => health.close());
    return health;
  }

  describe('active checks', () => {
    it('sends no request to an endpoint whose /healthz answers 503, and sends traffic once it answers 200', async () => {
      const sick: HealthState = { status: 503, served: [] };
      const well: HealthState = { status: 200, served: [] };
      const [a, b] = await backends(sick, well);
      const health = checker();
      const { proxy, url, target } = await checkedProxy(health, [a!.address, b!.address]);
      cleanups.push(() => proxy.close(1000).then(() => {}));

      const beforeChecks = await get(url);
      assert.equal(beforeChecks.status, 503, 'nothing is routable before any check passed');
      assert.equal(beforeChecks.error, 'no_healthy_endpoint');

      for (const address of [a!.address, b!.address]) health.watch(target(address), checkPolicy());
      await Promise.all([health.firstProbe(target(a!.address)), health.firstProbe(target(b!.address))]);

      const answers = await burst(url, 40, 4);
      assert.deepEqual(new Set(answers.map((x) => `${x.status} ${x.backend}`)), new Set(['200 b1']));
      assert.equal(appRequests(a!), 0, 'the failing backend got no proxied request');

      sick.status = 200;
      await waitFor(async () => (await get(url)).backend === 'b0', { message: 'traffic on the recovered backend' });
    });

    it('takes an endpoint out after unhealthyThreshold failures in a row and back after healthyThreshold successes', async () => {
      const state: HealthState = { status: 200, served: [] };
      const [backend] = await backends(state);
      const health = checker();
      const target = { address: backend!.address };
      state.healthyNow = () => health.isHealthy(target);
      const changes: { healthy: boolean; served: HealthState['served'] }[] = [];
      health.onChange((_e, healthy) => changes.push({ healthy, served: [...state.served] }));
      health.watch(target, checkPolicy({ healthyThreshold: 2, unhealthyThreshold: 3 }));

      await waitFor(() => changes.length === 1, { message: 'healthy' });
      assert.equal(changes[0]!.healthy, true);
      assert.equal(changes[0]!.served.length, 2, 'healthy after exactly 2 passing checks');

      state.served = [];
      state.status = 500;
      await waitFor(() => changes.length === 2, { message: 'unhealthy' });
      assert.equal(changes[1]!.healthy, false);
      assert.deepEqual(
        changes[1]!.served,
        [1, 2, 3].map(() => ({ status: 500, endpointHealthy: true })),
        'still healthy through the first 3 failures; out right after the third',
      );

      state.served = [];
      state.status = 200;
      await waitFor(() => changes.length === 3, { message: 'healthy again' });
      assert.equal(changes[2]!.healthy, true);
      assert.deepEqual(changes[2]!.served, [
        { status: 200, endpointHealthy: false },
        { status: 200, endpointHealthy: false },
      ]);
    });

    it('checks by TCP connect when no path is set: a listening port is healthy, a refused one is not', async () => {
      const state: HealthState = { status: 200, served: [] };
      const [backend] = await backends(state);
      const closed = `127.0.0.1:${await refusedPort()}`;
      const health = checker();
      const open = { address: backend!.address };
      const refused = { address: closed };
      const policy = checkPolicy({ path: null });
      health.watch(open, policy);
      health.watch(refused, policy);
      await Promise.all([health.firstProbe(open), health.firstProbe(refused)]);

      assert.equal(health.isHealthy(open), true);
      assert.equal(health.lastResult(open)?.detail, 'TCP connect');
      assert.equal(backend!.requests.length, 0, 'a TCP check sends no HTTP request');
      assert.equal(health.isHealthy(refused), false);
      assert.equal(health.lastResult(refused)?.detail, 'ECONNREFUSED');

      await backend!.close();
      await waitFor(() => !health.isHealthy(open), { message: 'unhealthy once the port is closed' });
    });

    it('counts a 3xx answer as healthy and a 404 as not', async () => {
      const redirecting: HealthState = { status: 302, served: [] };
      const missing: HealthState = { status: 404, served: [] };
      const [a, b] = await backends(redirecting, missing);
      const health = checker();
      const [ta, tb] = [{ address: a!.address }, { address: b!.address }];
      for (const t of [ta, tb]) health.watch(t, checkPolicy());
      await Promise.all([health.firstProbe(ta), health.firstProbe(tb)]);
      assert.equal(health.isHealthy(ta), true);
      assert.equal(health.lastResult(ta)?.detail, 'HTTP 302');
      assert.equal(health.isHealthy(tb), false);
      assert.equal(health.lastResult(tb)?.detail, 'HTTP 404');
    });

    it('says a check that got no answer timed out (not an error code)', async () => {
      const silent = await startBackend('silent', () => {
        // Reads the request and never answers.
      });
      cleanups.push(() => silent.close());
      const result = await probe(silent.address, { ...checkPolicy(), timeout: 200 });
      assert.deepEqual(result, { ok: false, detail: 'timed out' });
    });
  });

  describe('passive outlier ejection', () => {
    async function proxyOver(addresses: string[], policy: Partial<ServicePolicy>, ejected: string[] = []): Promise<RunningProxy> {
      const running = await startProxy(
        { services: [serviceSpec(addresses, policy)] },
        { events: { onEjected: (_service, e) => ejected.push(e.address) } },
      );
      cleanups.push(() => running.close());
      return running;
    }

    it('ejects a backend answering 500 after consecutiveFailures, sends it nothing meanwhile, and takes it back after baseEjectionTime', async () => {
      const arrivals: number[] = [];
      const bad = await startBackend('bad', (_req, res) => {
        arrivals.push(Date.now());
        res.statusCode = 500;
        res.end('broken');
      });
      const good = await startBackend('good');
      cleanups.push(() => Promise.all([bad.close(), good.close()]).then(() => {}));
      const outlier = { consecutiveFailures: 3, baseEjectionTime: 300, maxEjectionTime: 10_000, maxEjectionPercent: 0.5 };
      const ejected: string[] = [];
      const running = await proxyOver([bad.address, good.address], { outlier }, ejected);
      const badEndpoint = running.proxy.endpoints.get(bad.address)!;

      for (let i = 0; i < 20 && ejected.length === 0; i++) await get(running.url);
      assert.deepEqual(ejected, [bad.address]);
      assert.equal(arrivals.length, 3, 'ejected on the third failure in a row');
      const ejectedUntil = badEndpoint.ejectedUntil;

      // Keep sending until the backend is back (bounded): nothing may reach it before ejectedUntil.
      const answeredWhileEjected: Answer[] = [];
      const deadline = Date.now() + 10_000;
      while (arrivals.length === 3 && Date.now() < deadline) {
        const answer = await get(running.url);
        if (arrivals.length === 3) answeredWhileEjected.push(answer);
      }
      assert.equal(arrivals.length, 4, 'the backend got traffic again after its ejection');
      assert.ok(arrivals[3]! >= ejectedUntil, `a request arrived ${ejectedUntil - arrivals[3]!} ms before the ejection ended`);
      assert.ok(answeredWhileEjected.length > 0);
      assert.ok(answeredWhileEjected.every((x) => x.status === 200 && x.backend === 'good'));
    });

    it('never ejects more than maxEjectionPercent of the endpoints, even when all of them fail', async () => {
      const failing = await Promise.all(
        ['a', 'b', 'c', 'd'].map((name) =>
          startBackend(name, (_req, res) => {
            res.statusCode = 500;
            res.setHeader('x-backend', name);
            res.end();
          }),
        ),
      );
      cleanups.push(() => Promise.all(failing.map((b) => b.close())).then(() => {}));
      const outlier = { consecutiveFailures: 2, baseEjectionTime: 60_000, maxEjectionTime: 60_000, maxEjectionPercent: 0.5 };
      const ejected: string[] = [];
      const running = await proxyOver(
        failing.map((b) => b.address),
        { outlier },
        ejected,
      );
      const endpoints = failing.map((b) => running.proxy.endpoints.get(b.address)!);
      const ejectedNow = () => endpoints.filter((e) => e.ejectedUntil > Date.now()).length;

      const last: Answer[] = [];
      for (let i = 0; i < 40; i++) {
        const answer = await get(running.url);
        assert.equal(answer.status, 500, 'the app answer passes through');
        assert.ok(ejectedNow() <= 2, `${ejectedNow()} of 4 ejected after request ${i + 1}`);
        if (i >= 30) last.push(answer);
      }
      assert.equal(ejected.length, 2, `ejected: ${ejected.join(', ')}`);
      const serving = new Set(last.map((x) => x.backend));
      assert.equal(serving.size, 2, 'the two endpoints left keep all the traffic');
      for (const name of serving) assert.ok(!ejected.includes(failing.find((b) => b.name === name)!.address));
    });
  });

  describe('slow start', () => {
    it('gives a newly healthy endpoint a small share at first and a full share once slowStartMs has passed', async () => {
      const [veteran, fresh] = await Promise.all([startBackend('veteran'), startBackend('fresh')]);
      cleanups.push(() => Promise.all([veteran.close(), fresh.close()]).then(() => {}));
      const endpoints = [
        { id: veteran.address, address: veteran.address, weight: 1, healthy: true, healthySince: Date.now() - 60_000 },
        { id: fresh.address, address: fresh.address, weight: 1, healthy: true, healthySince: Date.now() },
      ];
      const { proxy, url } = await startProxy({ services: [serviceSpec([{ name: 'v1', weight: 100, endpoints }], { slowStartMs: 2000 })] });
      cleanups.push(() => proxy.close(1000).then(() => {}));

      const share = (answers: Answer[]) => answers.filter((x) => x.backend === 'fresh').length / answers.length;
      const first = await burst(url, 200, 20);
      assert.ok(first.every((x) => x.status === 200));
      const firstShare = share(first);
      assert.ok(firstShare > 0.02, `the fresh endpoint got ${firstShare * 100}% at first; it needs some traffic to prove itself`);
      assert.ok(firstShare < 0.3, `the fresh endpoint got ${firstShare * 100}% at first`);

      // After the ramp, round-robin splits evenly again.
      await waitFor(async () => share(await burst(url, 100, 10)) >= 0.45, { message: 'an even share after the ramp' });
    });
  });
});
