// WebSocket frame size limit (issue 7, point 3): a frame larger than proxy.limits.maxWebSocketFrame closes
// the tunnel with 1009 (message too big) before the app gets the whole frame; frames up to the limit pass
// intact, both ways. The ws library plays both the browser and the app.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, testLimits, type RunningProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

const MAX_FRAME = 64 * 1024;

interface Closed {
  code: number;
  reason: string;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 16 * MAX_FRAME });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<Closed> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
}

function pattern(size: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 7 + 3) & 0xff;
  return payload;
}

describe('WebSocket frame size limit', () => {
  let backend: Backend;
  let wss: WebSocketServer;
  let proxy: RunningProxy;
  /** Sizes of the messages the app received whole. */
  const received: number[] = [];
  /** Bytes the app's sockets read, whole frames or not. */
  let appBytes = 0;
  const clients: WebSocket[] = [];

  before(async () => {
    backend = await startBackend('ws-app');
    backend.server.on('connection', (socket: Socket) => socket.on('data', (chunk: Buffer) => (appBytes += chunk.length)));
    wss = new WebSocketServer({ server: backend.server, perMessageDeflate: false, maxPayload: 16 * MAX_FRAME });
    wss.on('connection', (socket) => {
      socket.on('message', (data: Buffer, isBinary) => {
        received.push(data.length);
        const text = isBinary ? '' : data.toString();
        // `send N`: the app sends one frame of N bytes toward the client.
        if (text.startsWith('send ')) socket.send(pattern(Number(text.slice(5))));
        else socket.send(data, { binary: isBinary });
      });
    });
    proxy = await startProxy({ services: [serviceSpec([backend.address])] }, { limits: { ...testLimits, maxWebSocketFrame: MAX_FRAME } });
  });
  beforeEach(() => {
    received.length = 0;
  });
  after(async () => {
    for (const ws of clients) ws.terminate();
    await proxy.close();
    wss.close();
    await backend.close();
  });

  async function client(): Promise<WebSocket> {
    const ws = await open(`ws://127.0.0.1:${proxy.port}/socket`);
    clients.push(ws);
    return ws;
  }

  function inFlight(): number {
    return [...proxy.proxy.table.endpoints()].reduce((sum, e) => sum + e.inFlight, 0);
  }

  it('passes frames under and exactly at maxWebSocketFrame intact, both ways', async () => {
    const ws = await client();
    for (const size of [1, 1000, MAX_FRAME - 1, MAX_FRAME]) {
      const payload = pattern(size);
      const echoed = nextMessage(ws);
      ws.send(payload, { binary: true });
      assert.ok((await echoed).equals(payload), `a ${size}-byte frame comes back intact`);
    }
    const down = nextMessage(ws);
    ws.send(`send ${MAX_FRAME}`);
    assert.ok((await down).equals(pattern(MAX_FRAME)), 'the app can send a frame of exactly the limit');
    assert.deepEqual(received, [1, 1000, MAX_FRAME - 1, MAX_FRAME, `send ${MAX_FRAME}`.length]);
    ws.close(1000);
    assert.equal((await closed(ws)).code, 1000);
  });

  it('closes a client frame one byte over the limit with 1009, and the app never gets the frame whole', async () => {
    const ws = await client();
    const bytesBefore = appBytes;
    const done = closed(ws);
    ws.send(pattern(MAX_FRAME + 1), { binary: true });
    const { code } = await done;
    assert.equal(code, 1009, 'the client sees close code 1009 (message too big)');
    await waitFor(() => inFlight() === 0, { message: 'the tunnel to leave the endpoint' });
    assert.deepEqual(received, [], 'the app received no message');
    assert.ok(appBytes - bytesBefore < MAX_FRAME, `the app read ${appBytes - bytesBefore} bytes of the ${MAX_FRAME + 1}-byte frame`);
  });

  it('closes a huge declared frame (1 GiB header) at once, before its payload arrives', async () => {
    const ws = await client();
    const done = closed(ws);
    // A frame header that announces 1 GiB, then only a little payload: the limit acts on the header alone.
    const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]);
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.write(Buffer.concat([header, Buffer.alloc(1024)]));
    assert.equal((await done).code, 1009);
    assert.deepEqual(received, []);
  });

  it('cuts an app frame over the limit before the client gets it whole, and serves new sessions after', async () => {
    const ws = await client();
    let got = 0;
    ws.on('message', (data: Buffer) => (got += data.length));
    const done = closed(ws);
    ws.send(`send ${MAX_FRAME * 4}`);
    const { code } = await done;
    // The proxy cannot put its close frame inside the app's frame, so the client sees the connection end.
    assert.ok(code === 1009 || code === 1006, `closed with ${code}`);
    assert.equal(got, 0, 'the client never got the oversized message');

    const next = await client();
    const echoed = nextMessage(next);
    next.send('still here');
    assert.equal((await echoed).toString(), 'still here');
    next.close(1000);
    await closed(next);
    await waitFor(() => inFlight() === 0, { message: 'every tunnel to end' });
  });
});
