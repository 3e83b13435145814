// Request smuggling and strict parsing: ambiguous or malformed requests get 400, never reach an app,
// and the connection they came on is closed so nothing after them can be misread.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { countStatusLines, parseResponse, RawClient, sendRaw } from '../helpers/raw-http.js';
import { waitFor } from '../helpers/wait.js';

describe('request smuggling and strict parsing', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  const clients: RawClient[] = [];

  before(async () => {
    backend = await startBackend('a');
    proxy = await startProxy({ services: [serviceSpec([backend.address])] });
  });
  beforeEach(() => {
    backend.requests.length = 0;
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy();
  });
  after(async () => {
    await proxy.close();
    await backend.close();
  });

  /** Sends raw bytes and expects a 400 from the proxy, a closed connection, and an untouched backend. */
  async function expectRejected(bytes: string, { labelled = true } = {}): Promise<void> {
    const { text, closed } = await sendRaw(proxy.port, bytes, 5000);
    const res = parseResponse(text);
    assert.equal(res.status, 400, `expected 400, got: ${JSON.stringify(text.slice(0, 200))}`);
    if (labelled) assert.equal(res.headers['x-switchyard-error'], 'bad_request');
    assert.equal(countStatusLines(text), 1, 'exactly one response, nothing smuggled behind it');
    assert.ok(closed, 'the connection is closed after the 400');
    assert.equal(backend.requests.length, 0, 'the backend never saw the request');
  }

  it('accepts a well-formed request on the same raw path (control case)', async () => {
    const { text, closed } = await sendRaw(proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(parseResponse(text).status, 200);
    assert.ok(closed);
    assert.equal(backend.requests.length, 1);
  });

  it('rejects a request with two Host headers', async () => {
    await expectRejected('GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n');
  });

  it('rejects a request with both Content-Length and Transfer-Encoding', async () => {
    await expectRejected(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    );
  });

  it('rejects Transfer-Encoding before Content-Length as well', async () => {
    await expectRejected(
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    );
  });

  it('rejects two different Content-Length headers', async () => {
    await expectRejected('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 10\r\n\r\nabcdefghij');
  });

  it('rejects a Transfer-Encoding that does not end in chunked', async () => {
    await expectRejected('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  });

  it('rejects whitespace between a header name and its colon', async () => {
    await expectRejected('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc');
  });

  it('rejects a control character in a header value', async () => {
    await expectRejected('GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n');
  });

  it('rejects an invalid character in a header name', async () => {
    await expectRejected('GET / HTTP/1.1\r\nHost: x\r\nX(Bad): 1\r\n\r\n');
  });

  it('rejects a bare LF line ending inside the head', async () => {
    await expectRejected('GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n');
  });

  it('rejects obs-fold (a header line that starts with a space)', async () => {
    await expectRejected('GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n');
  });

  it('rejects an HTTP/1.1 request without a Host header', async () => {
    await expectRejected('GET / HTTP/1.1\r\n\r\n', { labelled: false });
  });

  it(
    'labels the 400 for a missing Host header with x-switchyard-error like every other proxy error',
    async () => {
      await expectRejected('GET / HTTP/1.1\r\n\r\n');
    },
  );

  it('rejects a bad chunk size and closes the connection', async () => {
    const { text, closed } = await sendRaw(proxy.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n');
    const res = parseResponse(text);
    assert.equal(res.status, 400, `expected 400, got: ${JSON.stringify(text.slice(0, 200))}`);
    assert.equal(countStatusLines(text), 1);
    assert.ok(closed, 'the connection is closed after the 400');
    // The head was valid, so the request may have been sent on; it must never arrive whole.
    await waitFor(() => backend.requests.every((r) => r.destroyed || r.complete), { message: 'backend requests to end' });
    assert.ok(backend.requests.every((r) => !r.complete), 'the backend never got a complete body');
  });

  it(
    'never writes a second status line into a response already under way when the request body turns bad',
    async () => {
      // The app answers before reading the body, so the proxy is mid-response when the bad chunk arrives.
      const streaming = await startBackend('streaming', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part\n');
      });
      const own = await startProxy({ services: [serviceSpec([streaming.address])] });
      try {
        const client = await RawClient.connect(own.port);
        clients.push(client);
        await client.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
        await client.until((t) => t.includes('first part'), 5000, 'the start of the response');
        await client.write('zz\r\n');
        const { text, closed } = await client.untilClosed(5000);
        assert.ok(closed, 'the connection is closed');
        assert.equal(parseResponse(text).status, 200);
        assert.equal(countStatusLines(text), 1, `no raw 400 injected into the body: ${JSON.stringify(text)}`);
      } finally {
        await own.close();
        await streaming.close();
      }
    },
  );
});
