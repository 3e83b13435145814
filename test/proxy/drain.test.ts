import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import { DRAIN_CLOSE_REASON } from '../../src/proxy/websocket-frames.js';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

describe('drain', () => {
  let slow: Backend;
  let other: Backend;
  let wss: WebSocketServer;
  let proxy: RunningProxy;

  before(async () => {
    slow = await startBackend('slow', (req, res) => {
      const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
      setTimeout(() => res.end('slow done'), ms);
    });
    other = await startBackend('other');
    wss = new WebSocketServer({ server: slow.server });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)));
    proxy = await startProxy({ services: [serviceSpec([slow.address])] });
  });
  after(async () => {
    await proxy.close();
    wss.close();
    await slow.close();
    await other.close();
  });

  it('lets a 2 s request finish, cuts a WebSocket at the deadline with close 1001, and reports both', async () => {
    const [endpoint] = [...proxy.proxy.table.endpoints()];
    const longRequest = request(`${proxy.url}/?ms=2000`).then(async (res) => ({ status: res.statusCode, body: await res.body.text() }));
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<string>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve(`${code} ${reason.toString()}`)));
    await waitFor(() => endpoint!.inFlight === 2, { message: 'request and WebSocket in flight' });

    // Out of the table first (invariant 2), then drain.
    proxy.swap({ services: [serviceSpec([other.address])] });
    const fresh = await request(`${proxy.url}/`);
    assert.equal(await fresh.body.text(), 'other', 'new requests go to the endpoint still in the table');

    const report = await proxy.proxy.drain(endpoint!, 3500);
    const finished = await longRequest;
    assert.equal(finished.status, 200);
    assert.equal(finished.body, 'slow done');
    assert.equal(await closed, `1001 ${DRAIN_CLOSE_REASON}`, 'closed by switchyard at the drain deadline');
    assert.equal(report.cut, 1, 'the WebSocket was cut');
    assert.equal(report.finished, 1, 'the long request finished');
    assert.ok(report.durationMs >= 3000, `drain waited for its deadline (${report.durationMs} ms)`);
    assert.equal(endpoint!.inFlight, 0);
  });

  it('resolves as soon as the endpoint is idle', async () => {
    const third = await startBackend('third', (_req, res) => void setTimeout(() => res.end('slow done'), 300));
    proxy.swap({ services: [serviceSpec([third.address])] });
    const endpoint = proxy.proxy.endpoints.get(third.address)!;
    const pending = request(`${proxy.url}/`).then((res) => res.body.text());
    await waitFor(() => endpoint.inFlight === 1, { message: 'request in flight' });
    proxy.swap({ services: [serviceSpec([other.address])] });
    const report = await proxy.proxy.drain(endpoint, 30_000);
    assert.equal(await pending, 'slow done');
    assert.deepEqual([report.finished, report.cut], [1, 0]);
    assert.ok(report.durationMs < 10_000);
    await third.close();
  });
});
