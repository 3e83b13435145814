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
});
