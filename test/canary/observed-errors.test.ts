// Specification of what the canary analysis sees of failures, through a real in-process proxy recording
// into the real metrics: each request counts once, against the release that answered or failed it,
// and the verdict on those totals is what the controller's analysis would decide.
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { deploySchema } from '../../src/config/deploy-schema.js';
import { judge } from '../../src/deploy/analysis/judge.js';
import { RequestMetrics } from '../../src/metrics/request-metrics.js';
import { emptyTotals, errorStatusMatcher, type WindowTotals } from '../../src/metrics/rolling-window.js';
import type { ReleaseSpec } from '../../src/proxy/routing-table.js';
import { refusedPort, startBackend, type Backend, type Handler } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';

const agent = new Agent({ connections: 8 });
const analysis = deploySchema.parse({ analysis: { minRequests: 20, maxErrorRate: '1%' } }).analysis;
const isError = errorStatusMatcher(analysis.errorStatuses);
// Outlier detection off: every request keeps going where the weights send it.
const NO_EJECTION = { outlier: { consecutiveFailures: 1_000_000, baseEjectionTime: 1, maxEjectionTime: 1, maxEjectionPercent: 0 } };

function release(name: string, weight: number, address: string): ReleaseSpec {
  return { name, weight, endpoints: [{ id: address, address, weight: 1, healthy: true, healthySince: 0 }] };
}

/** A backend that answers `status` with a version body. */
function answering(status: number): Handler {
  return (req, res, backend) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ version: backend.name }));
    });
  };
}

/** A backend that cuts the connection as soon as a request arrives (a crashing handler). */
const resetting: Handler = (req) => req.socket.destroy();

describe('the failures the canary analysis sees', () => {
  let proxy: RunningProxy | undefined;
  const backends: Backend[] = [];
  afterEach(async () => {
    await proxy?.close();
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });
  after(() => agent.close());

  async function setUp(canaryAddress: string): Promise<{ metrics: RequestMetrics; stable: Backend }> {
    const stable = await startBackend('v1', answering(200));
    backends.push(stable);
    const metrics = new RequestMetrics();
    proxy = await startProxy({ services: [serviceSpec([release('v1', 50, stable.address), release('v2', 50, canaryAddress)], NO_EJECTION)] }, { observer: metrics });
    return { metrics, stable };
  }

  async function send(count: number, method: 'GET' | 'POST'): Promise<Record<number, number>> {
    const statuses: Record<number, number> = {};
    for (let i = 0; i < count; i++) {
      const res = await request(`${proxy!.url}/`, { dispatcher: agent, method, body: method === 'POST' ? '{"order":1}' : undefined });
      await res.body.dump();
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    }
    return statuses;
  }

  /** The last minute of a release's window, as the controller's analysis reads it; empty when it saw nothing. */
  function totalsOf(metrics: RequestMetrics, name: string): WindowTotals {
    const now = Math.floor(Date.now() / 1000);
    return metrics.series.get('web')?.get(name)?.window.totals(now - 60, now, isError) ?? emptyTotals();
  }

  it('counts a canary that answers 500 once per request, and fails it', async () => {
    const canary = await startBackend('v2', answering(500));
    backends.push(canary);
    const { metrics } = await setUp(canary.address);
    assert.deepEqual(await send(80, 'GET'), { 200: 40, 500: 40 });
    const c = totalsOf(metrics, 'v2');
    assert.deepEqual([c.requests, c.errors, c.upstreamErrors], [40, 40, 0]);
    assert.equal(totalsOf(metrics, 'v1').errors, 0);
    assert.equal(judge(c, totalsOf(metrics, 'v1'), analysis).outcome, 'fail');
  });

  it(
    'counts a canary request that failed upstream (a 502 to the client) as one error, not two, and fails the canary',
    async () => {
      const canary = await startBackend('v2', resetting);
      backends.push(canary);
      const { metrics } = await setUp(canary.address);
      // POSTs that reached the app are never replayed (invariant 5): the client gets the 502.
      assert.deepEqual(await send(80, 'POST'), { 200: 40, 502: 40 });
      const c = totalsOf(metrics, 'v2');
      assert.equal(c.requests, 40);
      assert.equal(c.upstreamErrors, 40);
      assert.equal(c.errors, 40, 'each failed request is one error');
      const verdict = judge(c, totalsOf(metrics, 'v1'), analysis);
      assert.equal(verdict.outcome, 'fail', verdict.summary);
      assert.match(verdict.summary, /canary error rate 100\.0% \(40\/40\)/);
    },
  );

  it(
    'charges an upstream failure to the canary that failed, not to the stable release a retry reached',
    async () => {
      const { metrics } = await setUp(`127.0.0.1:${await refusedPort()}`);
      // Connection refused is safe to retry: every client gets a 200 from stable.
      assert.deepEqual(await send(80, 'GET'), { 200: 80 });
      const s = totalsOf(metrics, 'v1');
      assert.equal(s.errors, 0, `stable answered every request well, but its window holds ${s.errors} errors`);
      const c = totalsOf(metrics, 'v2');
      assert.ok(c.upstreamErrors >= 40, `the canary's window holds ${c.upstreamErrors} upstream errors, not its refused connections`);
      assert.notEqual(judge(c, s, analysis).outcome, 'inconclusive', 'a canary refusing every connection is not "waiting for data"');
    },
  );
});
