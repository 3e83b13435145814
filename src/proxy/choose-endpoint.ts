// Picks the release and endpoint for a request: a routing rule first (preview header, tester cookie),
// then a valid sticky cookie (to its instance, in whichever release it is: a client does not flip
// releases), then release weights and the release's balancer. When the chosen release has no
// available endpoint, another release with traffic takes the request.
import type { IncomingMessage } from 'node:http';
import { readCookie } from './cookies.js';
import type { PickContext } from './balancers/index.js';
import type { Endpoint } from './endpoint.js';
import { keyValue, type ReleaseRoute, type ServiceRoute } from './routing-table.js';

export interface Routed {
  readonly req: IncomingMessage;
  /** The request's Cookie header, read in the one header scan (so req.headers is never built for it). */
  readonly cookie: string | undefined;
  /** A Set-Cookie value the response must carry (sticky assignments). */
  addSetCookie(value: string): void;
  /** The chosen release: null until the first choice; replaced on fallback. */
  release: ReleaseRoute | null;
  /** Endpoints already tried (retries). */
  readonly triedEndpoints: readonly Endpoint[] | null;
}

const scratch: PickContext = { now: 0, keyHash: 0, exclude: null };

export function chooseEndpoint(service: ServiceRoute, routed: Routed, now: number): Endpoint | undefined {
  const { req } = routed;
  if (routed.release === null) {
    const byRule = service.releaseByRule(req);
    if (byRule !== undefined) routed.release = byRule;
    else {
      const byVersion = service.stickyRelease === null ? undefined : stickyRelease(service, routed);
      const sticky = service.policy.sticky;
      const key = sticky === null ? undefined : readCookie(routed.cookie, sticky.cookie);
      const pinned = key === undefined ? undefined : service.stickyTarget(key);
      if (pinned !== undefined && pinned.endpoint.isAvailable(now) && (byVersion === undefined || pinned.release === byVersion)) {
        routed.release = pinned.release;
        return pinned.endpoint;
      }
      routed.release = byVersion ?? service.releaseByWeight() ?? null;
    }
  }
  let release = routed.release;
  if (release === null) return undefined;
  // Balancers read the context synchronously, so one scratch object serves every request.
  const pick = scratch;
  pick.now = now;
  pick.keyHash = service.policy.balance === 'hash' ? service.hashKeyOf(req) : 0;
  pick.exclude = routed.triedEndpoints;
  const endpoint = release.balancer.pick(pick);
  if (endpoint !== undefined) return endpoint;
  const fallback = service.fallbackRelease(release, now);
  if (fallback === undefined) return undefined;
  routed.release = release = fallback;
  return release.balancer.pick(pick);
}

/**
 * Sticky versions (invariant 8): during a split, a client keeps its release: by a hashed key (a user
 * id: stable without cookies), else by the release cookie, else it is assigned by weight and given
 * the cookie. Outside a split the cookie means nothing and is removed.
 */
function stickyRelease(service: ServiceRoute, routed: Routed): ReleaseRoute | undefined {
  const policy = service.stickyRelease!;
  const cookie = readCookie(routed.cookie, policy.cookie);
  if (!service.isSplit) {
    if (cookie !== undefined) routed.addSetCookie(`${policy.cookie}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
    return undefined;
  }
  if (policy.hashKey !== null) {
    const key = keyValue(routed.req, policy.hashKey);
    if (key !== undefined && key !== '') return service.releaseByBucket(key);
  }
  const held = cookie === undefined ? undefined : service.releaseByCookie(cookie);
  if (held !== undefined) return held;
  const assigned = service.releaseByWeight();
  if (assigned !== undefined) routed.addSetCookie(`${policy.cookie}=${assigned.cookieValue}; Path=/; HttpOnly; SameSite=Lax`);
  return assigned;
}
