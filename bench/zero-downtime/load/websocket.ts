// WebSocket echo sessions on /ws: open, send a message every 100 ms for a few seconds, expect each
// echoed in order, close with 1000. A close with 1001 is a clean end only when switchyard sent it at a
// drain deadline (its reason says so); an app's own 1001 (on SIGTERM), any other code or an error is
// a failure.
import WebSocket from 'ws';
import { DRAIN_CLOSE_REASON } from '../../../src/proxy/websocket-frames.js';
import { pidOf } from './http-clients.js';
import { atMostEvery, RETRY_FLOOR_MS, spread, type RunGate } from './pacing.js';
import { errorText, type Recorder } from './recorder.js';

export interface WsOptions {
  url: string;
  minMs: number;
  maxMs: number;
  messageMs: number;
  graceMs: number;
}

export async function wsWorker(gate: RunGate, rec: Recorder, index: number, o: WsOptions): Promise<void> {
  for (let i = index * 3; ; i++) {
    if (!gate.take()) return;
    await atMostEvery(gate, RETRY_FLOOR_MS, () => session(rec, o, spread(o.minMs, o.maxMs, i)));
  }
}

function session(rec: Recorder, o: WsOptions, lengthMs: number): Promise<void> {
  const start = rec.sent('ws');
  return new Promise((resolve) => {
    const ws = new WebSocket(o.url, { handshakeTimeout: o.graceMs, perMessageDeflate: false });
    let pid: number | null = null;
    let connectedAt: number | null = null;
    let version: string | null = null;
    let opened = false;
    let clientClosed = false;
    let settled = false;
    let sent = 0;
    let echoed = 0;
    let lastError: unknown = null;
    let ticker: NodeJS.Timeout | undefined;
    let ender: NodeJS.Timeout | undefined;
    const finish = (record: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(ticker);
      clearTimeout(ender);
      clearTimeout(deadline);
      record();
      resolve();
    };
    const fail = (kind: 'connection' | '5xx' | 'timeout' | 'ws-close' | 'bad-answer', detail: string) =>
      finish(() => rec.fail('ws', start, kind, `${lengthMs} ms session, ${echoed}/${sent} echoed: ${detail}`, pid, connectedAt));
    const deadline = setTimeout(() => {
      fail('timeout', 'no clean end in time');
      ws.terminate();
    }, lengthMs + o.graceMs);

    ws.on('upgrade', (res) => {
      connectedAt = rec.now();
      const v = res.headers['x-app-version'];
      pid = pidOf(res.headers['x-app-pid']);
      version = typeof v === 'string' ? v : null;
    });
    ws.on('unexpected-response', (_req, res) => {
      const why = res.headers['x-switchyard-error'];
      const status = res.statusCode ?? 0;
      res.resume();
      fail(status >= 500 ? '5xx' : 'bad-answer', `handshake answered ${status}${typeof why === 'string' ? ` (${why})` : ''}`);
      ws.terminate();
    });
    ws.on('open', () => {
      opened = true;
      ticker = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(`m${sent++}`);
      }, o.messageMs);
      ender = setTimeout(() => {
        clearInterval(ticker);
        clientClosed = true;
        ws.close(1000, 'done');
      }, lengthMs);
    });
    ws.on('message', (data) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
      if (text !== `m${echoed}`) {
        fail('bad-answer', `expected echo m${echoed}, got ${text.slice(0, 40)}`);
        ws.terminate();
        return;
      }
      echoed++;
      rec.work('ws');
    });
    ws.on('error', (err) => {
      lastError = err;
      if (!opened) {
        const timedOut = /handshake has timed out/i.test(err.message);
        fail(timedOut ? 'timeout' : 'connection', errorText(err));
      }
    });
    ws.on('close', (code, reason) => {
      const why = `close ${code}${reason.length > 0 ? ` "${reason.toString('utf8')}"` : ''}${lastError ? ` after ${errorText(lastError)}` : ''}`;
      if (!opened) return fail('connection', why);
      if (code === 1001 && reason.toString('utf8') === DRAIN_CLOSE_REASON) return finish(() => rec.ok('ws', start, { version, pid, goingAway: true }));
      if (code === 1000 && clientClosed && echoed < sent) return fail('bad-answer', `${why}; ${sent - echoed} messages never echoed`);
      if (code === 1000) return finish(() => rec.ok('ws', start, { version, pid }));
      fail('ws-close', why);
    });
  });
}
