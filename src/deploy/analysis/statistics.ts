// The statistics behind canary verdicts: normal distribution, proportion tests and a rank test over latency
// histograms. Pure and dependency-free; a verdict is 'worse' only with both significance and effect size.
import { BIN_RATIO, quantileOfBins } from '../../metrics/latency-bins.js';

export { quantileOfBins };

/** How a canary compares with the baseline on one metric. */
export type Verdict = 'worse' | 'ok' | 'unsure';
/** Where a proportion stands against a fixed limit. */
export type LimitVerdict = 'above' | 'within' | 'unsure';

// ---------------------------------------------------------------------------------------------------------
// Normal distribution

const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * Standard normal CDF Φ(z). For |z| < 4, Hart's double-precision rational approximation as given by West (2005),
 * "Better approximations to cumulative normal functions"; beyond, Laplace's continued fraction to 40 terms.
 * The lower tail is computed directly, so small p-values keep their relative accuracy: absolute error below
 * 1e-15, relative error of Φ(−|z|) below 1e-12.
 *
 * @example normalCdf(1.96) // 0.9750021048517795
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const x = Math.abs(z);
  const density = Math.exp((-x * x) / 2) / SQRT_2PI; // underflows to 0 past |z| ≈ 38.6, as Φ does
  let tail: number; // Φ(−|z|)
  if (x < 4) {
    let num = 3.52624965998911e-2 * x + 0.700383064443688;
    num = num * x + 6.37396220353165;
    num = num * x + 33.912866078383;
    num = num * x + 112.079291497871;
    num = num * x + 221.213596169931;
    num = num * x + 220.206867912376;
    let den = 8.83883476483184e-2 * x + 1.75566716318264;
    den = den * x + 16.064177579207;
    den = den * x + 86.7807322029461;
    den = den * x + 296.564248779674;
    den = den * x + 637.333633378831;
    den = den * x + 793.826512519948;
    den = den * x + 440.413735824752;
    tail = (density * SQRT_2PI * num) / den;
  } else {
    // Φ(−x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))), evaluated from the inside out.
    let cf = x;
    for (let k = 40; k >= 1; k--) cf = x + k / cf;
    tail = density / cf;
  }
  return z > 0 ? 1 - tail : tail;
}

// Acklam's rational approximation (relative error 1.15e-9), then one Halley step on normalCdf.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239] as const;
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1] as const;
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] as const;
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416] as const;
const P_LOW = 0.02425;

/**
 * Inverse of the standard normal CDF: the z with Φ(z) = p. Acklam's algorithm refined by one Halley step on the
 * lower tail (the upper by symmetry): relative error below 1e-13 (1e-8 among subnormal p).
 * ±Infinity at 0 and 1, NaN outside [0, 1].
 *
 * @example normalQuantile(0.975) // 1.959963984540054
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p > 0.5) return -normalQuantile(1 - p); // 1 − p is exact here, and the lower tail keeps its precision
  if (p === 0) return -Infinity;
  let x: number;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  }
  const u = (normalCdf(x) - p) * SQRT_2PI * Math.exp((x * x) / 2);
  return Number.isFinite(u) ? x - u / (1 + (x * u) / 2) : x; // no refinement among subnormals
}

// ---------------------------------------------------------------------------------------------------------
// Proportions: error rates and "share of slow requests"

/** The Wilson score bound for z: the upper bound for z > 0, the lower for z < 0. */
function wilsonBound(successes: number, n: number, z: number): number {
  const p = successes / n;
  const z2n = (z * z) / n;
  const center = p + z2n / 2;
  const half = z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return Math.min(1, Math.max(0, (center + half) / (1 + z2n)));
}

/**
 * Two-sided Wilson score interval for a proportion at `confidence` (e.g. 0.98). With n = 0 nothing is known:
 * { low: 0, high: 1 }.
 *
 * @example wilsonInterval(10, 100, 0.95) // { low: 0.0552, high: 0.1744 } (rounded)
 */
export function wilsonInterval(successes: number, n: number, confidence: number): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  return {
    low: successes <= 0 ? 0 : wilsonBound(successes, n, -z),
    high: successes >= n ? 1 : wilsonBound(successes, n, z),
  };
}

/**
 * Is the true proportion above `limit`? 'above' when the one-sided Wilson lower bound at `confidence`
 * (z = normalQuantile(confidence)) exceeds the limit; 'within' when the observed x/n is at most the limit;
 * otherwise 'unsure' (above on paper, but could be noise). n = 0 is 'unsure'.
 * For "canary error rate over maxErrorRate" and "share of requests slower than maxP99Latency over 1%".
 *
 * @example proportionAboveLimit(40, 200, 0.05, 0.98) // 'above'
 * @example proportionAboveLimit(7, 100, 0.05, 0.98) // 'unsure': 7% on paper, but the lower bound is ≈ 0.033
 */
export function proportionAboveLimit(x: number, n: number, limit: number, confidence: number): LimitVerdict {
  if (n <= 0) return 'unsure';
  if (x > 0 && wilsonBound(x, n, -normalQuantile(confidence)) > limit) return 'above';
  return x / n <= limit ? 'within' : 'unsure';
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
] as const;

