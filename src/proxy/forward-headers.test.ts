// Specification of header rewriting towards the app and back to the client.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientResponseHeaders, isHopByHop, upstreamRequestHead } from './forward-headers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The values of every header called `name` (any case), in order. */
function values(headers: readonly string[], name: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() === name) found.push(headers[i + 1]!);
  }
  return found;
}

function names(headers: readonly string[]): string[] {
  return headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

function upstream(raw: string[], upgrade = false) {
  return upstreamRequestHead(raw, '198.51.100.7', 'https', upgrade);
}

function response(raw: string[], dropServer = false, requestId = 'req-1'): string[] {
  return clientResponseHeaders(raw, dropServer, requestId);
}

describe('isHopByHop', () => {
  it('names the connection-level headers of RFC 9110 and any proxy-* header', () => {
    const hopByHop = ['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
    for (const name of [...hopByHop, 'proxy-authorization', 'proxy-connection']) {
      assert.equal(isHopByHop(name), true, name);
    }
    for (const name of ['host', 'content-length', 'cookie', 'x-request-id', 'trailers']) {
      assert.equal(isHopByHop(name), false, name);
    }
  });
});

describe('upstreamRequestHead', () => {
  it('keeps end-to-end headers with their original case and order', () => {
    const sent = ['Host', 'app.example.com', 'Accept', 'text/html', 'Cookie', 'a=1', 'X-Custom', 'v'];
    const { headers, badRequest } = upstream(sent);
    assert.equal(badRequest, null);
    assert.deepEqual(headers.slice(0, sent.length), sent);
  });

  it('removes hop-by-hop headers', () => {
    const { headers } = upstream([
      'Host', 'h',
      'Connection', 'keep-alive',
      'Keep-Alive', 'timeout=5',
      'TE', 'trailers',
      'Trailer', 'x-checksum',
      'Upgrade', 'h2c',
      'Proxy-Authorization', 'Basic eDp5',
      'Proxy-Connection', 'keep-alive',
      'Accept', '*/*',
    ]);
    assert.deepEqual(names(headers), [
      'host',
      'accept',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-request-id',
      'x-forwarded-host',
    ]);
  });

  it('removes the headers the Connection header names, in any case, over several Connection headers', () => {
    const { headers } = upstream([
      'Host', 'h',
      'Connection', 'close, X-Secret',
      'X-Secret', 'one',
      'connection', 'x-other-hop',
      'X-OTHER-HOP', 'two',
      'X-Kept', 'three',
    ]);
    assert.deepEqual(values(headers, 'x-secret'), []);
    assert.deepEqual(values(headers, 'x-other-hop'), []);
    assert.deepEqual(values(headers, 'x-kept'), ['three']);
    assert.deepEqual(values(headers, 'connection'), []);
  });

  it('does not let a Connection header strip Host, Content-Length or X-Forwarded-For', () => {
    const { headers } = upstream([
      'Host', 'h',
      'Connection', 'host, content-length, x-forwarded-for',
      'Content-Length', '2',
      'X-Forwarded-For', '203.0.113.9',
    ]);
    assert.deepEqual(values(headers, 'host'), ['h']);
    assert.deepEqual(values(headers, 'content-length'), ['2']);
    assert.deepEqual(values(headers, 'x-forwarded-for'), ['203.0.113.9, 198.51.100.7']);
  });

  it('keeps Connection and Upgrade for a WebSocket handshake', () => {
    const { headers } = upstream(
      [
        'Host', 'h',
        'Connection', 'Upgrade',
        'Upgrade', 'websocket',
        'Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version', '13',
      ],
      true,
    );
    assert.deepEqual(values(headers, 'connection'), ['Upgrade']);
    assert.deepEqual(values(headers, 'upgrade'), ['websocket']);
    assert.deepEqual(values(headers, 'sec-websocket-key'), ['dGhlIHNhbXBsZSBub25jZQ==']);
  });

  it('sets X-Forwarded-For to the client address when there is none', () => {
    assert.deepEqual(values(upstream(['Host', 'h']).headers, 'x-forwarded-for'), ['198.51.100.7']);
  });

  it('appends the client address to an existing X-Forwarded-For', () => {
    const { headers } = upstream(['Host', 'h', 'X-Forwarded-For', '203.0.113.9']);
    assert.deepEqual(values(headers, 'x-forwarded-for'), ['203.0.113.9, 198.51.100.7']);
  });

  it('joins two X-Forwarded-For headers in order and appends the client address once', () => {
    const { headers } = upstream([
      'Host', 'h',
      'X-Forwarded-For', '203.0.113.9',
      'x-forwarded-for', '10.0.0.1, 10.0.0.2',
    ]);
    assert.deepEqual(values(headers, 'x-forwarded-for'), ['203.0.113.9, 10.0.0.1, 10.0.0.2, 198.51.100.7']);
  });

  it('replaces X-Forwarded-Proto and X-Forwarded-Host sent by the client', () => {
    const { headers } = upstream([
      'Host', 'app.example.com:8443',
      'X-Forwarded-Proto', 'http',
      'X-Forwarded-Host', 'evil.example',
    ]);
    assert.deepEqual(values(headers, 'x-forwarded-proto'), ['https']);
    assert.deepEqual(values(headers, 'x-forwarded-host'), ['app.example.com:8443']);
  });

  it('sends no X-Forwarded-Host when the request has no Host', () => {
    assert.deepEqual(values(upstream(['Accept', '*/*']).headers, 'x-forwarded-host'), []);
  });

  it('drops Expect, which the proxy answers itself', () => {
    assert.deepEqual(values(upstream(['Host', 'h', 'Expect', '100-continue']).headers, 'expect'), []);
  });

  it('keeps a valid X-Request-Id', () => {
    const id = 'abc-123_XYZ:/.~';
    const head = upstream(['Host', 'h', 'X-Request-Id', id]);
    assert.equal(head.requestId, id);
    assert.deepEqual(values(head.headers, 'x-request-id'), [id]);
  });

  it('keeps an X-Request-Id of exactly 200 characters', () => {
    const id = 'a'.repeat(200);
    assert.equal(upstream(['X-Request-Id', id]).requestId, id);
  });

  it('generates an X-Request-Id when there is none', () => {
    const head = upstream(['Host', 'h']);
    assert.match(head.requestId, UUID);
    assert.deepEqual(values(head.headers, 'x-request-id'), [head.requestId]);
  });

  it('replaces an X-Request-Id that is too long, empty, or holds spaces or control characters', () => {
    for (const bad of ['a'.repeat(201), '', 'has space', 'tab\there', 'nl\nx', 'nul\u0000x', 'del\u007fx', 'é']) {
      const head = upstream(['X-Request-Id', bad]);
      assert.match(head.requestId, UUID, JSON.stringify(bad));
      assert.deepEqual(values(head.headers, 'x-request-id'), [head.requestId]);
    }
  });

  it('sends exactly one X-Request-Id: the first valid one', () => {
    const head = upstream(['X-Request-Id', 'bad id', 'X-Request-Id', 'good', 'X-Request-Id', 'later']);
    assert.equal(head.requestId, 'good');
    assert.deepEqual(values(head.headers, 'x-request-id'), ['good']);
  });

  it('refuses a request with two Host headers', () => {
    assert.notEqual(upstream(['Host', 'a.example.com', 'host', 'b.example.com']).badRequest, null);
  });

  it('refuses a request with both Content-Length and Transfer-Encoding, in either order', () => {
    assert.notEqual(upstream(['Host', 'h', 'Content-Length', '5', 'Transfer-Encoding', 'chunked']).badRequest, null);
    assert.notEqual(upstream(['Host', 'h', 'transfer-encoding', 'chunked', 'content-length', '5']).badRequest, null);
  });

  it('accepts Content-Length alone and Transfer-Encoding alone, passing on Content-Length only', () => {
    const withLength = upstream(['Host', 'h', 'Content-Length', '5']);
    assert.equal(withLength.badRequest, null);
    assert.deepEqual(values(withLength.headers, 'content-length'), ['5']);
    const chunked = upstream(['Host', 'h', 'Transfer-Encoding', 'chunked']);
    assert.equal(chunked.badRequest, null);
    assert.deepEqual(values(chunked.headers, 'transfer-encoding'), []);
  });
});

describe('clientResponseHeaders', () => {
  it('keeps end-to-end headers with their original case and order', () => {
    const sent = ['Content-Type', 'text/html', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Request-Id', 'app-id'];
    assert.deepEqual(response(sent), sent);
  });

  it('drops hop-by-hop headers', () => {
    const headers = response([
      'Connection', 'keep-alive',
      'Keep-Alive', 'timeout=5',
      'Transfer-Encoding', 'chunked',
      'Trailer', 'x-sum',
      'Upgrade', 'h2c',
      'Proxy-Authenticate', 'Basic',
      'Content-Type', 'text/plain',
    ]);
    assert.deepEqual(names(headers), ['content-type', 'x-request-id']);
  });

  it('drops the headers the Connection header names, even when they come before it', () => {
    const headers = response([
      'X-Private', 'before',
      'Connection', 'X-Private, close',
      'x-private', 'after',
      'X-Public', 'ok',
    ]);
    assert.deepEqual(values(headers, 'x-private'), []);
    assert.deepEqual(values(headers, 'x-public'), ['ok']);
  });

  it('drops Server when asked to, and keeps it otherwise', () => {
    const raw = ['Server', 'secret-app/1.2', 'Content-Type', 'text/plain'];
    assert.deepEqual(values(response(raw, true), 'server'), []);
    assert.deepEqual(values(response(raw, false), 'server'), ['secret-app/1.2']);
  });

  it('echoes the request id when the app sent none', () => {
    assert.deepEqual(values(response(['Content-Type', 'text/plain'], false, 'req-42'), 'x-request-id'), ['req-42']);
  });

  it("keeps the app's own request id and adds no second one", () => {
    assert.deepEqual(values(response(['x-request-id', 'from-app'], false, 'req-42'), 'x-request-id'), ['from-app']);
  });

  it('keeps the bytes of latin1 header values as they came', () => {
    const cafe = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    const headers = clientResponseHeaders(['X-Name', cafe.toString('latin1')], false, 'r');
    assert.deepEqual(Buffer.from(values(headers, 'x-name')[0]!, 'latin1'), cafe);
  });
});

describe('the release header', () => {
  it('drops every copy a client sent, in any case, so only the proxy can set it', () => {
    const raw = ['Host', 'a', 'X-Switchyard-Release', 'v9; cohort=canary', 'x-switchyard-release', 'v8', 'X-Other', '1'];
    const { headers } = upstreamRequestHead(raw, '198.51.100.7', 'https', false, 'x-switchyard-release');
    assert.deepEqual(values(headers, 'x-switchyard-release'), []);
    assert.deepEqual(values(headers, 'x-other'), ['1']);
  });
});
