// Server-Sent Events sessions: back-to-back streams of /events?seconds=N. A stream is good when it
// ends with the app's `end` event and every message before it arrived; ending early is "truncated".
import type { Pool } from 'undici';
import { atMostEvery, RETRY_FLOOR_MS, spread } from './pacing.js';
import { errorKind, errorText } from './recorder.js';
import { pidOf, type Worker } from './http-clients.js';

/**
 * Reads an event stream incrementally: counts `data` messages and notices the final `end` event.
 * @example const p = new SseParser(); p.push('data: 1\n\nevent: end\ndata: {"count":1}\n\n'); p.complete // true
 */
export class SseParser {
  messages = 0;
  ended = false;
  /** The count the server said it sent, from the `end` event. */
  endCount: number | null = null;
  private pending = '';

  push(text: string): void {
    this.pending += text;
    for (;;) {
      const at = this.pending.indexOf('\n\n');
      if (at < 0) return;
      const block = this.pending.slice(0, at);
      this.pending = this.pending.slice(at + 2);
      this.event(block);
    }
  }

  /** The stream ended properly: an end event whose count matches the messages received. */
  get complete(): boolean {
    return this.ended && this.endCount === this.messages;
  }

  private event(block: string): void {
    let type = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (data === '' && type === 'message') return;
    if (type !== 'end') {
      this.messages++;
      return;
    }
    this.ended = true;
    try {
      const parsed = JSON.parse(data) as { count?: unknown };
      this.endCount = typeof parsed.count === 'number' ? parsed.count : null;
    } catch {
      this.endCount = null;
    }
  }
}

/** Back-to-back SSE streams of `minS`..`maxS` seconds each. */
export async function sseWorker(w: Worker, index: number, minS: number, maxS: number, graceMs: number): Promise<void> {
  for (let i = index * 5; ; i++) {
    if (!w.gate.take()) return;
    await atMostEvery(w.gate, RETRY_FLOOR_MS, () => stream(w.pool, w, spread(minS, maxS, i), graceMs));
  }
}

async function stream(pool: Pool, w: Worker, seconds: number, graceMs: number): Promise<void> {
  const { rec } = w;
  const start = rec.sent('sse');
  const parser = new SseParser();
  let gotHead = false;
  let pid: number | null = null;
  let connectedAt: number | null = null;
  try {
    const res = await pool.request({
      path: `/events?seconds=${seconds}`,
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      headersTimeout: graceMs,
      // Messages come every 200 ms: a silent stream for this long is stuck.
      bodyTimeout: graceMs,
      signal: AbortSignal.timeout(seconds * 1000 + graceMs),
    });
    gotHead = true;
    connectedAt = rec.now();
    pid = pidOf(res.headers['x-app-pid']);
    const version = res.headers['x-app-version'];
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      const why = res.headers['x-switchyard-error'];
      const detail = `status ${res.statusCode}${typeof why === 'string' ? ` (${why})` : ''}: ${text.slice(0, 120)}`;
      return rec.fail('sse', start, res.statusCode >= 500 ? '5xx' : 'bad-answer', detail, pid, connectedAt);
    }
    res.body.setEncoding('utf8');
    for await (const chunk of res.body) {
      const before = parser.messages;
      parser.push(chunk as string);
      if (parser.messages > before) rec.work('sse', parser.messages - before);
    }
    if (parser.complete) return rec.ok('sse', start, { version: typeof version === 'string' ? version : null, pid });
    const what = parser.ended ? `end event said ${String(parser.endCount)} messages, got ${parser.messages}` : `ended after ${parser.messages} messages without the end event`;
    rec.fail('sse', start, parser.ended ? 'bad-answer' : 'truncated', `${seconds} s stream ${what}`, pid, connectedAt);
  } catch (err) {
    const kind = errorKind(err, gotHead);
    rec.fail('sse', start, kind, `${seconds} s stream, ${parser.messages} messages in: ${errorText(err)}`, pid, connectedAt);
  }
}
