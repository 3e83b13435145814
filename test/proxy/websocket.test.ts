import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

/** A backend whose WebSocket server echoes every message. */
async function startEchoBackend(name: string): Promise<{ backend: Backend; wss: WebSocketServer }> {
  const backend = await startBackend(name);
  const wss = new WebSocketServer({ server: backend.server, maxPayload: 64 * 1024 * 1024 });
  wss.on('connection', (socket, req) => {
    socket.send(`hello from ${name} ${String(req.headers['x-forwarded-for'] ?? '')}`);
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return { backend, wss };
}

function open(url: string): Promise<{ ws: WebSocket; first: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
    ws.once('message', (data: Buffer) => resolve({ ws, first: data.toString() }));
    ws.once('error', reject);
  });
}

describe('WebSocket tunnel', () => {
  let echo: { backend: Backend; wss: WebSocketServer };
  let proxy: RunningProxy;

  before(async () => {
    echo = await startEchoBackend('ws-a');
    proxy = await startProxy({ services: [serviceSpec([echo.backend.address])] });
  });
  after(async () => {
    await proxy.close();
    echo.wss.close();
    await echo.backend.close();
  });

  it('tunnels the handshake with forwarded headers and echoes a 1 MB binary message intact', async () => {
    const { ws, first } = await open(`ws://127.0.0.1:${proxy.port}/chat`);
    assert.match(first, /^hello from ws-a 127\.0\.0\.1/);
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
    ws.send(payload);
    assert.ok((await echoed).equals(payload));
    ws.close(1000);
    await new Promise((resolve) => ws.once('close', resolve));
  });

  it('counts an open WebSocket as in flight on its endpoint until it closes', async () => {
    const [endpoint] = [...proxy.proxy.table.endpoints()];
    const { ws } = await open(`ws://127.0.0.1:${proxy.port}/`);
    await waitFor(() => endpoint!.inFlight === 1, { message: 'inFlight 1' });
    ws.close(1000);
    await waitFor(() => endpoint!.inFlight === 0, { message: 'inFlight back to 0' });
  });

  it('keeps many concurrent sessions separate', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => open(`ws://127.0.0.1:${proxy.port}/`)));
    const replies = await Promise.all(
      sessions.map(({ ws }, i) => {
        const reply = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
        ws.send(`message ${i}`);
        return reply;
      }),
    );
    replies.forEach((reply, i) => assert.equal(reply, `message ${i}`));
    for (const { ws } of sessions) ws.terminate();
  });

  it('retries a handshake that a dead target refused on another endpoint, and ejects the dead one', async () => {
    const dead = await startEchoBackend('ws-dead');
    const alive = await startEchoBackend('ws-alive');
    const consecutiveFailures = 3;
    const outlier = { consecutiveFailures, baseEjectionTime: 30_000, maxEjectionTime: 300_000, maxEjectionPercent: 0.5 };
    proxy.swap({ services: [serviceSpec([dead.backend.address, alive.backend.address], { outlier })] });
    const deadEndpoint = proxy.proxy.endpoints.get(dead.backend.address)!;
    dead.wss.close();
    await dead.backend.close();
    try {
      const firsts: string[] = [];
      for (let i = 0; i < 20; i++) {
        const { ws, first } = await open(`ws://127.0.0.1:${proxy.port}/`);
        firsts.push(first);
        ws.terminate();
      }
      assert.deepEqual(new Set(firsts.map((f) => f.split(' ')[2])), new Set(['ws-alive']), 'every handshake reached the live target');
      assert.ok(deadEndpoint.ejectedUntil > Date.now(), 'the refusing target was ejected after consecutive failed handshakes');
    } finally {
      proxy.swap({ services: [serviceSpec([echo.backend.address])] });
      alive.wss.close();
      await alive.backend.close();
    }
  });
});
