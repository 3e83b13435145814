// Broken instances (issue 7, point 9): one that accepts connections but never answers, one that answers
// garbage, one that closes mid-body. Each gets the configured timeout or 502, is ejected after
// outlier.consecutiveFailures, and the proxy keeps serving the healthy instance beside it; afterwards
// nothing is left in flight and no upstream connection is left open.
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { garbageUpstream, hangingUpstream, midBodyCloserUpstream, rssOf, type RawUpstream } from '../helpers/hostile.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { parseResponse, RawClient } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

const RESPONSE_TIMEOUT_MS = 500;
const OUTLIER = { consecutiveFailures: 3, baseEjectionTime: 30_000, maxEjectionTime: 60_000, maxEjectionPercent: 0.5 };

interface Answer {
  status: number;
  backend: string | null;
  error: string | null;
  ms: number;
}

describe('bad upstreams beside a healthy one', () => {
  const agent = new Agent({ connections: 16 });
  let healthy: Backend;
  let bad: RawUpstream | undefined;
  let proxy: RunningProxy | undefined;

  afterEach(async () => {
    await proxy?.close();
    await bad?.close();
    await healthy?.close();
    proxy = undefined;
    bad = undefined;
  });
  after(async () => agent.close());

  /** A proxy over [bad, healthy], round-robin, no retries (so each failure is seen), fast response timeout. */
  async function setUp(start: () => Promise<RawUpstream>): Promise<RunningProxy> {
    healthy = await startBackend('healthy');
    bad = await start();
    proxy = await startProxy({
      services: [serviceSpec([bad.address, healthy.address], { retries: 0, outlier: OUTLIER, timeouts: { connect: 1000, response: RESPONSE_TIMEOUT_MS, idle: 2000, keepAlive: 4000 } })],
    });
    return proxy;
  }

  async function get(url: string, method = 'GET'): Promise<Answer> {
    const started = Date.now();
    const res = await request(url, { dispatcher: agent, method, headersTimeout: 10_000, bodyTimeout: 10_000 });
    try {
      await res.body.text();
    } catch (err) {
      // The body was cut: report it as such, not as the status of its head.
      return { status: 0, backend: null, error: String((err as { code?: unknown }).code ?? err), ms: Date.now() - started };
    }
    const backend = res.headers['x-backend'];
    const error = res.headers['x-switchyard-error'];
    return {
      status: res.statusCode,
      backend: typeof backend === 'string' ? backend : null,
      error: typeof error === 'string' ? error : null,
      ms: Date.now() - started,
    };
  }

  function badEndpoint(running: RunningProxy) {
    return running.proxy.endpoints.get(bad!.address)!;
  }

  /** Back to normal: nothing in flight anywhere, and the proxy serves the healthy instance. */
  async function assertRecovered(running: RunningProxy): Promise<void> {
    await waitFor(() => running.proxy.inFlight === 0, { message: 'the proxy to have nothing in flight' });
    for (const endpoint of running.proxy.table.endpoints()) assert.equal(endpoint.inFlight, 0, `${endpoint.address} in flight`);
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(running.url)));
    assert.ok(answers.some((a) => a.status === 200 && a.backend === 'healthy'), JSON.stringify(answers));
  }

  it('answers 504 upstream_timeout after timeouts.response for an instance that never answers, and the healthy one serves meanwhile', async () => {
    const running = await setUp(hangingUpstream);
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(running.url)));
    const timeouts = answers.filter((a) => a.status === 504);
    const served = answers.filter((a) => a.status === 200);
    assert.ok(timeouts.length > 0 && served.length > 0, JSON.stringify(answers));
    assert.equal(timeouts.length + served.length, answers.length, JSON.stringify(answers));
    for (const a of timeouts) {
      assert.equal(a.error, 'upstream_timeout');
      assert.ok(a.ms >= RESPONSE_TIMEOUT_MS - 50 && a.ms < RESPONSE_TIMEOUT_MS + 1500, `504 after ${a.ms} ms`);
    }
    for (const a of served) assert.equal(a.backend, 'healthy');
    await assertRecovered(running);
    // The proxy gave up on each hanging exchange: no connection to the silent instance is left open.
    await waitFor(() => bad!.open === 0, { timeout: 5000, message: 'the connections to the silent instance to close' });
  });

  it(
    'ejects an instance that never answers after outlier.consecutiveFailures timeouts; then only the healthy one gets requests',
    async () => {
      const running = await setUp(hangingUpstream);
      for (let i = 0; i < 2 * OUTLIER.consecutiveFailures + 2 && badEndpoint(running).ejectedUntil <= Date.now(); i++) await get(running.url);
      assert.ok(badEndpoint(running).ejectedUntil > Date.now(), 'the silent instance is ejected');
      const connections = bad!.connections;
      const after = await Promise.all(Array.from({ length: 10 }, () => get(running.url)));
      assert.deepEqual(new Set(after.map((a) => `${a.status} ${a.backend}`)), new Set(['200 healthy']));
      assert.equal(bad!.connections, connections, 'nothing more was sent to it');
    },
  );

  it('answers 502 upstream_bad_response for an instance that answers garbage, and never forwards the garbage', async () => {
    const running = await setUp(garbageUpstream);
    const rss = rssOf(process.pid)!;
    const answers: Answer[] = [];
    for (let i = 0; i < 200; i++) answers.push(await get(running.url));
    const kinds = new Set(answers.map((a) => `${a.status} ${a.error ?? a.backend}`));
    assert.deepEqual(kinds, new Set(['502 upstream_bad_response', '200 healthy']));
    const raw = await RawClient.connect(running.port);
    try {
      // Two requests on one connection: one of them lands on the garbage instance.
      await raw.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const { text } = await raw.untilClosed(5000);
      assert.ok(!text.includes('HELLO'), `the garbage never reaches the client: ${JSON.stringify(text.slice(0, 300))}`);
    } finally {
      raw.destroy();
    }
    await assertRecovered(running);
    assert.ok((rssOf(process.pid)! - rss) / 1024 / 1024 < 64, 'memory stays bounded over 200 bad answers');
  });

  it(
    'ejects an instance that answers garbage after outlier.consecutiveFailures bad responses',
    async () => {
      const running = await setUp(garbageUpstream);
      for (let i = 0; i < 2 * OUTLIER.consecutiveFailures + 2 && badEndpoint(running).ejectedUntil <= Date.now(); i++) await get(running.url);
      assert.ok(badEndpoint(running).ejectedUntil > Date.now(), 'the garbage instance is ejected');
      const after = await Promise.all(Array.from({ length: 10 }, () => get(running.url)));
      assert.deepEqual(new Set(after.map((a) => `${a.status} ${a.backend}`)), new Set(['200 healthy']));
    },
  );

  /** GETs over a raw connection (Connection: close) and says whether the response arrived whole. */
  async function rawGet(port: number): Promise<{ backend: string | undefined; status: number; whole: boolean; closed: boolean }> {
    const raw = await RawClient.connect(port);
    try {
      await raw.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const { text, closed } = await raw.untilClosed(5000);
      const res = parseResponse(text);
      const declared = Number(res.headers['content-length'] ?? NaN);
      const whole = Number.isFinite(declared) ? Buffer.byteLength(res.body, 'latin1') === declared : res.body.endsWith('0\r\n\r\n');
      return { backend: res.headers['x-backend'], status: res.status, whole, closed };
    } finally {
      raw.destroy();
    }
  }

  it('closes the client connection when an instance dies mid-body: never a clean end that looks complete', async () => {
    const running = await setUp(() => midBodyCloserUpstream(100_000));
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await rawGet(running.port));
    const cut = answers.filter((a) => a.backend !== 'healthy');
    assert.ok(cut.length > 0, JSON.stringify(answers));
    for (const a of cut) {
      assert.equal(a.status, 200, 'the head had already been forwarded');
      assert.ok(a.closed, 'the client connection is closed');
      assert.equal(a.whole, false, 'the body is shorter than declared, so the client knows it is incomplete');
    }
    for (const a of answers.filter((x) => x.backend === 'healthy')) assert.ok(a.whole, 'the healthy instance answers whole');
    await assertRecovered(running);
    await waitFor(() => bad!.open === 0, { timeout: 5000, message: 'no connection to the broken instance to stay open' });
  });

  it(
    'ejects an instance that dies mid-body after outlier.consecutiveFailures cut responses',
    async () => {
      const running = await setUp(() => midBodyCloserUpstream(100_000));
      for (let i = 0; i < 2 * OUTLIER.consecutiveFailures + 2 && badEndpoint(running).ejectedUntil <= Date.now(); i++) await rawGet(running.port);
      assert.ok(badEndpoint(running).ejectedUntil > Date.now(), 'the instance that dies mid-body is ejected');
      const after = await Promise.all(Array.from({ length: 10 }, () => get(running.url)));
      assert.deepEqual(new Set(after.map((a) => `${a.status} ${a.backend}`)), new Set(['200 healthy']));
    },
  );
});