/** Natural log of Γ(x) for x ≥ 1 (Lanczos, g = 7, n = 9; relative error about 1e-15). */
function logGamma(x: number): number {
  const y = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * One-sided Fisher exact p-value for H1: p1 > p2, i.e. P(X ≥ x1) where X, the canary's failures, is
 * hypergeometric: n1 draws from n1 + n2 requests of which x1 + x2 failed. The sum starts next to the mean (one
 * term from log-gamma) and walks away from it by the pmf ratio, so terms only shrink and an underflow drops
 * nothing that matters: above the mean the upper tail directly, otherwise 1 − the lower tail.
 */
function fisherGreater(x1: number, n1: number, x2: number, n2: number): number {
  const failed = x1 + x2;
  const total = n1 + n2;
  const pmf = (k: number): number => Math.exp(logChoose(failed, k) + logChoose(total - failed, n1 - k) - logChoose(total, n1));
  const ratioUp = (k: number): number => ((failed - k) * (n1 - k)) / ((k + 1) * (total - failed - n1 + k + 1)); // P(k+1)/P(k)
  if (x1 > (n1 * failed) / total) {
    let term = pmf(x1);
    let upper = term;
    for (let k = x1; k < Math.min(failed, n1); k++) {
      term *= ratioUp(k);
      upper += term;
    }
    return Math.min(1, upper);
  }
  const lowest = Math.max(0, n1 - (total - failed));
  if (x1 - 1 < lowest) return 1;
  let term = pmf(x1 - 1);
  let lower = term;
  for (let k = x1 - 1; k > lowest; k--) {
    term /= ratioUp(k - 1);
    lower += term;
  }
  return Math.max(0, 1 - lower);
}

/**
 * Maximum-likelihood (p1, p2) under the constraint p1 − p2 = delta, in closed form (the cubic of
 * Farrington & Manning 1990, solved trigonometrically).
 */
function restrictedMle(x1: number, n1: number, x2: number, n2: number, delta: number): [number, number] {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const theta = n2 / n1;
  const a = 1 + theta;
  const b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2));
  const c = delta * delta + delta * (2 * p1 + theta + 1) + p1 + theta * p2;
  const d = -p1 * delta * (1 + delta);
  const v = b ** 3 / (27 * a ** 3) - (b * c) / (6 * a * a) + d / (2 * a);
  const u = (v < 0 ? -1 : 1) * Math.sqrt(Math.max(0, (b * b) / (9 * a * a) - c / (3 * a)));
  const w = u === 0 ? Math.PI / 2 : (Math.PI + Math.acos(Math.min(1, Math.max(-1, v / u ** 3)))) / 3;
  // Clamp away rounding so that both rates stay inside [0, 1].
  const q1 = Math.min(1, 1 + delta, Math.max(0, delta, 2 * u * Math.cos(w) - b / (3 * a)));
  return [q1, q1 - delta];
}

/**
 * Is group 1 (canary) worse than group 2 (baseline) by more than `margin`? One-sided test of H1: p1 − p2 > margin
 * on failure counts x out of n.
 *
 * - Normally a Farrington–Manning score test: z = (p̂1 − p̂2 − margin) / SE, with SE from the maximum-likelihood
 *   rates restricted to p1 − p2 = margin, no continuity correction. At margin 0 this is the pooled z-test.
 * - At margin 0 with any expected cell (n·p̄ or n·(1 − p̄), p̄ pooled) below 5, Fisher's exact test (one-sided,
 *   conditional on the margins; conservative), since the normal approximation is poor there. With a nonzero
 *   margin the score test is used at every size.
 *
 * Verdict: 'worse' when pValue < 1 − confidence; 'ok' when the observed difference ≤ margin; else 'unsure'.
 * Either n = 0: { difference: NaN, pValue: 1, verdict: 'unsure' }.
 *
 * @example twoProportionIncrease(40, 200, 20, 2000, 0, 0.98) // { difference: 0.19, pValue: ≈5e-56, verdict: 'worse' }
 */
export function twoProportionIncrease(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  margin: number,
  confidence: number,
): { difference: number; pValue: number; verdict: Verdict } {
  if (n1 <= 0 || n2 <= 0) return { difference: NaN, pValue: 1, verdict: 'unsure' };
  const difference = x1 / n1 - x2 / n2;
  let pValue: number;
  const pooled = (x1 + x2) / (n1 + n2);
  if (margin === 0 && Math.min(n1, n2) * Math.min(pooled, 1 - pooled) < 5) {
    pValue = fisherGreater(x1, n1, x2, n2);
  } else {
    const [q1, q2] = restrictedMle(x1, n1, x2, n2, margin);
    const se = Math.sqrt((q1 * (1 - q1)) / n1 + (q2 * (1 - q2)) / n2);
    pValue = se > 0 ? normalCdf((margin - difference) / se) : 1;
  }
  const verdict: Verdict = pValue < 1 - confidence ? 'worse' : difference <= margin ? 'ok' : 'unsure';
  return { difference, pValue, verdict };
}

