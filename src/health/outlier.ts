// Passive outlier detection: an endpoint whose requests fail several times in a row (connect failures
// or 5xx) is ejected for a while, longer each time it happens again, but never while that would leave
// more than a set share of a release's endpoints out of rotation (for any reason), so detection cannot
// empty a release.
import type { Endpoint } from '../proxy/endpoint.js';

export interface OutlierPolicy {
  consecutiveFailures: number;
  baseEjectionTime: number;
  maxEjectionTime: number;
  /** Fraction of a release's endpoints that may be ejected at the same time. */
  maxEjectionPercent: number;
}

export function recordSuccess(endpoint: Endpoint): void {
  endpoint.consecutiveFailures = 0;
}

/** Counts a failure; returns the ejection time when this failure ejected the endpoint, else 0. */
export function recordFailure(
  endpoint: Endpoint,
  peers: readonly Endpoint[],
  policy: OutlierPolicy,
  now: number,
): number {
  endpoint.consecutiveFailures++;
  if (endpoint.consecutiveFailures < policy.consecutiveFailures || endpoint.ejectedUntil > now) return 0;
  let unavailable = 0;
  for (const peer of peers) if (!peer.isAvailable(now)) unavailable++;
  // The epsilon keeps 50 × 58% at 29, not floor(28.999…).
  if (unavailable + 1 > Math.floor(peers.length * policy.maxEjectionPercent + 1e-9)) return 0;
  // A long quiet spell since the last ejection forgives earlier ones.
  if (endpoint.ejectedUntil > 0 && now - endpoint.ejectedUntil > policy.maxEjectionTime) endpoint.ejectionCount = 0;
  endpoint.ejectionCount++;
  const duration = Math.min(policy.baseEjectionTime * endpoint.ejectionCount, policy.maxEjectionTime);
  endpoint.ejectedUntil = now + duration;
  endpoint.consecutiveFailures = 0;
  return duration;
}
