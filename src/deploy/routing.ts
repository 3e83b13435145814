// A service's traffic split as the controller holds it (which instances are in rotation, release
// weights, the preview rule) and its translation into the proxy's table spec.
import type { ServiceConfig } from '../config/index.js';
import { servicePolicy } from '../daemon/service-policy.js';
import type { Cohort, ReleaseSpec as TableRelease, ServiceSpec } from '../proxy/routing-table.js';
import type { RouteRule } from '../proxy/route-rules.js';
import type { Instance } from '../runtime/instance.js';
import type { StoredRouting } from '../store/index.js';

/** What a table needs of an instance (a cluster host's tables hold other hosts' instances as plain data). */
export type RoutedInstance = Pick<Instance, 'id' | 'address' | 'release'>;

export interface Routing<T extends RoutedInstance = Instance> {
  inRotation: Set<T>;
  /** Percent per release id; null = each instance in rotation gets an equal share. */
  weights: Map<number, number> | null;
  /** Release id reachable only with the preview header, or null. */
  previewRelease: number | null;
  /** Tester routes (canary.route): requests matching a rule go to the release, whatever its weight. */
  rules?: { rule: Omit<RouteRule, 'release'>; releaseId: number }[];
}

export function emptyRouting(): Routing {
  return { inRotation: new Set(), weights: null, previewRelease: null };
}

/** The split as stored: instances by id (invariant 7: written before it is published). */
export function storedRouting(routing: Routing): StoredRouting {
  return {
    inRotation: [...routing.inRotation].map((i) => i.id),
    weights: routing.weights === null ? null : [...routing.weights],
    previewRelease: routing.previewRelease,
    rules: routing.rules ?? [],
  };
}

/** A stored split with the instances a new controller has (those gone leave rotation). */
export function restoreRouting(stored: StoredRouting, instance: (id: string) => Instance | undefined): Routing {
  return {
    inRotation: new Set(stored.inRotation.flatMap((id) => instance(id) ?? [])),
    weights: stored.weights === null ? null : new Map(stored.weights),
    previewRelease: stored.previewRelease,
    rules: stored.rules as Routing['rules'],
  };
}

/** An instance's health as the controller's checks see it. */
export type HealthOf<T extends RoutedInstance = Instance> = (instance: T) => { healthy: boolean; healthySince: number };

/** `stableReleaseId` is the store's stable release: it names the cohorts the apps are told of. */
export function serviceSpecFor<T extends RoutedInstance>(name: string, config: ServiceConfig, routing: Routing<T>, healthOf: HealthOf<T>, stableReleaseId: number | null = null): ServiceSpec {
  const byRelease = groupByRelease(routing);
  const labels = releaseNames(routing);
  const releases: TableRelease[] = [...byRelease.entries()].map(([releaseId, instances]) => ({
    name: labels.get(releaseId)!,
    weight: routing.weights === null ? instances.length : (routing.weights.get(releaseId) ?? 0),
    endpoints: instances.map((i) => ({ id: i.id, address: i.address, weight: 1, ...healthOf(i) })),
  }));
  const cohorts = cohortsOf([...byRelease.keys()], releases, stableReleaseId);
  releases.forEach((release, i) => (release.cohort = cohorts[i]));
  const rules: RouteRule[] = [];
  const preview = routing.previewRelease === null ? undefined : labels.get(routing.previewRelease);
  if (preview !== undefined) {
    rules.push({ source: 'header', name: config.deploy.blueGreen.previewHeader, match: { kind: 'equals', value: '1' }, release: preview });
  }
  for (const rule of routing.rules ?? []) {
    const release = labels.get(rule.releaseId);
    if (release !== undefined) rules.push({ ...rule.rule, release });
  }
  const sticky = config.deploy.canary.sticky;
  return {
    name,
    match: { hosts: config.match.hosts ?? [], pathPrefix: config.match.pathPrefix, stripPrefix: config.match.stripPrefix },
    policy: servicePolicy(config),
    releases,
    rules,
    // Sticky versions apply to percentage splits (canary); rolling shares by instance count.
    stickyRelease: sticky.enabled && routing.weights !== null ? { cookie: sticky.cookie, hashKey: sticky.hashKey ?? null } : null,
  };
}

/**
 * Each release's cohort: `preview` without unpinned traffic; `stable` when it is the only one with
 * traffic (a finished switch, even before promote records it) or the stable release; else `canary`.
 */
export function cohortsOf(ids: readonly number[], releases: readonly TableRelease[], stableReleaseId: number | null): Cohort[] {
  const withTraffic = releases.filter((r) => r.weight > 0).length;
  return releases.map((release, i) => {
    if (release.weight <= 0) return 'preview';
    return withTraffic === 1 || ids[i] === stableReleaseId ? 'stable' : 'canary';
  });
}

/** Instances in rotation by release id, oldest release first (the order hash assignment relies on). */
function groupByRelease<T extends RoutedInstance>(routing: Routing<T>): Map<number, T[]> {
  const byRelease = new Map<number, T[]>();
  const sorted = [...routing.inRotation].sort((a, b) => a.release.number - b.release.number);
  for (const instance of sorted) {
    const list = byRelease.get(instance.release.id) ?? [];
    list.push(instance);
    byRelease.set(instance.release.id, list);
  }
  return byRelease;
}

/** The name each release in rotation has in the table (and so in metrics). */
export function releaseNames<T extends RoutedInstance>(routing: Routing<T>): Map<number, string> {
  return releaseLabels([...groupByRelease(routing).values()].map((list) => list[0]!));
}

/** Release names in the table: the version label, with the release number when two share a label. */
function releaseLabels(samples: RoutedInstance[]): Map<number, string> {
  const count = new Map<string, number>();
  for (const i of samples) count.set(i.release.version, (count.get(i.release.version) ?? 0) + 1);
  return new Map(samples.map((i) => [i.release.id, count.get(i.release.version)! > 1 ? `${i.release.version}#${i.release.number}` : i.release.version]));
}
