// Specification of the canary statistics against values worked out by hand (the working sits beside each),
// and of the verdicts: a clearly worse canary fails, noise does not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BIN_RATIO, binLowerMs, binMidMs, binOf, binUpperMs, LATENCY_BIN_COUNT } from '../../metrics/latency-bins.js';
import {
  hodgesLehmannRatio,
  latencyIncrease,
  mannWhitneyBinned,
  normalCdf,
  normalQuantile,
  proportionAboveLimit,
  quantileOfBins,
  twoProportionIncrease,
  wilsonInterval,
} from './statistics.js';

function near(actual: number, expected: number, tolerance: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} is not within ${tolerance} of ${expected}`);
}

/** mulberry32: a tiny seeded PRNG, so the "random" trials are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Latency histogram of n log-normal requests: median `medianMs`, log-spread `sigma` (Box-Muller). */
function logNormalHistogram(random: () => number, n: number, medianMs: number, sigma: number): Float64Array {
  const counts = new Float64Array(LATENCY_BIN_COUNT);
  for (let i = 0; i < n; i++) {
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    counts[binOf(medianMs * Math.exp(sigma * gauss))]!++;
  }
  return counts;
}

/** Histogram over bins 0..n−1 from a list of bin numbers: [3, 4, 5] → one each in bins 3, 4 and 5. */
function bins(...observations: number[]): number[] {
  const counts = new Array<number>(8).fill(0);
  for (const bin of observations) counts[bin]!++;
  return counts;
}

function binomial(random: () => number, n: number, p: number): number {
  let x = 0;
  for (let i = 0; i < n; i++) if (random() < p) x++;
  return x;
}

describe('normalCdf', () => {
  it('matches the normal table', () => {
    // Φ(1.96) = 1 − ½·erfc(1.96/√2) = 1 − ½·0.0499957895 = 0.9750021048
    near(normalCdf(1.96), 0.9750021048517795, 1e-13);
    // Φ(−1) = ½·erfc(1/√2) = ½·0.3173105079 = 0.1586552539
    near(normalCdf(-1), 0.15865525393145707, 1e-13);
    assert.equal(normalCdf(0), 0.5);
  });

  it('is symmetric and keeps relative accuracy far in the lower tail', () => {
    for (const z of [0.3, 1, 2.5, 4, 6]) near(normalCdf(z) + normalCdf(-z), 1, 1e-15, `z=${z}`);
    // Φ(−10) = ½·erfc(10/√2) = 7.619853024160527e-24
    near(normalCdf(-10) / 7.619853024160527e-24, 1, 1e-12);
    assert.equal(normalCdf(-Infinity), 0);
    assert.equal(normalCdf(Infinity), 1);
  });
});

describe('normalQuantile', () => {
  it('matches the normal table', () => {
    near(normalQuantile(0.975), 1.959963984540054, 1e-12); // the familiar 1.96
    near(normalQuantile(0.98), 2.053748910631823, 1e-12); // the z of a one-sided 98% bound
    near(normalQuantile(0.5), 0, 1e-15);
    near(normalQuantile(1e-10), -6.361340902404056, 1e-11);
  });

  it('inverts normalCdf', () => {
    for (const p of [1e-12, 0.001, 0.02, 0.02425, 0.1, 0.5, 0.7, 0.99, 1 - 1e-9]) {
      near(normalCdf(normalQuantile(p)) / p, 1, 1e-12, `p=${p}`);
    }
  });

  it('is infinite at 0 and 1 and NaN outside', () => {
    assert.equal(normalQuantile(0), -Infinity);
    assert.equal(normalQuantile(1), Infinity);
    assert.ok(Number.isNaN(normalQuantile(1.5)));
    assert.ok(Number.isNaN(normalQuantile(NaN)));
  });
});

describe('wilsonInterval', () => {
  it('gives [0.0552, 0.1744] for 10 of 100 at 95%', () => {
    // z = 1.959964, z² = 3.841459, z²/n = 0.0384146; centre = (0.1 + 0.0192073)/1.0384146 = 0.1147974;
    // half = (1.959964/1.0384146)·√(0.1·0.9/100 + 3.841459/40000) = 1.8874581·0.0315600 = 0.0595683;
    // centre ∓ half = 0.0552291, 0.1743657
    const { low, high } = wilsonInterval(10, 100, 0.95);
    near(low, 0.0552291, 1e-6);
    near(high, 0.1743657, 1e-6);
  });

  it('pins the bound at 0 or 1 when every request failed or none did, and knows nothing at n = 0', () => {
    assert.equal(wilsonInterval(0, 50, 0.98).low, 0);
    assert.ok(wilsonInterval(0, 50, 0.98).high > 0.05); // 0 of 50 does not prove the rate is under 5%
    assert.equal(wilsonInterval(50, 50, 0.98).high, 1);
    assert.deepEqual(wilsonInterval(0, 0, 0.98), { low: 0, high: 1 });
  });
});

describe('proportionAboveLimit', () => {
  it('is above when even the one-sided lower bound is over the limit', () => {
    // 40/200 = 20%; z = 2.053749, z²/n = 0.0210895; lower = (0.2 + 0.0105447 − 2.053749·√(0.0008 + 0.0000264))/1.0210895
    //   = (0.2105447 − 0.0590381)/1.0210894 = 0.148377 > 5%
    assert.equal(proportionAboveLimit(40, 200, 0.05, 0.98), 'above');
    // 5/200 = 2.5% of requests slower than maxP99Latency: lower bound 0.010322 > 1%
    assert.equal(proportionAboveLimit(5, 200, 0.01, 0.98), 'above');
  });

  it('is unsure when over the limit on paper but not beyond noise', () => {
    // 7/100: lower = (0.07 + 0.0210894 − 2.053749·√(0.000651 + 0.0001054))/1.0421788 = 0.033203 < 5%
    assert.equal(proportionAboveLimit(7, 100, 0.05, 0.98), 'unsure');
    // 4/200 = 2% of requests slow: lower bound 0.007484 < 1%
    assert.equal(proportionAboveLimit(4, 200, 0.01, 0.98), 'unsure');
    assert.equal(proportionAboveLimit(0, 0, 0.01, 0.98), 'unsure');
  });

  it('is within when the observed share is at or under the limit', () => {
    assert.equal(proportionAboveLimit(3, 100, 0.05, 0.98), 'within');
    assert.equal(proportionAboveLimit(5, 100, 0.05, 0.98), 'within');
    assert.equal(proportionAboveLimit(0, 10, 0, 0.98), 'within');
  });
});

describe('twoProportionIncrease', () => {
  it("uses Fisher's exact test on small counts: the tea-tasting table gives 17/70", () => {
    // 3 of 4 vs 1 of 4; margins fixed, X = canary failures ~ Hypergeometric(N 8, K 4, n 4):
    // P(X ≥ 3) = (C(4,3)·C(4,1) + C(4,4)·C(4,0)) / C(8,4) = (16 + 1)/70 = 0.242857
    const result = twoProportionIncrease(3, 4, 1, 4, 0, 0.98);
    near(result.pValue, 17 / 70, 1e-12);
    near(result.difference, 0.5, 1e-15);
    assert.equal(result.verdict, 'unsure');
  });

  it('fails a canary with 20% errors against a 1% baseline', () => {
    // 40/200 vs 20/2000: p̄ = 60/2200 = 0.0272727, every expected cell ≥ 5 (200·p̄ = 5.45), so the pooled z-test:
    // SE = √(0.0272727·0.9727273·(1/200 + 1/2000)) = 0.0120793; z = 0.19/0.0120793 = 15.7294; p = Φ(−15.73) ≈ 5e-56
    const result = twoProportionIncrease(40, 200, 20, 2000, 0, 0.98);
    near(result.difference, 0.19, 1e-15);
    near(result.pValue / normalCdf(-15.729409722493358), 1, 1e-9);
    assert.equal(result.verdict, 'worse');
    // Still worse than allowed when a 10-point increase is tolerated (score test under p1 − p2 = 0.1).
    assert.equal(twoProportionIncrease(40, 200, 20, 2000, 0.1, 0.98).verdict, 'worse');
  });

  it('is unsure about 1.2% against 1%, and ok once that is within the margin', () => {
    // 12/1000 vs 10/1000: p̄ = 0.011, SE = √(0.011·0.989·0.002) = 0.0046645, z = 0.002/0.0046645 = 0.42877, p = 0.33405
    const result = twoProportionIncrease(12, 1000, 10, 1000, 0, 0.98);
    near(result.pValue, 0.3340467, 1e-6);
    assert.equal(result.verdict, 'unsure');
    assert.equal(twoProportionIncrease(12, 1000, 10, 1000, 0.005, 0.98).verdict, 'ok');
  });

  it('is exact when a 100-request canary has too few errors for the normal approximation', () => {
    // 2/100 vs 10/1000: 100·12/1100 = 1.09 expected canary errors, so Fisher: P(X ≥ 2) = 1 − P(0) − P(1) with
    // P(0) = C(1000,100)/C(1100,100) ≈ 0.31671, P(1) = 12·C(1000,99)/C(1100,100) ≈ 0.38428, so p ≈ 0.29901
    const slightlyWorse = twoProportionIncrease(2, 100, 10, 1000, 0, 0.98);
    near(slightlyWorse.pValue, 0.2990093, 1e-6);
    assert.equal(slightlyWorse.verdict, 'unsure');
    assert.equal(twoProportionIncrease(1, 100, 10, 1000, 0, 0.98).verdict, 'ok'); // 1% vs 1%
    assert.equal(twoProportionIncrease(0, 100, 0, 1000, 0, 0.98).pValue, 1);
  });

  it('gives p = ½ when the observed difference is exactly the margin', () => {
    const margin = 40 / 200 - 20 / 2000;
    const result = twoProportionIncrease(40, 200, 20, 2000, margin, 0.98);
    near(result.pValue, 0.5, 1e-12);
    assert.equal(result.verdict, 'ok');
  });

  it('knows nothing when a side has no requests', () => {
    const result = twoProportionIncrease(0, 0, 3, 100, 0, 0.98);
    assert.equal(result.verdict, 'unsure');
    assert.equal(result.pValue, 1);
  });

  it('does not fail a canary with the same 1% error rate more than about 2% of the time', () => {
    const random = prng(7);
    let worse = 0;
    for (let trial = 0; trial < 200; trial++) {
      if (twoProportionIncrease(binomial(random, 500, 0.01), 500, binomial(random, 5000, 0.01), 5000, 0, 0.98).verdict === 'worse') worse++;
    }
    assert.ok(worse <= 8, `${worse} of 200 equal canaries judged worse`);
  });
});

describe('mannWhitneyBinned', () => {
  it('counts slower pairs with ties as halves: canary 3,4,5 against baseline 1,2,3 gives U = 8.5', () => {
    // Canary 3 beats 1 and 2 and ties 3 (2.5), 4 beats all three (3), 5 beats all three (3): U = 8.5. μ = 3·3/2 = 4.5.
    // One tie of size 2: σ² = 9/12·(7 − (8 − 2)/(6·5)) = 0.75·6.8 = 5.1; z = (8.5 − 4.5 − 0.5)/√5.1 = 1.549826;
    // p = 1 − Φ(1.549826) = 0.0605916
    const result = mannWhitneyBinned(bins(3, 4, 5), bins(1, 2, 3));
    assert.equal(result.u, 8.5);
    assert.equal(result.n1, 3);
    assert.equal(result.n2, 3);
    near(result.z, 1.5498260496951668, 1e-12);
    near(result.pValue, 0.0605916364187316, 1e-10);
  });

  it('agrees with counting the pairs one by one', () => {
    const random = prng(11);
    for (let trial = 0; trial < 20; trial++) {
      const canary = Array.from({ length: 10 }, () => Math.floor(random() * 4));
      const baseline = Array.from({ length: 10 }, () => Math.floor(random() * 4));
      let pairs = 0;
      canary.forEach((c, i) => baseline.forEach((b, j) => (pairs += c * b * (i > j ? 1 : i === j ? 0.5 : 0))));
      assert.equal(mannWhitneyBinned(canary, baseline).u, pairs);
    }
  });

  it('finds no evidence when every request falls in one bin', () => {
    // U = n1·n2/2 exactly and σ = 0: the permutation distribution is a single point, P(U ≥ 50) = 1.
    const result = mannWhitneyBinned(bins(5, 5, 5, 5, 5), bins(5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5));
    assert.equal(result.u, 50);
    assert.equal(result.pValue, 1);
  });

  it('gives p just over ½ for identical distributions', () => {
    const shape = [0, 0, 4, 10, 20, 10, 4];
    const result = mannWhitneyBinned(shape, shape.map((c) => c * 10));
    assert.equal(result.u, (48 * 480) / 2);
    assert.ok(result.pValue >= 0.5 && result.pValue < 0.52, String(result.pValue));
  });

  it('gives a tiny p for a large sample shifted two bins slower, and p near 1 the other way', () => {
    const random = prng(3);
    const baseline = logNormalHistogram(random, 2000, 40, 0.4);
    const slower = logNormalHistogram(random, 500, 40 * 1.25 ** 2, 0.4);
    assert.ok(mannWhitneyBinned(slower, baseline).pValue < 1e-20);
    assert.ok(mannWhitneyBinned(baseline, slower).pValue > 0.999);
  });

  it('knows nothing when a side is empty', () => {
    assert.equal(mannWhitneyBinned([], bins(1, 2)).pValue, 1);
    assert.equal(mannWhitneyBinned(bins(1, 2), [0, 0, 0]).pValue, 1);
  });
});

describe('hodgesLehmannRatio', () => {
  it('is 1.25³ for a distribution shifted three bins slower', () => {
    const baseline = [0, 0, 5, 10, 20, 10, 5, 1, 0, 0, 0];
    const canary = [0, 0, 0, 0, 0, 5, 10, 20, 10, 5, 1];
    assert.equal(hodgesLehmannRatio(canary, baseline), 1.25 ** 3); // 1.953125: "about 95% slower"
    assert.equal(hodgesLehmannRatio(baseline, canary), 1.25 ** -3);
    assert.equal(hodgesLehmannRatio(baseline, baseline), 1);
  });

  it('takes the median of the pairwise bin differences', () => {
    // Canary 3,4,5 minus baseline 1,2,3: 2,1,0, 3,2,1, 4,3,2 → sorted 0,1,1,2,[2],2,3,3,4 → 2 bins → 1.5625
    assert.equal(hodgesLehmannRatio(bins(3, 4, 5), bins(1, 2, 3)), 1.5625);
    // Canary 2,3 minus baseline 0: 2, 3 → even count, median 2.5 bins
    assert.equal(hodgesLehmannRatio(bins(2, 3), bins(0)), BIN_RATIO ** 2.5);
  });

  it('agrees with the median of the expanded pairwise differences', () => {
    const random = prng(5);
    for (let trial = 0; trial < 20; trial++) {
      const canary = Array.from({ length: 8 }, () => Math.floor(random() * 3));
      const baseline = Array.from({ length: 8 }, () => Math.floor(random() * 3));
      canary[0]! += 1; // neither side empty
      baseline[7]! += 1;
      const differences: number[] = [];
      canary.forEach((c, i) => baseline.forEach((b, j) => differences.push(...new Array<number>(c * b).fill(i - j))));
      differences.sort((a, b) => a - b);
      const mid = differences.length / 2;
      const median = differences.length % 2 === 1 ? differences[Math.floor(mid)]! : (differences[mid - 1]! + differences[mid]!) / 2;
      assert.equal(hodgesLehmannRatio(canary, baseline), BIN_RATIO ** median);
    }
  });

  it('is NaN when a side is empty', () => {
    assert.ok(Number.isNaN(hodgesLehmannRatio([0, 0], bins(1))));
  });
});

describe('latencyIncrease', () => {
  it('fails a canary three times slower, with 60 requests against 600', () => {
    // log(3)/log(1.25) = 4.92 bins; the median pairwise difference lands on 5 bins or near it: ratio ≈ 3.05.
    const random = prng(42);
    const baseline = logNormalHistogram(random, 600, 50, 0.5);
    const canary = logNormalHistogram(random, 60, 150, 0.5);
    const result = latencyIncrease(canary, baseline, 0.5, 0.98);
    assert.equal(result.verdict, 'worse');
    assert.ok(result.ratio > 2.4 && result.ratio < 3.9, String(result.ratio));
    assert.ok(result.pValue < 1e-10, String(result.pValue));
  });

  it('does not fail on noise: 200 canaries from the baseline distribution', () => {
    const random = prng(2024);
    let worse = 0;
    for (let trial = 0; trial < 200; trial++) {
      const baseline = logNormalHistogram(random, 1000, 50, 0.6);
      const canary = logNormalHistogram(random, 100, 50, 0.6);
      if (latencyIncrease(canary, baseline, 0.5, 0.98).verdict === 'worse') worse++;
    }
    assert.ok(worse <= 8, `${worse} of 200 judged worse`);
  });

  it('rests on a rank test that holds its level: about 2% of equal canaries significant at 2%', () => {
    // 1000 trials: expect 20 (sd 4.4); neither far above (false alarms) nor near 0 (a test too blunt to see).
    const random = prng(77);
    let significant = 0;
    for (let trial = 0; trial < 1000; trial++) {
      if (mannWhitneyBinned(logNormalHistogram(random, 100, 50, 0.6), logNormalHistogram(random, 1000, 50, 0.6)).pValue < 0.02) significant++;
    }
    assert.ok(significant >= 5 && significant <= 35, `${significant} of 1000 significant at 2%`);
  });

  it('passes a shift that is significant but smaller than allowed', () => {
    // 10% slower, 20 000 requests each: the rank test is sure, but 1.1 is well within 1 + 0.5.
    const random = prng(9);
    const result = latencyIncrease(logNormalHistogram(random, 20_000, 55, 0.5), logNormalHistogram(random, 20_000, 50, 0.5), 0.5, 0.98);
    assert.ok(result.pValue < 1e-6, String(result.pValue));
    assert.equal(result.verdict, 'ok');
  });

  it('is unsure about one slow request', () => {
    // U = 600 of 600 pairs, μ = 300, σ² = 600/12·602 (few ties ignored) ≈ 30100: z ≈ 1.73, p ≈ 0.04, not < 0.02.
    const random = prng(1);
    const baseline = logNormalHistogram(random, 600, 50, 0.3);
    const canary = new Float64Array(LATENCY_BIN_COUNT);
    canary[binOf(5_000)] = 1;
    const result = latencyIncrease(canary, baseline, 0.5, 0.98);
    assert.ok(result.ratio > 1.5);
    assert.equal(result.verdict, 'unsure');
  });

  it('is unsure with no canary traffic', () => {
    const result = latencyIncrease(new Float64Array(LATENCY_BIN_COUNT), bins(3, 4), 0.5, 0.98);
    assert.deepEqual({ verdict: result.verdict, pValue: result.pValue }, { verdict: 'unsure', pValue: 1 });
    assert.ok(Number.isNaN(result.ratio));
  });
});

describe('quantileOfBins', () => {
  const single = new Float64Array(LATENCY_BIN_COUNT);
  single[11] = 100; // every request in [0.931, 1.164) ms

  it('interpolates geometrically inside a single bin', () => {
    assert.equal(quantileOfBins(single, 0), binLowerMs(11));
    near(quantileOfBins(single, 0.5), binMidMs(11), 1e-15); // 0.1·1.25^10.5 = 1.0413 ms
    near(quantileOfBins(single, 0.99), binLowerMs(11) * 1.25 ** 0.99, 1e-15);
    near(quantileOfBins(single, 1), binUpperMs(11), 1e-15);
  });

  it('walks the cumulative counts across bins', () => {
    const counts = new Float64Array(LATENCY_BIN_COUNT);
    counts[10] = 50;
    counts[20] = 50;
    // p50 is the 50th of 100: the top of bin 10. p99: 49 of bin 20's 50, f = 0.98.
    near(quantileOfBins(counts, 0.5), binUpperMs(10), 1e-15);
    near(quantileOfBins(counts, 0.99), binLowerMs(20) * 1.25 ** 0.98, 1e-12);
  });

  it('is linear in bin 0 and answers the floor of the open-ended last bin', () => {
    const fast = new Float64Array(LATENCY_BIN_COUNT);
    fast[0] = 10;
    near(quantileOfBins(fast, 0.5), 0.05, 1e-15);
    const stuck = new Float64Array(LATENCY_BIN_COUNT);
    stuck[LATENCY_BIN_COUNT - 1] = 3;
    assert.equal(quantileOfBins(stuck, 0.99), binLowerMs(LATENCY_BIN_COUNT - 1));
  });

  it('is NaN for an empty histogram or a q outside [0, 1]', () => {
    assert.ok(Number.isNaN(quantileOfBins(new Float64Array(LATENCY_BIN_COUNT), 0.5)));
    assert.ok(Number.isNaN(quantileOfBins(single, 1.5)));
    assert.ok(Number.isNaN(quantileOfBins(single, -0.1)));
  });
});