// ---------------------------------------------------------------------------------------------------------
// Latency histograms (counts per bin of latency-bins.ts; a higher bin is slower)

/**
 * Mann-Whitney U test on two histograms over the same ordered bins; equal bins are ties and get midranks.
 * U counts the (canary, baseline) pairs where the canary is slower, ties counting ½. p-value is one-sided for
 * H1: the canary is stochastically slower, by the normal approximation with tie and continuity correction:
 * z = (U − n1·n2/2 − ½) / σ, σ² = n1·n2/12 · (N + 1 − Σ(t³ − t) / (N(N − 1))).
 * An empty side, or everything in one bin, gives { z: 0, pValue: 1 }: no evidence either way. O(bins).
 *
 * @example mannWhitneyBinned([0, 0, 0, 1, 1, 1], [0, 1, 1, 1]) // { u: 8.5, z: 1.5498, pValue: 0.0606, n1: 3, n2: 3 }
 */
export function mannWhitneyBinned(
  canary: ArrayLike<number>,
  baseline: ArrayLike<number>,
): { u: number; z: number; pValue: number; n1: number; n2: number } {
  const bins = Math.max(canary.length, baseline.length);
  let n1 = 0;
  let n2 = 0;
  let u = 0;
  let ties = 0; // Σ(t³ − t) over bins
  for (let i = 0; i < bins; i++) {
    const c = canary[i] ?? 0;
    const b = baseline[i] ?? 0;
    u += c * (n2 + b / 2); // n2 is still the baseline count below this bin
    n1 += c;
    n2 += b;
    const t = c + b;
    ties += t * t * t - t;
  }
  const n = n1 + n2;
  const variance = n1 > 0 && n2 > 0 ? ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))) : 0;
  if (!(variance > 0)) return { u, z: 0, pValue: 1, n1, n2 };
  const z = (u - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  return { u, z, pValue: normalCdf(-z), n1, n2 };
}

/**
 * Hodges-Lehmann shift between two histograms as a latency ratio: the median, over all canary × baseline pairs,
 * of (canary bin − baseline bin), as BIN_RATIO ** shift. A shift is a whole or half number of bins, so the
 * ratio moves in steps of about 12%. NaN when either side is empty. O(bins²).
 *
 * @example hodgesLehmannRatio([0, 0, 0, 0, 5], [0, 5]) // 1.25 ** 3 ≈ 1.953, "about 95% slower"
 */
export function hodgesLehmannRatio(canary: ArrayLike<number>, baseline: ArrayLike<number>): number {
  const bins = Math.max(canary.length, baseline.length);
  const offset = bins - 1; // weights[d + offset] holds the pairs whose bin difference is d
  const weights = new Float64Array(2 * bins - 1);
  let total = 0;
  for (let i = 0; i < bins; i++) {
    const c = canary[i] ?? 0;
    if (c === 0) continue;
    for (let j = 0; j < bins; j++) {
      const pairs = c * (baseline[j] ?? 0);
      weights[i - j + offset]! += pairs;
      total += pairs;
    }
  }
  if (!(total > 0)) return NaN;
  // The median of `total` ordered differences: at an exact half, the mean of the two middle ones.
  let cumulative = 0;
  for (let k = 0; k < weights.length; k++) {
    cumulative += weights[k]!;
    if (cumulative < total / 2) continue;
    let shift = k - offset;
    if (cumulative === total / 2) {
      let next = k + 1;
      while (weights[next] === 0) next++;
      shift = (k + next) / 2 - offset;
    }
    return BIN_RATIO ** shift;
  }
  return NaN; // unreachable: cumulative ends at total
}

/**
 * Is the canary slower than the baseline by more than `maxIncrease` (0.5 = 50%)? 'worse' needs both
 * significance (Mann-Whitney pValue < 1 − confidence) and effect size (Hodges-Lehmann ratio > 1 + maxIncrease),
 * so noise and tiny-but-significant shifts do not fail a deploy. 'ok' when the ratio ≤ 1 + maxIncrease; else
 * 'unsure'. Either side empty: ratio NaN, 'unsure'.
 *
 * @example latencyIncrease(canary, baseline, 0.5, 0.98) // canary 3× slower, 60 vs 600 requests:
 *   { ratio: 3.05 (5 bins), pValue: 2e-31, verdict: 'worse' }
 */
export function latencyIncrease(
  canary: ArrayLike<number>,
  baseline: ArrayLike<number>,
  maxIncrease: number,
  confidence: number,
): { ratio: number; pValue: number; verdict: Verdict } {
  const { pValue } = mannWhitneyBinned(canary, baseline);
  const ratio = hodgesLehmannRatio(canary, baseline);
  const limit = 1 + maxIncrease;
  const verdict: Verdict = pValue < 1 - confidence && ratio > limit ? 'worse' : ratio <= limit ? 'ok' : 'unsure';
  return { ratio, pValue, verdict };
}

