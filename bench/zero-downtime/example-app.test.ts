// Specification of the example app's routes the zero-downtime bench relies on: /upload counts bytes,
// /events streams and ends, /ws echoes, and SIGTERM lets in-flight requests finish before WebSockets
// get close 1001. Runs examples/node-app/server.mjs as a real process with plain node.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import WebSocket from 'ws';
import { freePort } from '../proxy/processes.js';
import { SseParser } from './load/sse.js';
import { APP } from './targets/switchyard.js';

async function startApp(): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [APP], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', APP_VERSION: 'v9' }, stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout, 'data');
  return { child, base: `http://127.0.0.1:${port}` };
}

function openWs(base: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('the example app', () => {
  let app: { child: ChildProcess; base: string };
  before(async () => (app = await startApp()));
  after(() => {
    if (app.child.exitCode === null && app.child.pid !== undefined) process.kill(app.child.pid, 'SIGKILL');
  });

  it('still answers any path with its version and pid', async () => {
    const res = await request(`${app.base}/anything`);
    const body = (await res.body.json()) as { version: string; pid: number; path: string };
    assert.deepEqual(body, { version: 'v9', pid: app.child.pid, path: '/anything' });
  });

  it('counts every byte of a 1 MB upload', async () => {
    const body = Buffer.alloc(1024 * 1024, 7);
    const res = await request(`${app.base}/upload`, { method: 'POST', body });
    assert.deepEqual(await res.body.json(), { version: 'v9', pid: app.child.pid, bytes: body.length });
  });

  it('streams a message every 200 ms for ?seconds, then an end event with the count', async () => {
    const res = await request(`${app.base}/events?seconds=0.6`);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    assert.equal(res.headers['x-app-pid'], String(app.child.pid));
    const parser = new SseParser();
    for await (const chunk of res.body) parser.push((chunk as Buffer).toString('utf8'));
    assert.equal(parser.messages, 3);
    assert.equal(parser.complete, true);
  });

  it('echoes WebSocket text and binary messages, and answers a close with the same code', async () => {
    const ws = await openWs(app.base);
    const echoes: string[] = [];
    ws.on('message', (data) => echoes.push(Buffer.isBuffer(data) ? data.toString('utf8') : ''));
    ws.send('hello');
    ws.send(Buffer.from('x'.repeat(70_000)));
    const closed = once(ws, 'close');
    while (echoes.length < 2) await once(ws, 'message');
    ws.close(1000);
    const [code] = (await closed) as [number];
    assert.deepEqual(echoes.map((e) => e.length), [5, 70_000]);
    assert.equal(code, 1000);
  });

  it('on SIGTERM finishes a stream in flight, then closes WebSockets with 1001, then exits 0', async () => {
    const ws = await openWs(app.base);
    // The stream is in flight once its head has arrived.
    const res = await request(`${app.base}/events?seconds=0.6`);
    const closedAt = once(ws, 'close').then(([code]) => ({ code: code as number, at: Date.now() }));
    const exited = once(app.child, 'exit');
    app.child.kill('SIGTERM');
    const parser = new SseParser();
    for await (const chunk of res.body) parser.push((chunk as Buffer).toString('utf8'));
    const answeredAt = Date.now();
    assert.equal(parser.complete, true, 'the stream ran to its end event');
    const closed = await closedAt;
    assert.equal(closed.code, 1001);
    assert.ok(closed.at >= answeredAt - 5, 'the WebSocket stays open while the stream is in flight');
    assert.deepEqual(await exited, [0, null]);
  });
});
