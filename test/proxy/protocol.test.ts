// HTTP/1.x protocol details at the proxy: HTTP/1.0 clients, Expect: 100-continue, and keep-alive
// connections reused on both sides.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Client } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { countStatusLines, parseResponse, RawClient, sendRaw } from '../helpers/raw-http.js';

describe('HTTP protocol handling', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  /** Headers of every request the backend got, in order. */
  const seen: IncomingHttpHeaders[] = [];
  let upstreamConnections = 0;
  const clients: RawClient[] = [];

  before(async () => {
    backend = await startBackend('a', (req, res) => {
      seen.push(req.headers);
      let size = 0;
      req.on('data', (chunk: Buffer) => (size += chunk.length));
      req.on('end', () => {
        if (req.url === '/streamed') {
          // No Content-Length: the proxy must frame this for each client's protocol version.
          res.write('part one, ');
          res.end('part two');
          return;
        }
        res.setHeader('content-type', 'text/plain');
        res.end(`received ${size}`);
      });
    });
    backend.server.on('connection', () => upstreamConnections++);
    proxy = await startProxy({ services: [serviceSpec([backend.address])] });
  });
  beforeEach(() => {
    seen.length = 0;
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });
  after(async () => {
    await proxy.close();
    await backend.close();
  });

  describe('an HTTP/1.0 client', () => {
    it('gets a complete response and a closed connection', async () => {
      const { text, closed } = await sendRaw(proxy.port, 'GET / HTTP/1.0\r\nHost: x\r\n\r\n', 10_000);
      assert.ok(closed, 'the proxy closes an HTTP/1.0 connection after the response');
      const res = parseResponse(text);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'received 0');
      assert.equal(res.headers['transfer-encoding'], undefined, 'no chunked encoding for HTTP/1.0');
      assert.equal(countStatusLines(text), 1);
    });

    it('gets an app response without Content-Length unchunked, delimited by the close', async () => {
      const { text, closed } = await sendRaw(proxy.port, 'GET /streamed HTTP/1.0\r\nHost: x\r\n\r\n', 10_000);
      assert.ok(closed);
      const res = parseResponse(text);
      assert.equal(res.status, 200);
      assert.equal(res.headers['transfer-encoding'], undefined, 'no chunked encoding for HTTP/1.0');
      assert.equal(res.body, 'part one, part two');
    });

    it('gets the response without a Host header too (HTTP/1.0 does not require one)', async () => {
      const { text, closed } = await sendRaw(proxy.port, 'GET / HTTP/1.0\r\n\r\n', 10_000);
      assert.ok(closed);
      assert.equal(parseResponse(text).status, 200);
    });
  });

  describe('Expect: 100-continue', () => {
    it('answers 100 Continue, then forwards the body, and the app never sees Expect', async () => {
      const client = await RawClient.connect(proxy.port);
      clients.push(client);
      await client.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
      const interim = await client.until((t) => t.includes('\r\n\r\n'), 5000, 'the 100 Continue');
      assert.match(interim, /^HTTP\/1\.1 100 Continue\r\n/);
      assert.equal(seen.length, 0, 'the app has no complete request yet');
      await client.write('hello world');
      const { text, closed } = await client.untilClosed(10_000);
      assert.ok(closed);
      const final = parseResponse(text.slice(text.indexOf('\r\n\r\n') + 4));
      assert.equal(final.status, 200);
      assert.equal(final.body, 'received 11');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.expect, undefined, 'Expect stays between client and proxy');
    });

    it('answers 100 Continue to a chunked upload as well', async () => {
      const client = await RawClient.connect(proxy.port);
      clients.push(client);
      await client.write('POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
      const interim = await client.until((t) => t.includes('\r\n\r\n'), 5000, 'the 100 Continue');
      assert.match(interim, /^HTTP\/1\.1 100 Continue\r\n/);
      await client.write('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
      const { text } = await client.untilClosed(10_000);
      const final = parseResponse(text.slice(text.indexOf('\r\n\r\n') + 4));
      assert.equal(final.status, 200);
      assert.equal(final.body, 'received 11');
      assert.equal(seen[0]!.expect, undefined);
    });

    it('answers a final error instead of 100 Continue when the request has no route', async () => {
      const own = await startProxy({
        services: [serviceSpec([backend.address], {}, { match: { hosts: ['a.example'], pathPrefix: '/', stripPrefix: false } })],
      });
      try {
        const client = await RawClient.connect(own.port);
        clients.push(client);
        await client.write('POST / HTTP/1.1\r\nHost: b.example\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
        const { text, closed } = await client.untilClosed(10_000);
        assert.ok(closed, 'the unread body means the connection closes');
        assert.equal(parseResponse(text).status, 404, 'no 100 Continue for a request that will not be forwarded');
        assert.equal(seen.length, 0);
      } finally {
        await own.close();
      }
    });
  });

  describe('keep-alive', () => {
    it('carries 50 sequential requests from one client over at most 2 upstream connections', async () => {
      const client = new Client(proxy.url, { pipelining: 1 });
      try {
        const before = upstreamConnections;
        for (let i = 0; i < 50; i++) {
          const res = await client.request({ path: `/n/${i}`, method: i % 5 === 0 ? 'POST' : 'GET', body: i % 5 === 0 ? 'body' : null });
          assert.equal(res.statusCode, 200);
          await res.body.text();
        }
        assert.equal(seen.length, 50);
        const opened = upstreamConnections - before;
        assert.ok(opened <= 2, `opened ${opened} upstream connections for 50 requests`);
      } finally {
        await client.close();
      }
    });

    it('keeps the client connection open across requests (one TCP connection for several responses)', async () => {
      const client = await RawClient.connect(proxy.port);
      clients.push(client);
      for (let i = 1; i <= 5; i++) {
        await client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        await client.until((t) => countStatusLines(t) === i && t.endsWith('received 0'), 5000, `response ${i}`);
      }
      assert.ok(!client.closed, 'the connection is still open');
      assert.equal(seen.length, 5);
    });
  });
});
