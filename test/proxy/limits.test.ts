// Server limits: request bodies, URLs and heads over their limits get the matching 4xx before they reach
// an app, and a client that sends its head too slowly is answered 408 (or cut off) within seconds.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, testLimits, type RunningProxy } from '../helpers/proxy.js';
import { parseResponse, RawClient, sendRaw } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

const MAX_BODY = 64 * 1024;

describe('server limits', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  /** Backend requests whose body arrived whole, with its size. */
  const completeBodies: number[] = [];
  const clients: RawClient[] = [];
  const agent = new Agent();

  before(async () => {
    backend = await startBackend('a', (req, res) => {
      let size = 0;
      req.on('data', (chunk: Buffer) => (size += chunk.length));
      req.on('end', () => {
        completeBodies.push(size);
        res.end(String(size));
      });
    });
    proxy = await startProxy(
      { services: [serviceSpec([backend.address])] },
      { limits: { ...testLimits, maxBodySize: MAX_BODY, maxUrlLength: 1024, maxHeaderSize: 8 * 1024, headersTimeout: 500 } },
    );
  });
  beforeEach(() => {
    backend.requests.length = 0;
    completeBodies.length = 0;
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });
  after(async () => {
    await proxy.close();
    await backend.close();
    await agent.close();
  });

  function endpointInFlight(): number {
    return [...proxy.proxy.table.endpoints()].reduce((sum, e) => sum + e.inFlight, 0);
  }

  /** Resolves once every request the backend got has ended one way or the other. */
  async function backendSettled(): Promise<IncomingMessage[]> {
    await waitFor(() => backend.requests.every((r) => r.complete || r.destroyed), { message: 'backend requests to end' });
    await waitFor(() => endpointInFlight() === 0, { message: 'in-flight count back to 0' });
    return backend.requests;
  }

  it('passes a body of exactly maxBodySize with Content-Length', async () => {
    const res = await request(`${proxy.url}/`, { method: 'POST', body: Buffer.alloc(MAX_BODY, 1), dispatcher: agent });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), String(MAX_BODY));
  });

  it(
    'passes a chunked body under maxBodySize to the backend intact',
    async () => {
      const client = await RawClient.connect(proxy.port);
      clients.push(client);
      const chunk = 'x'.repeat(1000);
      // Head and first chunk in one write, as clients commonly send them: no byte may be lost while the proxy connects upstream.
      let bytes = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
      for (let i = 0; i < 10; i++) bytes += `${(1000).toString(16)}\r\n${chunk}\r\n`;
      await client.write(bytes + '0\r\n\r\n');
      const { text, closed } = await client.untilClosed(10_000);
      assert.ok(closed, `the exchange completes: ${JSON.stringify(text.slice(0, 300))}`);
      const res = parseResponse(text);
      assert.equal(res.status, 200);
      assert.equal(res.body, '10000');
      assert.deepEqual(completeBodies, [10_000]);
    },
  );

  it('answers 413 body_too_large to a Content-Length over maxBodySize without contacting the backend', async () => {
    const size = MAX_BODY + 1;
    const { text, closed } = await sendRaw(
      proxy.port,
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\nAccept: application/json\r\n\r\n${'y'.repeat(size)}`,
      10_000,
    );
    const res = parseResponse(text);
    assert.equal(res.status, 413);
    assert.equal(res.headers['x-switchyard-error'], 'body_too_large');
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'body_too_large');
    assert.ok(closed, 'the connection is closed (the unread body cannot be skipped safely)');
    assert.equal(backend.requests.length, 0, 'the backend never saw the request');
  });

  it('answers 413 to a huge declared Content-Length even before any body byte arrives', async () => {
    const client = await RawClient.connect(proxy.port);
    clients.push(client);
    await client.write('PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n');
    const { text, closed } = await client.untilClosed(10_000);
    assert.equal(parseResponse(text).status, 413);
    assert.ok(closed);
    assert.equal(backend.requests.length, 0);
  });

  it('stops a chunked body that grows over maxBodySize: 413 or a closed connection, never a complete body upstream', async () => {
    const client = await RawClient.connect(proxy.port);
    clients.push(client);
    await client.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `${(16 * 1024).toString(16)}\r\n${'z'.repeat(16 * 1024)}\r\n`;
    // Bounded: 4x the limit, stopping as soon as the proxy has answered or closed.
    for (let i = 0; i < 16 && !client.closed && client.received.length === 0; i++) await client.write(chunk);
    await client.write('0\r\n\r\n');
    const { text, closed } = await client.untilClosed(10_000);
    assert.ok(closed, 'the connection is closed');
    if (text.length > 0) {
      const res = parseResponse(text);
      assert.equal(res.status, 413);
      assert.equal(res.headers['x-switchyard-error'], 'body_too_large');
    }
    await backendSettled();
    assert.deepEqual(completeBodies, [], 'the backend never got a complete body');
  });

  it('answers 414 uri_too_long to a URL over maxUrlLength without contacting the backend', async () => {
    const res = await request(`${proxy.url}/${'a'.repeat(2000)}`, { dispatcher: agent });
    assert.equal(res.statusCode, 414);
    assert.equal(res.headers['x-switchyard-error'], 'uri_too_long');
    await res.body.text();
    assert.equal(backend.requests.length, 0);
  });

  it('answers 431 headers_too_large to a head over maxHeaderSize and closes', async () => {
    const { text, closed } = await sendRaw(proxy.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(12 * 1024)}\r\n\r\n`, 10_000);
    const res = parseResponse(text);
    assert.equal(res.status, 431);
    assert.equal(res.headers['x-switchyard-error'], 'headers_too_large');
    assert.ok(closed);
    assert.equal(backend.requests.length, 0);
  });

  it(
    'answers 408 (or closes) within seconds when a client sends its head slower than headersTimeout',
    async () => {
      const client = await RawClient.connect(proxy.port);
      clients.push(client);
      const startedAt = Date.now();
      await client.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const { text, closed } = await client.untilClosed(6000);
      assert.ok(closed, `closed within 6 s of a 500 ms headersTimeout (after ${Date.now() - startedAt} ms)`);
      if (text.length > 0) assert.equal(parseResponse(text).status, 408);
      assert.equal(backend.requests.length, 0);
    },
  );
});
