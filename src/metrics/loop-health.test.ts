import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LOOP_BUCKETS, loopBucketOf, LoopMonitor, LoopSeries } from './loop-health.js';
import { waitFor } from '../../test/helpers/wait.js';

/** V8's gc(), reachable without --expose-gc: the flag applies to contexts created after it is set. */
function forceGc(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') throw new Error('V8 did not expose gc() in a new context');
  (gc as () => void)();
}

const bucketOfBound = (seconds: number): number => LOOP_BUCKETS.indexOf(seconds as (typeof LOOP_BUCKETS)[number]);

describe('event-loop delay and GC pauses', () => {
  it('puts a duration in the first bucket whose bound holds it, and past the last into +Inf', () => {
    assert.equal(loopBucketOf(0.2), 0);
    assert.equal(loopBucketOf(0.5), 0);
    assert.equal(loopBucketOf(0.6), 1);
    assert.equal(loopBucketOf(30_000), LOOP_BUCKETS.length);
  });

  it('sees a 60 ms stall of this process in the 100 ms bucket, and nothing of it after take()', async () => {
    const monitor = new LoopMonitor('test');
    const ticked = () => waitFor(() => monitor.take().delay.some((n) => n > 0), { timeout: 5000, message: 'the loop-delay timer to tick' });
    const over = (counts: number[], seconds: number) => counts.slice(bucketOfBound(seconds) + 1).reduce((a, b) => a + b, 0);
    try {
      await ticked();
      const until = performance.now() + 60;
      while (performance.now() < until) {
        // A stall: the loop cannot run its timers.
      }
      const sample = await waitFor(() => {
        const taken = monitor.take();
        return taken.delay.some((n) => n > 0) ? taken : undefined;
      }, { timeout: 5000, message: 'the tick after the stall' });
      assert.equal(sample.process, 'test');
      assert.ok(over(sample.delay, 0.025) >= 1, `a stall over 25 ms was counted: ${sample.delay.join(',')}`);
      assert.ok(sample.delaySumSeconds >= 0.02, `the stall adds to the sum: ${sample.delaySumSeconds}`);
      const next = await waitFor(() => {
        const taken = monitor.take();
        return taken.delay.some((n) => n > 0) ? taken : undefined;
      }, { timeout: 5000, message: 'another tick' });
      assert.equal(over(next.delay, 0.05), 0, `the stall was reported once: ${next.delay.join(',')}`);
    } finally {
      monitor.stop();
    }
  });

  it('counts garbage-collection pauses', async () => {
    const monitor = new LoopMonitor('test');
    try {
      // A forced full collection: allocation loops are unreliable here, since the optimiser can prove
      // their garbage never escapes and allocate none of it.
      forceGc();
      const sample = await waitFor(
        () => {
          const taken = monitor.take();
          return taken.gc.some((n) => n > 0) ? taken : undefined;
        },
        { timeout: 5000, interval: 20, message: 'a GC pause to be observed' },
      );
      assert.ok(sample.gcSumSeconds > 0);
    } finally {
      monitor.stop();
    }
  });

  it('adds samples of one process up, as Prometheus counters need', () => {
    const series = new LoopSeries();
    const delay = new Array<number>(LOOP_BUCKETS.length + 1).fill(0);
    delay[0] = 95;
    delay[3] = 5;
    series.add({ process: 'proxy-1', delay, delaySumSeconds: 0.02, gc: [...delay], gcSumSeconds: 0.001 });
    series.add({ process: 'proxy-1', delay, delaySumSeconds: 0.02, gc: [...delay], gcSumSeconds: 0.001 });
    assert.equal(series.delay[0], 190);
    assert.equal(series.delay[3], 10);
    assert.ok(Math.abs(series.delaySumSeconds - 0.04) < 1e-12);
  });
});
