// Specification of the HTTP/2 → HTTP/1.1 header translation (request smuggling rules across it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { upstreamRequestHead } from '../forward-headers.js';

const H2 = [':method', 'POST', ':path', '/a?b', ':scheme', 'https', ':authority', 'shop.test'];

describe('HTTP/2 request headers towards an HTTP/1.1 app', () => {
  it('turns :authority into Host and drops the other pseudo-headers', () => {
    const head = upstreamRequestHead([...H2, 'accept', '*/*'], '10.0.0.1', 'https', false);
    assert.equal(head.badRequest, null);
    assert.equal(head.host, 'shop.test');
    assert.deepEqual(head.headers.slice(0, 4), ['accept', '*/*', 'host', 'shop.test']);
    assert.ok(!head.headers.some((h) => h.startsWith(':')), 'no pseudo-header reaches HTTP/1.1');
  });

  it('accepts a Host that agrees with :authority, once', () => {
    const head = upstreamRequestHead([...H2, 'host', 'SHOP.test'], '10.0.0.1', 'https', false);
    assert.equal(head.badRequest, null);
    assert.equal(head.headers.filter((h) => h.toLowerCase() === 'host').length, 1);
  });

  it('refuses a Host that contradicts :authority', () => {
    assert.equal(upstreamRequestHead([...H2, 'host', 'evil.test'], '10.0.0.1', 'https', false).badRequest, ':authority and Host differ');
  });

  it('refuses unknown pseudo-headers', () => {
    assert.equal(upstreamRequestHead([...H2, ':protocol-x', 'y'], '10.0.0.1', 'https', false).badRequest, 'unknown pseudo-header :protocol-x');
  });

  it('forwards no connection-specific header', () => {
    const raw = [...H2, 'connection', 'x-secret', 'x-secret', '1', 'keep-alive', 'timeout=5', 'te', 'trailers', 'upgrade', 'h2c', 'proxy-connection', 'close'];
    const names = upstreamRequestHead(raw, '10.0.0.1', 'https', false).headers.filter((_, i) => i % 2 === 0);
    for (const name of ['connection', 'x-secret', 'keep-alive', 'te', 'upgrade', 'proxy-connection']) assert.ok(!names.includes(name), name);
  });
});
