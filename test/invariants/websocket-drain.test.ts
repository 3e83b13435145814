// Invariant 9 end to end: a WebSocket open on an instance that a rolling deploy takes out of rotation
// keeps echoing while the instance drains, and at the drain deadline switchyard closes it with 1001 and
// its own reason, before the app is told to stop (the example app's own 1001 on SIGTERM has no reason).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { DRAIN_CLOSE_REASON } from '../../src/proxy/websocket-frames.js';
import { Switchyard } from '../helpers/deploy-harness.js';
import { waitFor } from '../helpers/wait.js';

const DRAIN_MS = 4000;

describe('a WebSocket on an instance that starts draining', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({ instances: 1, drainTimeout: `${DRAIN_MS}ms`, stopTimeout: '5s', deploy: { strategy: 'rolling' } });
  });
  after(async () => sy?.close());

  it('keeps working until the drain deadline, then gets 1001 from switchyard, not from the app', async () => {
    const ws = new WebSocket(`${sy.proxyUrl.replace('http', 'ws')}/ws`, { perMessageDeflate: false });
    let pid: number | null = null;
    ws.on('upgrade', (res) => (pid = Number(res.headers['x-app-pid'])));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    /** Date.now() of each echo, in order; a wrong or out-of-order echo is recorded as a problem. */
    const echoes: number[] = [];
    const problems: string[] = [];
    ws.on('message', (data: Buffer) => {
      if (data.toString() !== `m${echoes.length}`) problems.push(`expected m${echoes.length}, got ${data.toString()}`);
      echoes.push(Date.now());
    });
    const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
      ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString(), at: Date.now() })),
    );
    let sent = 0;
    // Bounded: stops at the close, or after 600 messages.
    const ticker = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN && sent < 600) ws.send(`m${sent++}`);
    }, 100);
    try {
      await waitFor(() => echoes.length >= 5, { message: 'echoes before the deploy' });
      const { id } = await sy.deploy({ version: 'v2' });
      const close = await Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000))]);
      assert.ok(close !== null, 'the WebSocket was closed within a minute');
      const done = await sy.finished(id, 60_000);
      assert.equal(done.state, 'succeeded', String(done.reason));

      const oldInstance = sy.instanceRecords().find((r) => r.pid === pid);
      assert.ok(oldInstance !== undefined, `the session's app process ${pid} is an instance`);
      const drainStart = Date.parse(sy.events().find((e) => e.type === 'instance.draining' && e.instanceId === oldInstance.id)!.time);
      assert.deepEqual(problems, []);
      assert.deepEqual([close.code, close.reason], [1001, DRAIN_CLOSE_REASON], 'closed by switchyard at the drain deadline');
      // It kept working while draining: echoes until shortly before the deadline.
      const lastEcho = echoes.at(-1)!;
      assert.ok(lastEcho >= drainStart + DRAIN_MS - 1000, `the last echo came ${lastEcho - drainStart} ms into the ${DRAIN_MS} ms drain`);
      assert.ok(close.at >= drainStart + DRAIN_MS - 100, `closed ${close.at - drainStart} ms into the ${DRAIN_MS} ms drain, not before its deadline`);
    } finally {
      clearInterval(ticker);
      ws.terminate();
    }
  });
});
