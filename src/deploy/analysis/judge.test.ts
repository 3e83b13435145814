// Specification of the canary verdict for one interval, from window totals built by hand: no verdict
// before minRequests, absolute limits (error rate, p99) and relative ones (latency and error-rate
// increase, by a statistical test), latency differences under latencyTolerance ignored, extra checks folded in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deploySchema } from '../../config/deploy-schema.js';
import { binOf, LATENCY_BIN_COUNT } from '../../metrics/latency-bins.js';
import type { WindowTotals } from '../../metrics/rolling-window.js';
import { combine, judge, stats, type CheckResult } from './judge.js';

type AnalysisConfig = ReturnType<typeof deploySchema.parse>['analysis'];

/** The analysis section as written in switchyard.yaml, with its defaults. */
function config(analysis: Record<string, unknown>): AnalysisConfig {
  return deploySchema.parse({ analysis }).analysis;
}

/**
 * Window totals of `requests` requests, `errors` of them errors, whose latencies cycle through `latenciesMs`
 * (a spread of values, like a real window).
 */
function totals(requests: number, errors: number, latenciesMs: number[]): WindowTotals {
  const latency = new Float64Array(LATENCY_BIN_COUNT);
  for (let i = 0; i < requests; i++) latency[binOf(latenciesMs[i % latenciesMs.length]!)]!++;
  return { requests, errors, upstreamErrors: 0, latency };
}

/** n latencies spread evenly over ±15% around `ms`. */
function around(ms: number, n = 11): number[] {
  return Array.from({ length: n }, (_, i) => ms * (0.85 + (0.3 * i) / (n - 1)));
}

const BASELINE = totals(900, 9, around(20));

function check(verdict: ReturnType<typeof judge>, name: string): CheckResult {
  const found = verdict.checks.find((c) => c.name === name);
  assert.ok(found, `no ${name} check in ${JSON.stringify(verdict.checks)}`);
  return found;
}

