// A proxy closing for a handover (another generation serves the same sockets): what was in flight at the
// hand-over runs until the drain deadline, and a stream a kept-alive connection began after it (its next
// request, answered with Connection: close) gets a drain timeout of its own instead of being cut early.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:http2';
import { Client } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

const DRAIN_MS = 4000;

interface Streamed {
  status: number | null;
  body: string;
  connection: string | null;
  error: string | null;
  /** ms after the hand-over began. */
  endedAt: number;
}

describe('proxy close for a handover', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  const clients: Client[] = [];

  before(async () => {
    // An event stream: its head and first event at once, the last one after ?ms=N.
    backend = await startBackend('stream', (req, res) => {
      const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: start\n\n');
      const timer = setTimeout(() => res.end('data: end\n\n'), ms);
      res.once('close', () => clearTimeout(timer));
    });
    proxy = await startProxy({ services: [serviceSpec([backend.address])] });
  });
  after(async () => {
    for (const client of clients) await client.destroy();
    await backend.close();
  });

  it('gives a stream begun on an old connection after the hand-over its own drain timeout, and cuts one open at the hand-over at the deadline', { timeout: 30_000 }, async () => {
    const kept = new Client(proxy.url);
    const other = new Client(proxy.url);
    clients.push(kept, other);
    let handoverAt = 0;
    const stream = async (client: Client, ms: number): Promise<Streamed> => {
      try {
        const res = await client.request({ path: `/?ms=${ms}`, method: 'GET' });
        const body = await res.body.text();
        const connection = res.headers.connection;
        return { status: res.statusCode, body, connection: typeof connection === 'string' ? connection : null, error: null, endedAt: performance.now() - handoverAt };
      } catch (err) {
        return { status: null, body: '', connection: null, error: String(err), endedAt: performance.now() - handoverAt };
      }
    };
    // In flight at the hand-over: a stream that ends well before the deadline, and one that outlives it.
    const first = stream(kept, 2500);
    const outlives = stream(other, 60_000);
    await waitFor(() => backend.requests.length === 2, { message: 'both streams reached the app' });
    handoverAt = performance.now();
    const closed = proxy.proxy.close(DRAIN_MS, 'handover');

    const a = await first;
    assert.equal(a.body, 'data: start\n\ndata: end\n\n', JSON.stringify(a));
    assert.equal(a.connection, 'keep-alive', 'begun before the hand-over: its connection stays open for the next request');
    // The next request on that connection, about 2.5 s into a 4 s drain, streams for 2.5 s: past the deadline.
    // The listener no longer accepts, so it can only be answered on the kept-alive connection.
    const b = await stream(kept, 2500);
    assert.equal(b.error, null, `the stream begun after the hand-over was cut: ${JSON.stringify(b)}`);
    assert.equal(b.body, 'data: start\n\ndata: end\n\n', JSON.stringify(b));
    assert.equal(b.connection, 'close', 'begun after the hand-over: Connection: close');
    assert.ok(b.endedAt > DRAIN_MS, `it ran past the hand-over's deadline (${Math.round(b.endedAt)} ms)`);

    // The stream open at the hand-over was cut at the deadline, not at the later stream's.
    const c = await outlives;
    assert.ok(c.error !== null || c.body !== 'data: start\n\ndata: end\n\n', JSON.stringify(c));
    assert.ok(c.endedAt >= DRAIN_MS - 100 && c.endedAt < DRAIN_MS + 1500, `cut ${Math.round(c.endedAt)} ms after the hand-over (deadline ${DRAIN_MS} ms)`);
    await closed;
    assert.equal(proxy.proxy.inFlight, 0);
  });

  it('sends GOAWAY to an HTTP/2 session at the hand-over: its open stream finishes, and its client opens no new one here', { timeout: 30_000 }, async () => {
    const h2proxy = await startProxy({ services: [serviceSpec([backend.address])] }, {}, { http2: true });
    const session = connect(h2proxy.url);
    try {
      let goAwayAt = 0;
      session.once('goaway', () => (goAwayAt = performance.now()));
      const stream = session.request({ ':path': '/?ms=1500', ':method': 'GET' });
      stream.setEncoding('utf8');
      let body = '';
      stream.on('data', (chunk: string) => (body += chunk));
      const ended = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      await waitFor(() => body.includes('start'), { message: 'the stream to begin' });
      const handoverAt = performance.now();
      const closed = h2proxy.proxy.close(DRAIN_MS, 'handover');
      await waitFor(() => goAwayAt > 0, { timeout: 2000, message: 'GOAWAY at the hand-over' });
      await ended;
      assert.equal(body, 'data: start\n\ndata: end\n\n', 'the stream open at the hand-over finished');
      await closed;
      assert.ok(performance.now() - handoverAt < DRAIN_MS, 'the old process was done once the session had gone, not at the drain deadline');
    } finally {
      session.destroy();
    }
  });
});
