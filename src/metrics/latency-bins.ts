// Log-scale latency bins shared by the metrics recorder (one binOf per request) and the canary analysis
// (which compares whole histograms), so both sides agree on what "the same latency" means.

/** Each bin is this many times wider than the one before. */
export const BIN_RATIO = 1.25;

/** Bins in a histogram: bin 0 is under 0.1 ms, bins 1–62 are geometric, bin 63 is everything from ~102 s up. */
export const LATENCY_BIN_COUNT = 64;

const MIN_MS = 0.1;
const LAST = LATENCY_BIN_COUNT - 1;
const INV_LOG_RATIO = 1 / Math.log(BIN_RATIO);

// LOWER[k] is bin k's lower bound; the table, not the logarithm, is the authority on edges.
const LOWER = new Float64Array(LATENCY_BIN_COUNT);
for (let k = 1; k < LATENCY_BIN_COUNT; k++) LOWER[k] = MIN_MS * BIN_RATIO ** (k - 1);

/**
 * The bin of a latency: 0 below 0.1 ms, then bin k holds [0.1·1.25^(k−1), 0.1·1.25^k), and the last bin holds
 * everything from 0.1·1.25^62 ≈ 102 s up. Negative and NaN land in bin 0. One Math.log, no allocation.
 *
 * @example binOf(0.05) // 0
 * @example binOf(0.1) // 1
 * @example binOf(1) // 11, since 0.1·1.25^10 ≈ 0.93 ≤ 1 < 1.16
 */
export function binOf(ms: number): number {
  if (!(ms >= MIN_MS)) return 0;
  let bin = Math.min(LAST, 1 + Math.floor(Math.log(ms / MIN_MS) * INV_LOG_RATIO));
  // Rounding can put a value sitting on a bound one bin off; the table decides.
  if (ms < LOWER[bin]!) bin--;
  else if (bin < LAST && ms >= LOWER[bin + 1]!) bin++;
  return bin;
}

/**
 * Inclusive lower bound of a bin in ms: 0 for bin 0. NaN outside 0..LATENCY_BIN_COUNT−1.
 *
 * @example binLowerMs(1) // 0.1
 */
export function binLowerMs(bin: number): number {
  return LOWER[bin] ?? NaN;
}

/**
 * Exclusive upper bound of a bin in ms: Infinity for the last bin. NaN outside 0..LATENCY_BIN_COUNT−1.
 *
 * @example binUpperMs(1) // 0.125
 */
export function binUpperMs(bin: number): number {
  if (bin === LAST) return Infinity;
  return Number.isInteger(bin) && bin >= 0 && bin < LAST ? LOWER[bin + 1]! : NaN;
}

/**
 * A representative latency for a bin: the geometric mean of its bounds. The two open-ended bins are treated as
 * if they were ordinary 1.25× bins (bin 0 as [0.08, 0.1), the last from its lower bound up), so mids stay
 * evenly spaced on the log scale.
 *
 * @example binMidMs(1) // √(0.1·0.125) ≈ 0.1118
 */
export function binMidMs(bin: number): number {
  if (bin === 0) return MIN_MS / Math.sqrt(BIN_RATIO);
  if (bin === LAST) return LOWER[LAST]! * Math.sqrt(BIN_RATIO);
  return Math.sqrt(binLowerMs(bin) * binUpperMs(bin));
}

/**
 * The q-quantile (0 ≤ q ≤ 1) in ms of a histogram over latency-bins.ts's bins, interpolating geometrically
 * inside the bin (linearly in bin 0, which starts at 0). The open-ended last bin answers its lower bound, a floor.
 * NaN for an empty histogram or q outside [0, 1].
 *
 * @example quantileOfBins(countsWith100InBin11, 0.5) // binMidMs(11) ≈ 1.041
 */
export function quantileOfBins(counts: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) return NaN;
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] ?? 0;
  if (!(total > 0)) return NaN;
  const target = q * total;
  let below = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    const count = counts[bin] ?? 0;
    if (count === 0) continue;
    if (below + count >= target) {
      const f = (target - below) / count;
      if (bin === 0) return f * binUpperMs(0);
      if (bin >= LATENCY_BIN_COUNT - 1) return binLowerMs(bin);
      return binLowerMs(bin) * BIN_RATIO ** f;
    }
    below += count;
  }
  return NaN; // unreachable: the last non-empty bin reaches total
}
