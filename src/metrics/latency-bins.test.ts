// Specification of the latency bins: where each latency lands, the bounds and representative value of each bin.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BIN_RATIO, binLowerMs, binMidMs, binOf, binUpperMs, LATENCY_BIN_COUNT } from './latency-bins.js';

const LAST = LATENCY_BIN_COUNT - 1;

/** A double one or two ulps below x > 0: x·(1 − 2⁻⁵²) never rounds back up to x. */
function justBelow(x: number): number {
  return x * (1 - 2 ** -52);
}

describe('binOf', () => {
  it('puts everything under 0.1 ms, and nonsense, in bin 0', () => {
    for (const ms of [0, 0.001, 0.0999, justBelow(0.1), -5, NaN, -Infinity]) assert.equal(binOf(ms), 0, String(ms));
  });

  it('starts bin 1 at exactly 0.1 ms and grows each bin by 1.25×', () => {
    assert.equal(binOf(0.1), 1);
    assert.equal(binOf(0.124), 1);
    assert.equal(binOf(0.125), 2); // 0.1·1.25
    assert.equal(binOf(0.15625), 3); // 0.1·1.25²
    // 1 ms: log(1/0.1)/log(1.25) = 2.302585/0.223144 = 10.32, so bin 1 + 10 = 11, i.e. [0.931, 1.164) ms.
    assert.equal(binOf(1), 11);
    // 100 s: log(1e6)/log(1.25) = 61.91, so bin 62, the last bounded one.
    assert.equal(binOf(100_000), 62);
  });

  it('sends everything from about 102 s up to the last bin', () => {
    assert.equal(LATENCY_BIN_COUNT, 64);
    assert.equal(binOf(0.1 * 1.25 ** 62), LAST);
    for (const ms of [200_000, 3_600_000, 1e300, Infinity]) assert.equal(binOf(ms), LAST, String(ms));
  });

  it('agrees with the bounds exactly at every edge, where a logarithm alone would round either way', () => {
    for (let k = 1; k < LATENCY_BIN_COUNT; k++) {
      const lower = binLowerMs(k);
      assert.equal(binOf(lower), k, `lower bound of bin ${k}`);
      assert.equal(binOf(justBelow(lower)), k - 1, `just below bin ${k}`);
    }
  });

  it('places any latency between its bin bounds', () => {
    for (let ms = 0.01; ms < 300_000; ms *= 1.0137) {
      const bin = binOf(ms);
      assert.ok(binLowerMs(bin) <= ms && ms < binUpperMs(bin), `${ms} ms in bin ${bin}`);
    }
  });
});

describe('bin bounds', () => {
  it('are contiguous: each upper bound is the next lower bound, 1.25× apart', () => {
    assert.equal(BIN_RATIO, 1.25);
    assert.equal(binLowerMs(0), 0);
    assert.equal(binUpperMs(0), 0.1);
    assert.equal(binLowerMs(1), 0.1);
    assert.equal(binUpperMs(1), 0.125);
    for (let k = 0; k < LAST; k++) assert.equal(binUpperMs(k), binLowerMs(k + 1));
    for (let k = 1; k < LAST; k++) assert.ok(Math.abs(binUpperMs(k) / binLowerMs(k) - 1.25) < 1e-12);
  });

  it('leave the last bin open-ended, from 0.1·1.25⁶² ≈ 101 958 ms', () => {
    assert.ok(Math.abs(binLowerMs(LAST) - 101_957.88) < 0.01);
    assert.equal(binUpperMs(LAST), Infinity);
  });

  it('are NaN for bins that do not exist', () => {
    for (const bin of [-1, LATENCY_BIN_COUNT, 1.5]) {
      assert.ok(Number.isNaN(binLowerMs(bin)), `lower ${bin}`);
      assert.ok(Number.isNaN(binUpperMs(bin)), `upper ${bin}`);
    }
  });
});

describe('binMidMs', () => {
  it('is the geometric mean of the bounds', () => {
    assert.ok(Math.abs(binMidMs(1) - Math.sqrt(0.1 * 0.125)) < 1e-15); // 0.111803
    for (let k = 1; k < LAST; k++) assert.ok(Math.abs(binMidMs(k) / Math.sqrt(binLowerMs(k) * binUpperMs(k)) - 1) < 1e-14);
  });

  it('treats the open-ended bins as ordinary 1.25× bins, so mids are evenly spaced on a log scale', () => {
    assert.ok(Math.abs(binMidMs(0) - 0.1 / Math.sqrt(1.25)) < 1e-15); // 0.089443, inside [0, 0.1)
    for (let k = 0; k < LAST; k++) assert.ok(Math.abs(binMidMs(k + 1) / binMidMs(k) - 1.25) < 1e-12, `bin ${k}`);
    assert.equal(binOf(binMidMs(0)), 0);
    assert.equal(binOf(binMidMs(LAST)), LAST);
  });
});
