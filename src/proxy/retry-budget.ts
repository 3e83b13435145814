// A retry budget stops retry storms: retries may be at most a share of recent requests (plus a small
// floor per second so a quiet service can still retry). Counted in 1 s buckets over a 10 s window.

const BUCKETS = 10;

export interface RetryBudgetPolicy {
  /** Retries allowed as a fraction of requests in the window (0.2 = 20%). */
  ratio: number;
  minPerSecond: number;
}

export class RetryBudget {
  private readonly requests = new Float64Array(BUCKETS);
  private readonly retries = new Float64Array(BUCKETS);
  private readonly epochs = new Float64Array(BUCKETS).fill(-1);

  constructor(public policy: RetryBudgetPolicy) {}

  recordRequest(now: number): void {
    this.requests[this.bucket(now)]!++;
  }

  /** Spends one retry if the budget allows it. */
  tryRetry(now: number): boolean {
    this.bucket(now);
    let requests = 0;
    let retries = 0;
    const second = Math.floor(now / 1000);
    for (let i = 0; i < BUCKETS; i++) {
      if (this.epochs[i]! > second - BUCKETS) {
        requests += this.requests[i]!;
        retries += this.retries[i]!;
      }
    }
    const allowed = Math.max(this.policy.minPerSecond * BUCKETS, requests * this.policy.ratio);
    if (retries >= allowed) return false;
    this.retries[this.bucket(now)]!++;
    return true;
  }

  private bucket(now: number): number {
    const second = Math.floor(now / 1000);
    const i = second % BUCKETS;
    if (this.epochs[i] !== second) {
      this.epochs[i] = second;
      this.requests[i] = 0;
      this.retries[i] = 0;
    }
    return i;
  }
}
