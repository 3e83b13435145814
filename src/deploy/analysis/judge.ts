// The verdict of one analysis interval: canary against stable over the same window, by absolute limits
// and by statistical comparison, so noise does not fail a good release and a real regression is caught.
// No verdict before the canary has minRequests: low traffic waits, it never fails for lack of data.
import type { AnalysisConfig } from '../../config/index.js';
import type { WindowTotals } from '../../metrics/rolling-window.js';
import { binLowerMs, LATENCY_BIN_COUNT } from '../../metrics/latency-bins.js';
import { latencyIncrease, proportionAboveLimit, quantileOfBins, twoProportionIncrease } from './statistics.js';

export type Outcome = 'pass' | 'fail' | 'inconclusive';

export interface SideStats {
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p99Ms: number;
}

export interface CheckResult {
  name: string;
  outcome: Outcome;
  detail: string;
  pValue?: number;
}

export interface Verdict {
  outcome: Outcome;
  summary: string;
  canary: SideStats;
  baseline: SideStats;
  checks: CheckResult[];
}

export function judge(canary: WindowTotals, baseline: WindowTotals, config: AnalysisConfig): Verdict {
  const c = stats(canary);
  const b = stats(baseline);
  const checks: CheckResult[] = [];
  if (canary.requests < config.minRequests) {
    const summary = `waiting for data: the canary has ${canary.requests} of ${config.minRequests} requests`;
    return { outcome: 'inconclusive', summary, canary: c, baseline: b, checks: [{ name: 'minRequests', outcome: 'inconclusive', detail: summary }] };
  }
  const confidence = config.confidence;
  if (config.maxErrorRate !== undefined) {
    const decision = proportionAboveLimit(canary.errors, canary.requests, config.maxErrorRate, confidence);
    checks.push({
      name: 'maxErrorRate',
      outcome: decision === 'above' ? 'fail' : decision === 'within' ? 'pass' : 'inconclusive',
      detail: `canary error rate ${pct(c.errorRate)} (${canary.errors}/${canary.requests}) vs limit ${pct(config.maxErrorRate)}`,
    });
  }
  if (config.maxErrorRateIncrease !== undefined) {
    if (baseline.requests < config.minRequests) {
      checks.push({ name: 'maxErrorRateIncrease', outcome: 'inconclusive', detail: `the baseline has only ${baseline.requests} requests` });
    } else {
      const t = twoProportionIncrease(canary.errors, canary.requests, baseline.errors, baseline.requests, config.maxErrorRateIncrease, confidence);
      checks.push({
        name: 'maxErrorRateIncrease',
        outcome: t.verdict === 'worse' ? 'fail' : t.verdict === 'ok' ? 'pass' : 'inconclusive',
        detail: `error rate ${pct(c.errorRate)} vs baseline ${pct(b.errorRate)} (+${pct(t.difference)}, allowed +${pct(config.maxErrorRateIncrease)})`,
        pValue: t.pValue,
      });
    }
  }
  if (config.maxP99Latency !== undefined) {
    const slow = slowerThan(canary.latency, config.maxP99Latency);
    const decision = proportionAboveLimit(slow, canary.requests, 0.01, confidence);
    checks.push({
      name: 'maxP99Latency',
      outcome: decision === 'above' ? 'fail' : decision === 'within' ? 'pass' : 'inconclusive',
      detail: `canary p99 ${ms(c.p99Ms)} vs limit ${ms(config.maxP99Latency)} (${slow}/${canary.requests} slower)`,
    });
  }
  if (config.maxLatencyIncrease !== undefined) {
    if (baseline.requests < config.minRequests) {
      checks.push({ name: 'maxLatencyIncrease', outcome: 'inconclusive', detail: `the baseline has only ${baseline.requests} requests` });
    } else {
      const t = latencyIncrease(canary.latency, baseline.latency, config.maxLatencyIncrease, confidence);
      // A big ratio of tiny latencies (2 ms vs 3 ms) is noise, not a regression users would feel.
      const negligible = c.p50Ms - b.p50Ms < config.latencyTolerance && c.p99Ms - b.p99Ms < config.latencyTolerance * 4;
      checks.push({
        name: 'maxLatencyIncrease',
        outcome: negligible || t.verdict === 'ok' ? 'pass' : t.verdict === 'worse' ? 'fail' : 'inconclusive',
        // Say which statistic was judged: "0% slower" beside p99 27 ms vs 10 ms reads as a bug otherwise.
        detail:
          `typical canary request ${ratioText(t.ratio)} than baseline (median of all pairwise latency ratios, allowed +${pct(config.maxLatencyIncrease)}; ` +
          `p50 ${ms(c.p50Ms)} vs ${ms(b.p50Ms)}, p99 ${ms(c.p99Ms)} vs ${ms(b.p99Ms)}; Mann-Whitney p=${t.pValue.toPrecision(2)})` +
          (negligible && t.verdict !== 'ok' ? `; the difference is within latencyTolerance (${ms(config.latencyTolerance)}), so it passes` : ''),
        pValue: t.pValue,
      });
    }
  }
  return combine(checks, c, b);
}

/** Folds check results (extra HTTP/command checks included) into one verdict. */
export function combine(checks: CheckResult[], canary: SideStats, baseline: SideStats): Verdict {
  const failed = checks.filter((x) => x.outcome === 'fail');
  const unsure = checks.filter((x) => x.outcome === 'inconclusive');
  const outcome: Outcome = failed.length > 0 ? 'fail' : unsure.length > 0 ? 'inconclusive' : 'pass';
  const shown = outcome === 'fail' ? failed : outcome === 'inconclusive' ? unsure : checks;
  const summary = shown.length === 0 ? 'no criteria configured' : shown.map((x) => `${x.name}: ${x.detail}`).join('; ');
  return { outcome, summary, canary, baseline, checks };
}

export function stats(totals: WindowTotals): SideStats {
  return {
    requests: totals.requests,
    errors: totals.errors,
    errorRate: totals.requests === 0 ? 0 : totals.errors / totals.requests,
    p50Ms: quantileOfBins(totals.latency, 0.5),
    p99Ms: quantileOfBins(totals.latency, 0.99),
  };
}

/** Requests in bins entirely above the limit (a conservative count of the slow ones). */
function slowerThan(bins: Float64Array, limitMs: number): number {
  let slow = 0;
  for (let b = 0; b < LATENCY_BIN_COUNT; b++) if (binLowerMs(b) >= limitMs) slow += bins[b]!;
  return slow;
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 2 : 1)}%`;
}

function ms(value: number): string {
  return Number.isNaN(value) ? 'n/a' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

function ratioText(ratio: number): string {
  return ratio >= 1 ? `${Math.round((ratio - 1) * 100)}% slower` : `${Math.round((1 - ratio) * 100)}% faster`;
}
