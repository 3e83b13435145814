// Streaming through the proxy: bodies of any size flow with backpressure in constant memory, a client that
// leaves cancels the upstream request, and an upstream that dies mid-response never looks like a complete one.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackend, type Backend, type Handler } from '../helpers/backend.js';
import { serviceSpec, startProxy, testLimits, type RunningProxy } from '../helpers/proxy.js';
import { parseResponse, RawClient } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

const GIB = 1024 ** 3;
const CHUNK = 64 * 1024;
const MAX_RSS_GROWTH = 300 * 1024 * 1024;
const BIG_TRANSFER_TIMEOUT = 120_000;

/** A readable of exactly `size` bytes in generated chunks; it only makes a chunk when asked (backpressure). */
function generated(size: number): Readable {
  const chunk = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i++) chunk[i] = (i * 31) & 0xff;
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, CHUNK);
      left -= n;
      this.push(n === CHUNK ? chunk : chunk.subarray(0, n));
    },
  });
}

/** Samples RSS every 50 ms until stopped; `peakGrowth` is the largest rise over the first sample. */
function watchRss(): { stop(): number } {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return peak - start;
    },
  };
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

describe('streaming large bodies with backpressure', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  const agent = new Agent({ bodyTimeout: 60_000, headersTimeout: 60_000 });

  before(async () => {
    backend = await startBackend('big', (req, res) => {
      if (req.method === 'POST') {
        let size = 0;
        req.on('data', (chunk: Buffer) => (size += chunk.length));
        req.on('end', () => res.end(String(size)));
        return;
      }
      const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const source = generated(size);
      source.pipe(res);
      res.on('close', () => source.destroy());
    });
    proxy = await startProxy({ services: [serviceSpec([backend.address])] }, { limits: { ...testLimits, maxBodySize: 0 } });
  });
  after(async () => {
    await proxy.close();
    await backend.close();
    await agent.close();
  });

  it('streams a 1 GiB upload to the app with the exact byte count, in bounded memory', { timeout: BIG_TRANSFER_TIMEOUT }, async (t) => {
    global.gc?.();
    const rss = watchRss();
    let growth = 0;
    try {
      const res = await request(`${proxy.url}/upload`, { method: 'POST', body: generated(GIB), dispatcher: agent });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), String(GIB));
    } finally {
      growth = rss.stop();
    }
    t.diagnostic(`peak RSS growth ${mib(growth)}`);
    assert.ok(growth < MAX_RSS_GROWTH, `RSS grew by ${mib(growth)} (limit ${mib(MAX_RSS_GROWTH)})`);
  });

  it('streams a 1 GiB download to the client with the exact byte count, in bounded memory', { timeout: BIG_TRANSFER_TIMEOUT }, async (t) => {
    global.gc?.();
    const rss = watchRss();
    let growth = 0;
    let received = 0;
    try {
      const res = await request(`${proxy.url}/download?bytes=${GIB}`, { dispatcher: agent });
      assert.equal(res.statusCode, 200);
      for await (const chunk of res.body as AsyncIterable<Buffer>) received += chunk.length;
    } finally {
      growth = rss.stop();
    }
    assert.equal(received, GIB);
    t.diagnostic(`peak RSS growth ${mib(growth)}`);
    assert.ok(growth < MAX_RSS_GROWTH, `RSS grew by ${mib(growth)} (limit ${mib(MAX_RSS_GROWTH)})`);
  });
});

