// Specification of the retry budget: retries capped at a share of recent requests over a sliding 10 s window.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from './retry-budget.js';

/** Spends retries at `now` until refused; returns how many were allowed (at most `cap`). */
function spend(budget: RetryBudget, now: number, cap = 10_000): number {
  let allowed = 0;
  while (allowed < cap && budget.tryRetry(now)) allowed++;
  return allowed;
}

/** Records `count` requests spread evenly over [from, to). */
function requests(budget: RetryBudget, count: number, from: number, to: number): void {
  for (let i = 0; i < count; i++) budget.recordRequest(from + Math.floor(((to - from) * i) / count));
}

const T0 = 1_700_000_000_000; // a whole second, like Date.now() values

describe('RetryBudget', () => {
  it('allows minPerSecond × 10 retries when there has been no traffic', () => {
    assert.equal(spend(new RetryBudget({ ratio: 0.2, minPerSecond: 3 }), T0), 30);
  });

  it('refuses every retry with no traffic and no floor', () => {
    assert.equal(spend(new RetryBudget({ ratio: 0.2, minPerSecond: 0 }), T0), 0);
  });

  it('allows retries up to the ratio of the requests in the window', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1 });
    requests(budget, 1000, T0, T0 + 10_000);
    assert.equal(spend(budget, T0 + 9_999), 200);
  });

  it('uses the floor when it is larger than the ratio allows', () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 5 });
    requests(budget, 100, T0, T0 + 1000); // 10% of 100 = 10 < floor 50
    assert.equal(spend(budget, T0 + 1000), 50);
  });

  it('counts retries spent earlier in the window against the budget', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 });
    requests(budget, 500, T0, T0 + 1000);
    assert.equal(spend(budget, T0 + 500, 60), 60);
    assert.equal(spend(budget, T0 + 4_000), 40);
  });

  it('forgets requests older than 10 seconds', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1 });
    requests(budget, 1000, T0, T0 + 1000); // all in the first second
    assert.equal(spend(budget, T0 + 9_999, 1), 1, 'still in the window at 9.999 s');
    const fresh = new RetryBudget({ ratio: 0.2, minPerSecond: 1 });
    requests(fresh, 1000, T0, T0 + 1000);
    assert.equal(spend(fresh, T0 + 10_000), 10, 'only the floor once the first second has left the window');
  });

  it('slides the window second by second', () => {
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0 });
    for (let s = 0; s < 10; s++) requests(budget, 10 * (s + 1), T0 + s * 1000, T0 + s * 1000 + 1000);
    // Seconds 0..9 hold 10, 20, ..., 100 requests: 550 in all.
    assert.equal(spend(budget, T0 + 9_500, 1), 1);
    const sliding = new RetryBudget({ ratio: 0.5, minPerSecond: 0 });
    for (let s = 0; s < 10; s++) requests(sliding, 10 * (s + 1), T0 + s * 1000, T0 + s * 1000 + 1000);
    // At 12.5 s the window is seconds 3..12: 40 + 50 + ... + 100 = 490 requests, so 245 retries.
    assert.equal(spend(sliding, T0 + 12_500), 245);
  });

  it('gives the budget back as spent retries leave the window', () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1 });
    assert.equal(spend(budget, T0), 10);
    assert.equal(spend(budget, T0 + 5_000), 0);
    assert.equal(spend(budget, T0 + 10_000), 10);
  });

  it('does not let counts from a second ten seconds ago leak into the bucket it shares', () => {
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0 });
    requests(budget, 1000, T0, T0 + 1000);
    budget.recordRequest(T0 + 10_000); // same ring slot as T0, ten seconds later
    budget.recordRequest(T0 + 10_001);
    assert.equal(spend(budget, T0 + 10_002), 1);
  });
});
