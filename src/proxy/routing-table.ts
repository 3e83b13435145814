// The routing table: an immutable snapshot of services → split → releases → endpoints, built from a
// plain spec and swapped atomically (invariant 6). The controller is its only writer.
import type { IncomingMessage } from 'node:http';
import type { OutlierPolicy } from '../health/outlier.js';
import { createBalancer, type BalanceAlgorithm, type Balancer } from './balancers/index.js';
import { readCookie } from './cookies.js';
import type { Endpoint, UpstreamTls } from './endpoint.js';
import type { EndpointRegistry, EndpointSpec } from './endpoint-registry.js';
import { fnv1a, stickyKeyFor } from './hashing.js';
import { HostRouter, type RouteMatch } from './host-router.js';
import { RetryBudget, type RetryBudgetPolicy } from './retry-budget.js';
import { compileRule, type CompiledRule, type RouteRule } from './route-rules.js';

export type HashKey = { kind: 'header'; name: string } | { kind: 'cookie'; name: string } | { kind: 'ip' };

export interface ServicePolicy {
  balance: BalanceAlgorithm;
  hashKey: HashKey | null;
  /** Session affinity to an instance. */
  sticky: { cookie: string; ttlMs?: number } | null;
  timeouts: { connect: number; response: number; idle: number; keepAlive: number };
  retries: number;
  retryBudget: RetryBudgetPolicy;
  outlier: OutlierPolicy;
  slowStartMs: number;
  /** Requests over plain http get 308 to https (`redirect: https`). */
  httpsRedirect?: boolean;
  /** TLS to the instances (`upstreamTls`): CA bundle (PEM) and the name to verify. */
  upstreamTls?: UpstreamTls | null;
}

/**
 * How a release takes part in the service's traffic, as the app is told: `stable` serves it (or all of
 * it), `canary` takes a share next to stable (a canary, or the new half of a rolling deployment),
 * `preview` is reached only by a rule (preview header, tester route).
 */
export type Cohort = 'stable' | 'canary' | 'preview';

export interface ReleaseSpec {
  name: string;
  /** Default `stable`. */
  cohort?: Cohort;
  /** Share of unpinned traffic, 0-100 (relative to the other releases). */
  weight: number;
  endpoints: EndpointSpec[];
}

/** Sticky versions (invariant 8): while traffic is split, a client keeps the release it was given. */
export interface StickyReleasePolicy {
  cookie: string;
  /** Assign by hashing this key (a user id) instead of by cookie. */
  hashKey: HashKey | null;
}

export interface ServiceSpec {
  name: string;
  match: RouteMatch & { stripPrefix: boolean };
  policy: ServicePolicy;
  releases: ReleaseSpec[];
  rules: RouteRule[];
  stickyRelease?: StickyReleasePolicy | null;
}

export interface TableSpec {
  services: ServiceSpec[];
}

export class ReleaseRoute {
  readonly balancer: Balancer;
  /** Opaque cookie value naming this release (never the version label itself). */
  readonly cookieValue: string;
  /** The release header's value for requests routed here, built once per table: `v2; cohort=canary`. */
  readonly routedAs: string;

  constructor(
    readonly service: string,
    readonly name: string,
    readonly weight: number,
    readonly endpoints: readonly Endpoint[],
    policy: ServicePolicy,
    readonly cohort: Cohort = 'stable',
  ) {
    this.balancer = createBalancer(policy.balance, endpoints);
    this.cookieValue = stickyKeyFor(`release:${service}:${name}`);
    this.routedAs = `${name}; cohort=${cohort}`;
  }
}

export class ServiceRoute {
  readonly releases: readonly ReleaseRoute[];
  private readonly byName: Map<string, ReleaseRoute>;
  private readonly rules: readonly CompiledRule[];
  /** Smooth weighted round-robin state over releases: exact shares at any weight. */
  private readonly current: Float64Array;
  private readonly single: ReleaseRoute | null;
  /** True while more than one release takes unpinned traffic (a rollout in progress). */
  readonly isSplit: boolean;
  /** Sticky key → endpoint and its release, across all releases of the service. */
  private readonly sticky: Map<string, { release: ReleaseRoute; endpoint: Endpoint }> | null;

  constructor(
    readonly name: string,
    readonly match: ServiceSpec['match'],
    readonly policy: ServicePolicy,
    releases: readonly ReleaseRoute[],
    rules: readonly RouteRule[],
    readonly retryBudget: RetryBudget,
    readonly stickyRelease: StickyReleasePolicy | null = null,
    /** The version of the table this route belongs to (invariant 6: an attempt sees one table). */
    readonly tableVersion = 0,
  ) {
    this.releases = releases;
    this.byName = new Map(releases.map((r) => [r.name, r]));
    this.rules = rules.filter((r) => this.byName.has(r.release)).map(compileRule);
    this.current = new Float64Array(releases.length);
    this.single = releases.length === 1 && this.rules.length === 0 ? releases[0]! : null;
    this.isSplit = releases.filter((r) => r.weight > 0).length > 1;
    this.sticky = policy.sticky
      ? new Map(releases.flatMap((release) => release.endpoints.map((endpoint) => [endpoint.stickyKey, { release, endpoint }] as const)))
      : null;
  }

