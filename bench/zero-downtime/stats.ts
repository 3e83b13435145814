// Percentiles and the median / p95 / max summary the figures print. Pure.

export interface Spread {
  count: number;
  median: number | null;
  p95: number | null;
  max: number | null;
}

/** Nearest-rank percentile; null for no values. */
export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Median, p95 and max of the known values (nulls are left out). */
export function spreadOf(values: readonly (number | null)[]): Spread {
  const known = values.filter((v): v is number => v !== null);
  return { count: known.length, median: percentile(known, 0.5), p95: percentile(known, 0.95), max: known.length === 0 ? null : Math.max(...known) };
}
