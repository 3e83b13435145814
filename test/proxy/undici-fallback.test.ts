// The upstream client's fallback: when Node's internal HTTP parser fails its start-up self-test (forced
// here with SWITCHYARD_UPSTREAM_CLIENT=undici, read once per process), plain requests go through
// undici's public dispatch, and the proxy still streams, frames bodies, retries and aborts correctly.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { upstreamClient } from '../../src/proxy/upstream/choose-client.js';
import { UndiciUpstream } from '../../src/proxy/upstream/undici-upstream.js';
import { refusedPort, startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

process.env.SWITCHYARD_UPSTREAM_CLIENT = 'undici';

describe('the undici fallback for plain requests', () => {
  let app: Backend;
  let proxy: RunningProxy;
  let aborted = 0;

  before(async () => {
    app = await startBackend('app', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(64 * 1024, i));
        return void res.end();
      }
      if (url.pathname === '/hold') return void req.socket.once('close', () => aborted++);
      let size = 0;
      req.on('data', (c: Buffer) => (size += c.length));
      req.on('end', () => res.end(`${req.method} ${size}`));
    });
    proxy = await startProxy({ services: [serviceSpec([`127.0.0.1:${await refusedPort()}`, app.address])] });
  });
  after(async () => {
    await proxy.close();
    await app.close();
  });

  it('is the client in use, with the reason', () => {
    assert.deepEqual(upstreamClient(), { kind: 'undici', reason: 'SWITCHYARD_UPSTREAM_CLIENT=undici' });
    assert.ok(proxy.proxy.endpoints.get(app.address)!.upstream instanceof UndiciUpstream);
  });

  it('retries a refused connect on the live endpoint and passes streamed bodies whole', async () => {
    for (let i = 0; i < 4; i++) assert.equal(await (await request(`${proxy.url}/`)).body.text(), 'GET 0');
    const sized = await request(`${proxy.url}/`, { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal(await sized.body.text(), 'POST 1000');
    const chunked = await request(`${proxy.url}/`, { method: 'POST', body: Readable.from(['abc', 'defg']) });
    assert.equal(await chunked.body.text(), 'POST 7');
  });

  it('streams a 4 MB response whole', async () => {
    const res = await request(`${proxy.url}/big`);
    const body = Buffer.from(await res.body.arrayBuffer());
    assert.equal(body.length, 64 * 64 * 1024);
    assert.equal(body[64 * 1024 * 10], 10);
  });

  it('aborts the upstream request when the client leaves', async () => {
    const endpoint = proxy.proxy.endpoints.get(app.address)!;
    const client = connect(proxy.port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.write('GET /hold HTTP/1.1\r\nhost: x\r\n\r\n');
    await waitFor(() => endpoint.inFlight === 1, { message: 'the request held by the app' });
    client.destroy();
    await waitFor(() => endpoint.inFlight === 0 && aborted === 1, { timeout: 3000, message: 'the upstream request aborted' });
  });
});
