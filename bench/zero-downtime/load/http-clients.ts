// The plain HTTP client classes of the load mix: paced keep-alive GETs, 1 MB POST uploads whose byte
// count the app echoes, and slow GETs (?sleep=2-5 s) that keep long requests in flight.
import type { Pool } from 'undici';
import { atMostEvery, Pacer, RETRY_FLOOR_MS, spread, type RunGate } from './pacing.js';
import { errorKind, errorText, type ClientClass, type Recorder } from './recorder.js';

export interface Worker {
  gate: RunGate;
  rec: Recorder;
  pool: Pool;
}

interface Exchange {
  cls: ClientClass;
  path: string;
  method: 'GET' | 'POST';
  body?: Buffer;
  timeoutMs: number;
  /** Keep the latency of good answers (for p99). */
  timed: boolean;
  /** Checks a 200 answer's JSON beyond having a version; returns a problem or null. */
  check?: (body: AppAnswer) => string | null;
}

export interface AppAnswer {
  version?: unknown;
  pid?: unknown;
  bytes?: unknown;
  error?: unknown;
}

/** Paced GET / on a keep-alive connection: `intervalMs` between sends. */
export async function getWorker(w: Worker, intervalMs: number, timeoutMs: number): Promise<void> {
  const pacer = new Pacer(intervalMs);
  for (;;) {
    await w.gate.wait(pacer.next());
    if (!w.gate.take()) return;
    await exchange(w, { cls: 'get', path: '/', method: 'GET', timeoutMs, timed: true });
  }
}

/** Paced 1 MB POSTs to /upload; the answer must count every byte. */
export async function uploadWorker(w: Worker, intervalMs: number, body: Buffer, timeoutMs: number): Promise<void> {
  const pacer = new Pacer(intervalMs);
  const check = (answer: AppAnswer) => (answer.bytes === body.length ? null : `the app counted ${String(answer.bytes)} bytes of ${body.length}`);
  for (;;) {
    await w.gate.wait(pacer.next());
    if (!w.gate.take()) return;
    await exchange(w, { cls: 'upload', path: '/upload', method: 'POST', body, timeoutMs, timed: true, check });
  }
}

/** Back-to-back slow GETs, each sleeping a different time in [minMs, maxMs] inside the app. */
export async function slowWorker(w: Worker, index: number, minMs: number, maxMs: number, graceMs: number): Promise<void> {
  for (let i = index * 7; ; i++) {
    if (!w.gate.take()) return;
    const sleep = spread(minMs, maxMs, i);
    await atMostEvery(w.gate, RETRY_FLOOR_MS, () => exchange(w, { cls: 'slow', path: `/?sleep=${sleep}`, method: 'GET', timeoutMs: sleep + graceMs, timed: false }));
  }
}

async function exchange(w: Worker, x: Exchange): Promise<void> {
  const { rec } = w;
  const start = rec.sent(x.cls);
  const t0 = performance.now();
  let gotHead = false;
  let pid: number | null = null;
  let connectedAt: number | null = null;
  try {
    const res = await w.pool.request({
      path: x.path,
      method: x.method,
      body: x.body,
      headers: x.body ? { 'content-type': 'application/octet-stream' } : undefined,
      headersTimeout: x.timeoutMs,
      bodyTimeout: x.timeoutMs,
    });
    gotHead = true;
    connectedAt = rec.now();
    // The app names itself at the start of its answer, so a body cut short still says who served it.
    pid = pidOf(res.headers['x-app-pid']);
    const text = await res.body.text();
    const latency = performance.now() - t0;
    const answer = parseAnswer(text);
    const version = typeof answer?.version === 'string' ? answer.version : null;
    if (res.statusCode === 500 && answer?.error === 'injected failure' && version !== null) {
      rec.injected(x.cls, start, version);
      return;
    }
    if (res.statusCode >= 500) {
      const why = res.headers['x-switchyard-error'];
      rec.fail(x.cls, start, '5xx', `status ${res.statusCode}${typeof why === 'string' ? ` (${why})` : ''}: ${text.slice(0, 120)}`, pid, connectedAt);
      return;
    }
    if (res.statusCode !== 200) return rec.fail(x.cls, start, 'bad-answer', `status ${res.statusCode}: ${text.slice(0, 120)}`, pid, connectedAt);
    if (answer === null || version === null) return rec.fail(x.cls, start, 'truncated', `200 with an incomplete body (${text.length} bytes)`, pid, connectedAt);
    const problem = x.check?.(answer) ?? null;
    if (problem !== null) return rec.fail(x.cls, start, 'bad-answer', problem, pid, connectedAt);
    rec.ok(x.cls, start, { version, pid }, x.timed ? latency : undefined);
  } catch (err) {
    rec.fail(x.cls, start, errorKind(err, gotHead), errorText(err), pid, connectedAt);
  }
}

/** The x-app-pid header as a number, or null. */
export function pidOf(header: string | string[] | undefined): number | null {
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isInteger(value) && value > 0 ? value : null;
}

function parseAnswer(text: string): AppAnswer | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}
