// Types that cross the admin API's boundary (type-only: the CLI, dashboard, bench and tests import them
// without pulling in server code). New wire types go here; older ones are still in views.ts.

/** One endpoint of a release as the data plane routes by it. */
export interface RoutingEndpointView {
  id: string;
  address: string;
  /** Its health check passes (invariant 1). */
  healthy: boolean;
  /** Out of rotation for good: it only finishes what it has. */
  draining: boolean;
  /** New requests may go here now: healthy, not draining, not ejected. */
  available: boolean;
  /** Requests and WebSockets in flight on it. */
  inFlight: number;
}

export interface RoutingReleaseView {
  name: string;
  /** Share of unpinned traffic, 0-100. */
  weight: number;
  endpoints: RoutingEndpointView[];
}

/** `GET /api/v1/routing`: the routing table the data plane routes by now, with its version. */
export interface RoutingView {
  version: number;
  services: Record<string, { releases: RoutingReleaseView[] }>;
}