describe('the canary verdict', () => {
  describe('before minRequests', () => {
    it('gives no verdict ("waiting for data"), however bad the few requests look', () => {
      const analysis = config({ minRequests: 50, maxErrorRate: '1%', maxLatencyIncrease: '50%', maxP99Latency: '100ms' });
      const verdict = judge(totals(10, 10, [900]), BASELINE, analysis);
      assert.equal(verdict.outcome, 'inconclusive');
      assert.match(verdict.summary, /^waiting for data: the canary has 10 of 50 requests/);
      assert.deepEqual(
        verdict.checks.map((c) => [c.name, c.outcome]),
        [['minRequests', 'inconclusive']],
      );
      assert.equal(verdict.canary.requests, 10);
      assert.equal(verdict.canary.errorRate, 1);
    });

    it('with no traffic at all: inconclusive, never a failure', () => {
      const verdict = judge(totals(0, 0, [1]), totals(0, 0, [1]), config({ minRequests: 1, maxErrorRate: '1%' }));
      assert.equal(verdict.outcome, 'inconclusive');
      assert.match(verdict.summary, /waiting for data: the canary has 0 of 1 requests/);
    });
  });

  describe('maxErrorRate', () => {
    const analysis = config({ minRequests: 50, maxErrorRate: '1%' });

    it('fails a canary with 20% errors against a 1% limit, with the numbers in the summary', () => {
      const verdict = judge(totals(200, 40, around(20)), BASELINE, analysis);
      assert.equal(verdict.outcome, 'fail');
      assert.equal(check(verdict, 'maxErrorRate').outcome, 'fail');
      assert.match(verdict.summary, /maxErrorRate: canary error rate 20\.0% \(40\/200\) vs limit 1\.00%/);
      assert.deepEqual([verdict.canary.requests, verdict.canary.errors, verdict.canary.errorRate], [200, 40, 0.2]);
    });

    it('fails it as soon as minRequests is reached (20% of 50)', () => {
      assert.equal(judge(totals(50, 10, around(20)), BASELINE, analysis).outcome, 'fail');
    });

    it('passes a canary without errors', () => {
      const verdict = judge(totals(200, 0, around(20)), BASELINE, analysis);
      assert.equal(verdict.outcome, 'pass');
      assert.equal(check(verdict, 'maxErrorRate').outcome, 'pass');
    });

    it('does not fail on one unlucky error just over the limit (inconclusive: it could be noise)', () => {
      // 1 of 60 is 1.7%: above 1% on paper, but the one-sided 98% Wilson lower bound is far below it.
      const verdict = judge(totals(60, 1, around(20)), BASELINE, analysis);
      assert.equal(verdict.outcome, 'inconclusive');
    });

    it('counts upstream errors: they are in `errors`', () => {
      const failing: WindowTotals = { ...totals(200, 40, around(20)), upstreamErrors: 40 };
      assert.equal(judge(failing, BASELINE, analysis).outcome, 'fail');
    });
  });

  describe('maxLatencyIncrease', () => {
    const analysis = config({ minRequests: 50, maxLatencyIncrease: '50%' });

    it('fails a canary 3× slower than the baseline (60 ms vs 20 ms)', () => {
      const verdict = judge(totals(100, 0, around(60)), BASELINE, analysis);
      assert.equal(verdict.outcome, 'fail');
      const latency = check(verdict, 'maxLatencyIncrease');
      assert.equal(latency.outcome, 'fail');
      assert.ok(latency.pValue !== undefined && latency.pValue < 0.02, `Mann-Whitney p = ${latency.pValue}`);
      assert.match(latency.detail, /^typical canary request \d+% slower than baseline \(median of all pairwise latency ratios, allowed \+50\.0%; p50 \d+ ms vs \d+ ms/);
      assert.ok(verdict.canary.p50Ms > 2.5 * verdict.baseline.p50Ms, `p50 ${verdict.canary.p50Ms} vs ${verdict.baseline.p50Ms}`);
    });

    it('passes a canary as fast as the baseline, and one faster', () => {
      assert.equal(judge(totals(100, 0, around(20)), BASELINE, analysis).outcome, 'pass');
      assert.equal(judge(totals(100, 0, around(8)), BASELINE, analysis).outcome, 'pass');
    });

    it('passes 3 ms against 2 ms: 50% slower, but under latencyTolerance (default 5 ms)', () => {
      const fast = totals(900, 0, around(2));
      const canary = totals(100, 0, around(3));
      const verdict = judge(canary, fast, analysis);
      assert.equal(verdict.outcome, 'pass');
      assert.match(check(verdict, 'maxLatencyIncrease').detail, /; the difference is within latencyTolerance \(5\.0 ms\), so it passes$/);
      // The same numbers with no tolerance are a clear, significant 50% increase: the tolerance is what passes them.
      assert.equal(judge(canary, fast, config({ minRequests: 50, maxLatencyIncrease: '50%', latencyTolerance: '0ms' })).outcome, 'fail');
    });

    it('is inconclusive while the baseline has fewer than minRequests', () => {
      const verdict = judge(totals(100, 0, around(60)), totals(20, 0, around(20)), analysis);
      assert.equal(verdict.outcome, 'inconclusive');
      assert.match(check(verdict, 'maxLatencyIncrease').detail, /the baseline has only 20 requests/);
    });
  });

  describe('maxP99Latency', () => {
    const analysis = config({ minRequests: 50, maxP99Latency: '500ms' });

    it('fails a canary whose slowest 5% take 800 ms against a 500 ms limit', () => {
      const slow = totals(200, 0, [...Array.from({ length: 19 }, () => 50), 800]);
      const verdict = judge(slow, BASELINE, analysis);
      assert.equal(verdict.outcome, 'fail');
      assert.match(check(verdict, 'maxP99Latency').detail, /^canary p99 \d+ ms vs limit 500 ms \(10\/200 slower\)/);
      assert.ok(verdict.canary.p99Ms > 500);
    });

    it('passes a canary well under the limit, even when it is slower than the baseline', () => {
      assert.equal(judge(totals(200, 0, around(120)), BASELINE, analysis).outcome, 'pass');
    });
  });

  describe('maxErrorRateIncrease', () => {
    const analysis = config({ minRequests: 50, maxErrorRateIncrease: '2%' });

    it('fails a canary at 10% errors against a baseline at 1% (allowed +2%)', () => {
      const verdict = judge(totals(200, 20, around(20)), totals(1800, 18, around(20)), analysis);
      assert.equal(verdict.outcome, 'fail');
      const increase = check(verdict, 'maxErrorRateIncrease');
      assert.ok(increase.pValue !== undefined && increase.pValue < 0.02);
      assert.match(increase.detail, /error rate 10\.0% vs baseline 1\.00% \(\+9\.00%, allowed \+2\.00%\)/);
    });

    it('passes a canary as good as the baseline', () => {
      assert.equal(judge(totals(200, 2, around(20)), totals(1800, 18, around(20)), analysis).outcome, 'pass');
    });

    it('is inconclusive while the baseline has fewer than minRequests', () => {
      assert.equal(judge(totals(200, 20, around(20)), totals(10, 0, around(20)), analysis).outcome, 'inconclusive');
    });
  });

  it('with every criterion: passes a good canary, naming each check', () => {
    const analysis = config({ minRequests: 50, maxErrorRate: '1%', maxP99Latency: '500ms', maxLatencyIncrease: '50%', maxErrorRateIncrease: '1%' });
    const verdict = judge(totals(300, 0, around(21)), BASELINE, analysis);
    assert.equal(verdict.outcome, 'pass', verdict.summary);
    assert.deepEqual(verdict.checks.map((c) => c.name).sort(), ['maxErrorRate', 'maxErrorRateIncrease', 'maxLatencyIncrease', 'maxP99Latency']);
  });

  it('with no criteria: passes ("no criteria configured")', () => {
    const verdict = judge(totals(100, 50, around(20)), BASELINE, config({ minRequests: 50 }));
    assert.equal(verdict.outcome, 'pass');
    assert.equal(verdict.summary, 'no criteria configured');
  });

  describe('combine()', () => {
    const canary = stats(totals(200, 0, around(20)));
    const baseline = stats(BASELINE);
    const pass: CheckResult = { name: 'maxErrorRate', outcome: 'pass', detail: 'canary error rate 0.00% (0/200) vs limit 1.00%' };
    const httpFail: CheckResult = { name: 'http http://127.0.0.1:9/check', outcome: 'fail', detail: 'HTTP 503' };
    const unsure: CheckResult = { name: 'maxLatencyIncrease', outcome: 'inconclusive', detail: 'the baseline has only 3 requests' };

    it('fails on an extra failing check, and the summary shows only what failed', () => {
      const verdict = combine([pass, unsure, httpFail], canary, baseline);
      assert.equal(verdict.outcome, 'fail');
      assert.equal(verdict.summary, 'http http://127.0.0.1:9/check: HTTP 503');
      assert.equal(verdict.checks.length, 3);
    });

    it('adds an extra failing check to a passing judge() verdict', () => {
      const passing = judge(totals(200, 0, around(20)), BASELINE, config({ minRequests: 50, maxErrorRate: '1%' }));
      assert.equal(passing.outcome, 'pass');
      const verdict = combine([...passing.checks, httpFail], passing.canary, passing.baseline);
      assert.equal(verdict.outcome, 'fail');
      assert.deepEqual(verdict.canary, passing.canary);
    });

    it('is inconclusive when nothing failed but something is unsure; passes when all pass, listing every check', () => {
      assert.equal(combine([pass, unsure], canary, baseline).outcome, 'inconclusive');
      assert.equal(combine([pass, unsure], canary, baseline).summary, 'maxLatencyIncrease: the baseline has only 3 requests');
      const ok = combine([pass, { ...httpFail, outcome: 'pass', detail: 'HTTP 200' }], canary, baseline);
      assert.equal(ok.outcome, 'pass');
      assert.equal(ok.summary, 'maxErrorRate: canary error rate 0.00% (0/200) vs limit 1.00%; http http://127.0.0.1:9/check: HTTP 200');
    });
  });
});
