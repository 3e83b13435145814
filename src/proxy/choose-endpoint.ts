// Picks the endpoint for a request within its release: a valid sticky cookie first, then the balancer,
// then another release with traffic when the chosen one has no available endpoint.
import type { IncomingMessage } from 'node:http';
import { readCookie } from './cookies.js';
import type { Endpoint } from './endpoint.js';
import type { ReleaseRoute, ServiceRoute } from './routing-table.js';

export interface Routed {
  readonly req: IncomingMessage;
  /** The chosen release; replaced when the choice falls back to another release. */
  release: ReleaseRoute | null;
  /** Endpoints already tried (retries). */
  readonly triedEndpoints: readonly Endpoint[] | null;
}

export function chooseEndpoint(service: ServiceRoute, routed: Routed, now: number): Endpoint | undefined {
  let release = routed.release;
  if (release === null) return undefined;
  const { req } = routed;
  const sticky = service.policy.sticky;
  if (sticky !== null && routed.triedEndpoints === null) {
    const key = readCookie(req.headers.cookie, sticky.cookie);
    const pinned = key === undefined ? undefined : release.endpointForStickyKey(key);
    if (pinned !== undefined && pinned.isAvailable(now)) return pinned;
  }
  const pick = {
    now,
    keyHash: service.policy.balance === 'hash' ? service.hashKeyOf(req) : 0,
    exclude: routed.triedEndpoints,
  };
  const endpoint = release.balancer.pick(pick);
  if (endpoint !== undefined) return endpoint;
  const fallback = service.fallbackRelease(release, now);
  if (fallback === undefined) return undefined;
  routed.release = release = fallback;
  return release.balancer.pick(pick);
}
