import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';

describe('forwarding', () => {
  let backend: Backend;
  let proxy: RunningProxy;
  const agent = new Agent();

  before(async () => {
    backend = await startBackend('a', (req, res) => {
      res.setHeader('server', 'secret-app/1.2');
      res.setHeader('connection', 'x-private');
      res.setHeader('x-private', 'hop');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    proxy = await startProxy({ services: [serviceSpec([backend.address])] });
  });
  after(async () => {
    await proxy.close();
    await backend.close();
    await agent.close();
  });

  it('forwards a GET and returns the backend response', async () => {
    const res = await request(`${proxy.url}/hello?x=1`, { dispatcher: agent });
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as { url: string };
    assert.equal(body.url, '/hello?x=1');
  });

  it('sets X-Forwarded-* and removes hop-by-hop headers', async () => {
    const res = await request(`${proxy.url}/`, {
      dispatcher: agent,
      headers: { 'x-forwarded-for': '203.0.113.9', 'proxy-authorization': 'x', te: 'trailers', 'x-custom': '1' },
    });
    const { headers } = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], `127.0.0.1:${proxy.port}`);
    assert.match(headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(headers['proxy-authorization'], undefined);
    assert.equal(headers['te'], undefined);
    assert.equal(headers['x-custom'], '1');
    assert.equal(res.headers['x-private'], undefined, 'a header the backend listed in Connection is dropped');
    assert.equal(res.headers['x-request-id'], headers['x-request-id']);
  });

  it('keeps a client X-Request-Id', async () => {
    const res = await request(`${proxy.url}/`, { dispatcher: agent, headers: { 'x-request-id': 'abc-123' } });
    const { headers } = (await res.body.json()) as { headers: Record<string, string> };
    assert.equal(headers['x-request-id'], 'abc-123');
  });
});

describe('the backend Server header', () => {
  let backend: Backend;
  let keeping: RunningProxy;
  let dropping: RunningProxy;
  const agent = new Agent();

  before(async () => {
    backend = await startBackend('a', (_req, res) => {
      res.setHeader('server', 'secret-app/1.2');
      res.end('ok');
    });
    const spec = { services: [serviceSpec([backend.address])] };
    keeping = await startProxy(spec, { dropServerHeader: false });
    dropping = await startProxy(spec, { dropServerHeader: true });
  });
  after(async () => {
    await keeping.close();
    await dropping.close();
    await backend.close();
    await agent.close();
  });

  it('is removed when dropServerHeader is true', async () => {
    const res = await request(`${dropping.url}/`, { dispatcher: agent });
    assert.equal(await res.body.text(), 'ok');
    assert.equal(res.headers['server'], undefined);
  });

  it('is passed through unchanged when dropServerHeader is false', async () => {
    const res = await request(`${keeping.url}/`, { dispatcher: agent });
    assert.equal(await res.body.text(), 'ok');
    assert.equal(res.headers['server'], 'secret-app/1.2');
  });
});