  release(name: string): ReleaseRoute | undefined {
    return this.byName.get(name);
  }

  /** The release a routing rule pins this request to, if any. */
  releaseByRule(req: IncomingMessage): ReleaseRoute | undefined {
    for (const rule of this.rules) {
      if (rule.test(req)) return this.byName.get(rule.release);
    }
    return undefined;
  }


  /** The release a sticky-release cookie value names, if it still takes traffic. */
  releaseByCookie(value: string): ReleaseRoute | undefined {
    for (const release of this.releases) if (release.cookieValue === value && release.weight > 0) return release;
    return undefined;
  }

  /**
   * A stable assignment by key: the key's bucket (0-9999) falls into the releases' cumulative weights
   * in table order, so when the canary's weight grows, clients only move onto it, never off it.
   */
  releaseByBucket(key: string): ReleaseRoute | undefined {
    let total = 0;
    for (const release of this.releases) total += Math.max(release.weight, 0);
    if (total <= 0) return undefined;
    const point = ((fnv1a(key) % 10000) / 10000) * total;
    let cumulative = 0;
    for (const release of this.releases) {
      if (release.weight <= 0) continue;
      cumulative += release.weight;
      if (point < cumulative) return release;
    }
    return undefined;
  }

  /** The endpoint (and its release) a sticky cookie value names, if it is in this table. */
  stickyTarget(key: string): { release: ReleaseRoute; endpoint: Endpoint } | undefined {
    return this.sticky?.get(key);
  }

  /** A release by weight: exact shares over time (smooth weighted round-robin). */
  releaseByWeight(): ReleaseRoute | undefined {
    if (this.single !== null) return this.single;
    return this.pickByWeight();
  }

  /** Another release with traffic, for when the chosen one has no available endpoint. */
  fallbackRelease(tried: ReleaseRoute, now: number): ReleaseRoute | undefined {
    for (const release of this.releases) {
      if (release === tried || release.weight <= 0) continue;
      if (release.endpoints.some((e) => e.isAvailable(now))) return release;
    }
    return undefined;
  }

  hashKeyOf(req: IncomingMessage): number {
    return fnv1a(keyValue(req, this.policy.hashKey ?? { kind: 'ip' }) ?? '');
  }

  private pickByWeight(): ReleaseRoute | undefined {
    const { releases, current } = this;
    let total = 0;
    let best = -1;
    for (let i = 0; i < releases.length; i++) {
      const weight = releases[i]!.weight;
      if (weight <= 0) continue;
      current[i]! += weight;
      total += weight;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    if (best < 0) return undefined;
    current[best]! -= total;
    return releases[best];
  }
}

/** The value a hash key names in a request: a header, a cookie or the client address. */
export function keyValue(req: IncomingMessage, key: HashKey): string | undefined {
  if (key.kind === 'ip') return req.socket.remoteAddress;
  if (key.kind === 'cookie') return readCookie(req.headers.cookie, key.name);
  const value = req.headers[key.name];
  return Array.isArray(value) ? value[0] : value;
}

export class RoutingTable {
  readonly services: ReadonlyMap<string, ServiceRoute>;
  private readonly router: HostRouter<ServiceRoute>;

  constructor(
    readonly version: number,
    services: readonly ServiceRoute[],
  ) {
    this.services = new Map(services.map((s) => [s.name, s]));
    this.router = new HostRouter(services.map((s) => ({ match: s.match, target: s })));
  }

  match(host: string | undefined, path: string): ServiceRoute | undefined {
    return this.router.match(host, path);
  }

  /** Every endpoint this table routes to. */
  endpoints(): Set<Endpoint> {
    const all = new Set<Endpoint>();
    for (const service of this.services.values()) {
      for (const release of service.releases) for (const e of release.endpoints) all.add(e);
    }
    return all;
  }
}

/** Per-service state that must outlive table swaps. */
export class ServiceStates {
  private readonly budgets = new Map<string, RetryBudget>();

  /** The service's budget (its counts survive swaps), following the latest policy. */
  retryBudget(service: string, policy: RetryBudgetPolicy): RetryBudget {
    let budget = this.budgets.get(service);
    if (!budget) this.budgets.set(service, (budget = new RetryBudget(policy)));
    budget.policy = policy;
    return budget;
  }
}

export function buildTable(
  spec: TableSpec,
  version: number,
  registry: EndpointRegistry,
  states: ServiceStates,
): RoutingTable {
  const services = spec.services.map((service) => {
    const { policy } = service;
    const releases = service.releases.map((release) => {
      const endpoints = release.endpoints.map((e) => {
        const endpoint = registry.ensure(e, policy.upstreamTls ? { ...policy.timeouts, tls: policy.upstreamTls } : policy.timeouts);
        endpoint.slowStartMs = policy.slowStartMs;
        return endpoint;
      });
      return new ReleaseRoute(service.name, release.name, release.weight, endpoints, policy, release.cohort);
    });
    const budget = states.retryBudget(service.name, policy.retryBudget);
    return new ServiceRoute(service.name, service.match, policy, releases, service.rules, budget, service.stickyRelease ?? null, version);
  });
  return new RoutingTable(version, services);
}
