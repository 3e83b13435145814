// The proxy's own error responses: the right status and x-switchyard-error code for each failure, JSON for
// clients that accept it and one short line otherwise, and never a backend address or a stack trace.
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { refusedPort, startBackend, type Backend, type Handler } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import type { ServicePolicy, ServiceSpec } from '../../src/proxy/routing-table.js';

interface ErrorReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('proxy error responses', () => {
  const proxies: RunningProxy[] = [];
  const backends: Backend[] = [];
  const rawServers: TcpServer[] = [];
  const rawSockets = new Set<Socket>();
  const agent = new Agent();

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(backends.splice(0).map((b) => b.close()));
    for (const socket of rawSockets) socket.destroy();
    rawSockets.clear();
    await Promise.all(rawServers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  async function backend(name: string, handler?: Handler): Promise<Backend> {
    const started = await startBackend(name, handler);
    backends.push(started);
    return started;
  }

  async function proxyTo(addresses: string[], policy: Partial<ServicePolicy> = {}, extra: Partial<ServiceSpec> = {}): Promise<RunningProxy> {
    const started = await startProxy({ services: [serviceSpec(addresses, policy, extra)] });
    proxies.push(started);
    return started;
  }

  /** A TCP server that answers every connection with the given bytes and closes. */
  async function rawBackend(reply: string): Promise<string> {
    const server = createTcpServer((socket) => {
      rawSockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.end(reply));
    });
    rawServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function get(proxy: RunningProxy, accept: string | undefined, host?: string): Promise<ErrorReply> {
    const headers: Record<string, string> = {};
    if (accept !== undefined) headers.accept = accept;
    if (host !== undefined) headers.host = host;
    const res = await request(`${proxy.url}/some/path`, { dispatcher: agent, headers });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  }

  /** Status, code, body shape, and nothing that tells a client where or what the backend is. */
  function assertProxyError(reply: ErrorReply, status: number, code: string, json: boolean, upstreamAddress?: string): void {
    assert.equal(reply.status, status, `status for ${code}: ${reply.body}`);
    assert.equal(reply.headers['x-switchyard-error'], code);
    if (json) {
      assert.match(String(reply.headers['content-type']), /^application\/json/);
      const parsed = JSON.parse(reply.body) as { error: { code: string; message: string } };
      assert.equal(parsed.error.code, code);
      assert.equal(typeof parsed.error.message, 'string');
      assert.ok(parsed.error.message.length > 0);
    } else {
      assert.match(String(reply.headers['content-type']), /^text\/plain/);
      assert.ok(reply.body.length > 0 && reply.body.length < 200, `a short text body: ${JSON.stringify(reply.body)}`);
      assert.ok(reply.body.includes(code), 'the text names the code');
    }
    // The request id is random and could contain any digits; leave it out of the leak checks.
    const requestId = String(reply.headers['x-request-id'] ?? '');
    const headerText = Object.entries(reply.headers)
      .filter(([name]) => name !== 'x-request-id')
      .map(([name, value]) => `${name}: ${String(value)}`)
      .join('\n');
    const exposed = `${headerText}\n${requestId ? reply.body.split(requestId).join('') : reply.body}`;
    assert.doesNotMatch(exposed, /Error:/, 'no error class names');
    assert.doesNotMatch(exposed, /^\s*at\s/m, 'no stack lines');
    assert.doesNotMatch(exposed, /\.[jt]s:\d+/, 'no source locations');
    assert.doesNotMatch(exposed, /ECONN|UND_ERR/, 'no internal error codes');
    if (upstreamAddress !== undefined) {
      const port = upstreamAddress.split(':')[1]!;
      assert.ok(!exposed.includes(upstreamAddress), `the upstream address ${upstreamAddress} is not exposed`);
      assert.ok(!exposed.includes(port), `the upstream port ${port} is not exposed`);
    }
    assert.doesNotMatch(exposed, /127\.0\.0\.1/, 'no upstream IP');
  }

  for (const json of [true, false]) {
    const accept = json ? 'application/json' : 'text/html';
    const as = json ? 'as JSON' : 'as text';

    it(`answers 502 upstream_connect_failed ${as} when the upstream refuses connections`, async () => {
      const address = `127.0.0.1:${await refusedPort()}`;
      const proxy = await proxyTo([address], { retries: 0 });
      assertProxyError(await get(proxy, accept), 502, 'upstream_connect_failed', json, address);
    });

    it(`answers 503 no_healthy_endpoint ${as} when no endpoint is healthy`, async () => {
      const app = await backend('a');
      const proxy = await proxyTo([app.address]);
      for (const endpoint of proxy.proxy.table.endpoints()) endpoint.markUnhealthy();
      assertProxyError(await get(proxy, accept), 503, 'no_healthy_endpoint', json, app.address);
      assert.equal(app.requests.length, 0);
    });

    it(`answers 504 upstream_timeout ${as} when the upstream does not answer within timeouts.response`, async () => {
      const app = await backend('slow', () => {}); // never answers; closed by afterEach
      const proxy = await proxyTo([app.address], {
        retries: 0,
        timeouts: { connect: 2000, response: 200, idle: 10_000, keepAlive: 4000 },
      });
      const startedAt = Date.now();
      assertProxyError(await get(proxy, accept), 504, 'upstream_timeout', json, app.address);
      assert.ok(Date.now() - startedAt < 8000, 'the timeout fires long before any client would give up');
    });

    it(`answers 404 no_route ${as} when no service matches the host`, async () => {
      const app = await backend('a');
      const proxy = await proxyTo([app.address], {}, { match: { hosts: ['a.example'], pathPrefix: '/', stripPrefix: false } });
      assertProxyError(await get(proxy, accept, 'b.example'), 404, 'no_route', json, app.address);
      assert.equal(app.requests.length, 0);
      const routed = await request(`${proxy.url}/`, { dispatcher: agent, headers: { host: 'a.example' } });
      assert.equal(routed.statusCode, 200, 'the matching host is routed (control case)');
      await routed.body.text();
    });

    it(`answers 502 upstream_reset ${as} when the upstream closes the connection without answering`, async () => {
      const app = await backend('rude', (req) => req.socket.destroy());
      const proxy = await proxyTo([app.address], { retries: 0 });
      assertProxyError(await get(proxy, accept), 502, 'upstream_reset', json, app.address);
    });

    it(`answers 502 upstream_bad_response ${as} when the upstream answers with garbage`, async () => {
      const address = await rawBackend('this is not http\r\n\r\n');
      const proxy = await proxyTo([address], { retries: 0 });
      assertProxyError(await get(proxy, accept), 502, 'upstream_bad_response', json, address);
    });
  }

  it('answers an error to HEAD with the status and code but no body', async () => {
    const address = `127.0.0.1:${await refusedPort()}`;
    const proxy = await proxyTo([address], { retries: 0 });
    const res = await request(`${proxy.url}/`, { method: 'HEAD', dispatcher: agent });
    assert.equal(res.statusCode, 502);
    assert.equal(res.headers['x-switchyard-error'], 'upstream_connect_failed');
    assert.equal(await res.body.text(), '');
  });

  it('retries a refused connection on another endpoint and answers 200', async () => {
    const app = await backend('good');
    const refused = `127.0.0.1:${await refusedPort()}`;
    const proxy = await proxyTo([refused, app.address], { retries: 1 });
    // Round-robin sends one of every two requests to the refused endpoint first; each must still succeed.
    for (let i = 0; i < 4; i++) {
      const res = await request(`${proxy.url}/`, { method: 'POST', body: 'payload', dispatcher: agent });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'good');
    }
    assert.equal(app.requests.length, 4);
  });

  it('never replays a POST that reached an app that then reset the connection', async () => {
    const rude = await backend('rude', (req) => req.socket.destroy());
    const good = await backend('good');
    const proxy = await proxyTo([rude.address, good.address], { retries: 2 });
    let resets = 0;
    for (let i = 0; i < 2; i++) {
      const res = await request(`${proxy.url}/`, { method: 'POST', body: 'charge card', dispatcher: agent });
      const body = await res.body.text();
      if (res.statusCode === 502) {
        resets++;
        assert.equal(res.headers['x-switchyard-error'], 'upstream_reset');
      } else {
        assert.equal(body, 'good');
      }
    }
    assert.equal(resets, 1, 'the POST that hit the resetting app got 502');
    assert.equal(rude.requests.length, 1);
    assert.equal(good.requests.length, 1, 'the reset POST was not replayed on the good app');
  });
});
