// Picks the release and endpoint for a request: a routing rule first (preview header, tester cookie),
// then a valid sticky cookie (to its instance, in whichever release it is: a client does not flip
// releases), then release weights and the release's balancer. When the chosen release has no
// available endpoint, another release with traffic takes the request.
import type { IncomingMessage } from 'node:http';
import { readCookie } from './cookies.js';
import type { Endpoint } from './endpoint.js';
import type { ReleaseRoute, ServiceRoute } from './routing-table.js';

export interface Routed {
  readonly req: IncomingMessage;
  /** The chosen release: null until the first choice; replaced on fallback. */
  release: ReleaseRoute | null;
  /** Endpoints already tried (retries). */
  readonly triedEndpoints: readonly Endpoint[] | null;
}

export function chooseEndpoint(service: ServiceRoute, routed: Routed, now: number): Endpoint | undefined {
  const { req } = routed;
  if (routed.release === null) {
    const byRule = service.releaseByRule(req);
    if (byRule !== undefined) routed.release = byRule;
    else {
      const sticky = service.policy.sticky;
      const key = sticky === null ? undefined : readCookie(req.headers.cookie, sticky.cookie);
      const pinned = key === undefined ? undefined : service.stickyTarget(key);
      if (pinned !== undefined && pinned.endpoint.isAvailable(now)) {
        routed.release = pinned.release;
        return pinned.endpoint;
      }
      routed.release = service.releaseByWeight() ?? null;
    }
  }
  let release = routed.release;
  if (release === null) return undefined;
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