describe('a client that goes away mid-response', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  const timers = new Set<NodeJS.Timeout>();
  const responses: { res: ServerResponse; closedEarly: boolean; closed: boolean }[] = [];
  const clients: RawClient[] = [];
  const agent = new Agent();

  before(async () => {
    // A chunk every 50 ms, 200 chunks at most (10 s): far longer than the test needs.
    backend = await startBackend('slow', (_req, res) => {
      const entry = { res, closedEarly: false, closed: false };
      responses.push(entry);
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(`chunk ${sent}\n`);
        if (++sent >= 200) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      timers.add(timer);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
        entry.closed = true;
        entry.closedEarly = !res.writableFinished;
      });
    });
    proxy = await startProxy({ services: [serviceSpec([backend.address])] });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
    responses.length = 0;
  });
  after(async () => {
    for (const timer of timers) clearInterval(timer);
    await proxy.close();
    await backend.close();
    await agent.close();
  });

  function inFlight(): number {
    return [...proxy.proxy.table.endpoints()].reduce((sum, e) => sum + e.inFlight, 0);
  }

  it('cancels the upstream request when the client closes its connection after the first chunk', async () => {
    const client = await RawClient.connect(proxy.port);
    clients.push(client);
    await client.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.until((t) => t.includes('chunk 0'), 5000, 'the first chunk');
    assert.equal(inFlight(), 1, 'the request is in flight while it streams');
    client.destroy();
    const entry = await waitFor(() => responses.find((r) => r.closed), { message: 'the upstream response to close' });
    assert.ok(entry.closedEarly, 'the upstream response was cut before the app finished it');
    await waitFor(() => inFlight() === 0, { message: 'in-flight count back to 0' });
  });

  it('cancels the upstream request when an undici client aborts after the first chunk', async () => {
    const controller = new AbortController();
    const res = await request(`${proxy.url}/stream`, { dispatcher: agent, signal: controller.signal });
    assert.equal(res.statusCode, 200);
    const iterator = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.ok(!first.done);
    controller.abort();
    await assert.rejects(async () => {
      for (;;) if ((await iterator.next()).done) break;
    });
    const entry = await waitFor(() => responses.find((r) => r.closed), { message: 'the upstream response to close' });
    assert.ok(entry.closedEarly, 'the upstream response was cut before the app finished it');
    await waitFor(() => inFlight() === 0, { message: 'in-flight count back to 0' });
  });

  it('serves the next request normally after a client left mid-response', async () => {
    const client = await RawClient.connect(proxy.port);
    clients.push(client);
    await client.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.until((t) => t.includes('chunk 0'), 5000, 'the first chunk');
    client.destroy();
    await waitFor(() => inFlight() === 0, { message: 'in-flight count back to 0' });
    const res = await request(`${proxy.url}/stream`, { dispatcher: agent });
    const iterator = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.match(Buffer.from(first.value as Buffer).toString(), /^chunk 0/);
    await iterator.return?.();
  });
});

describe('an upstream that dies mid-response', () => {
  const backends: Backend[] = [];
  const proxies: RunningProxy[] = [];
  const clients: RawClient[] = [];
  const agent = new Agent();

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(backends.splice(0).map((b) => b.close()));
  });
  after(async () => {
    await agent.close();
  });

  async function proxyFor(handler: Handler): Promise<RunningProxy> {
    const backend = await startBackend('dying', handler);
    backends.push(backend);
    const proxy = await startProxy({ services: [serviceSpec([backend.address], { retries: 2 })] });
    proxies.push(proxy);
    return proxy;
  }

  /** Writes a head and part of a body, then kills the connection once those bytes left. */
  const dieAfterPart =
    (contentLength: number | null): Handler =>
    (req, res) => {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (contentLength !== null) headers['content-length'] = String(contentLength);
      res.writeHead(200, headers);
      res.write('x'.repeat(100), () => req.socket.destroy());
    };

  for (const [kind, contentLength] of [
    ['a chunked', null],
    ['a Content-Length', 1000],
  ] as const) {
    it(`makes the client's body read fail when ${kind} response is cut short`, async () => {
      const proxy = await proxyFor(dieAfterPart(contentLength));
      const res = await request(`${proxy.url}/`, { dispatcher: agent });
      assert.equal(res.statusCode, 200);
      await assert.rejects(res.body.text(), 'an incomplete body is an error, never a clean end');
    });

    it(`closes the raw connection without completing ${kind} response`, async () => {
      const proxy = await proxyFor(dieAfterPart(contentLength));
      const client = await RawClient.connect(proxy.port);
      clients.push(client);
      await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const { text, closed } = await client.untilClosed(10_000);
      assert.ok(closed, 'the proxy closed the client connection');
      const res = parseResponse(text);
      assert.equal(res.status, 200);
      if (contentLength === null) {
        assert.equal(res.headers['transfer-encoding'], 'chunked');
        assert.ok(!res.body.endsWith('0\r\n\r\n'), `no terminating chunk: ${JSON.stringify(res.body.slice(-20))}`);
      } else {
        assert.equal(res.headers['content-length'], String(contentLength));
        assert.ok(Buffer.byteLength(res.body, 'latin1') < contentLength, `fewer bytes than Content-Length (${res.body.length})`);
      }
    });
  }
});
