// What an exchange and a WebSocket handshake share about attempts at an upstream: charging a failure
// to the endpoint it hit (passive outlier ejection), deciding whether invariant 5 allows another
// attempt, and the service as the current table has it for that attempt (invariant 6).
import { recordFailure } from '../health/outlier.js';
import { stripPathPrefix } from './host-router.js';
import type { Endpoint } from './endpoint.js';
import type { UpstreamFailure } from './errors.js';
import type { ProxyContext } from './proxy-context.js';
import type { ReleaseRoute, ServiceRoute } from './routing-table.js';

/** Counts an upstream failure towards ejecting `endpoint`; reports an ejection it caused. */
export function chargeFailure(ctx: ProxyContext, service: ServiceRoute, release: ReleaseRoute | null, endpoint: Endpoint): void {
  const peers = release?.endpoints ?? [endpoint];
  const ejectedFor = recordFailure(endpoint, peers, service.policy.outlier, Date.now());
  if (ejectedFor > 0) ctx.events.onEjected(service.name, endpoint, ejectedFor);
}

/**
 * Invariant 5: another attempt only when this one provably never reached an app (refused before
 * anything was written), or when the request is idempotent and nothing was sent to the client yet;
 * always within the service's retry count. The retry budget caps only retries of attempts an app may
 * have worked on: those multiply load on apps in an outage. A connection that was refused or never
 * set up cost no app anything, and moving the request to another endpoint adds no work (nginx and
 * HAProxy retry these unbudgeted too); budgeting them turned a dead host's endpoints, still in the
 * tables for its lease's length, into 502s once a burst of refusals had spent the budget.
 */
export function mayRetry(service: ServiceRoute, retries: number, failure: UpstreamFailure, neverSent: boolean, idempotent: boolean): boolean {
  if (failure === 'aborted' || retries >= service.policy.retries) return false;
  if (neverSent && failure === 'connect') return true;
  if (!idempotent) return false;
  return service.retryBudget.tryRetry(Date.now());
}

/**
 * The service for a retry: a retry is a new routing decision and takes the current table. The table
 * the request started with may predate a swap that brought the instances able to answer it.
 */
export function serviceForRetry(ctx: ProxyContext, service: ServiceRoute): ServiceRoute {
  return ctx.table.services.get(service.name) ?? service;
}

/** The path the app is sent for `url` by the table an attempt routes by: without the prefix when the service strips it. */
export function upstreamPath(service: ServiceRoute, url: string): string {
  return service.match.stripPrefix ? stripPathPrefix(url, service.match.pathPrefix) : url;
}
