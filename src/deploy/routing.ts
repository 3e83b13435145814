// A service's traffic split as the controller holds it (which instances are in rotation, release
// weights, the preview rule) and its translation into the proxy's table spec.
import type { ServiceConfig } from '../config/index.js';
import { servicePolicy } from '../daemon/service-policy.js';
import type { ReleaseSpec as TableRelease, ServiceSpec } from '../proxy/routing-table.js';
import type { RouteRule } from '../proxy/route-rules.js';
import type { Instance } from '../runtime/instance.js';

export interface Routing {
  inRotation: Set<Instance>;
  /** Percent per release id; null = each instance in rotation gets an equal share. */
  weights: Map<number, number> | null;
  /** Release id reachable only with the preview header, or null. */
  previewRelease: number | null;
}

export function emptyRouting(): Routing {
  return { inRotation: new Set(), weights: null, previewRelease: null };
}

export function serviceSpecFor(name: string, config: ServiceConfig, routing: Routing): ServiceSpec {
  const byRelease = new Map<number, Instance[]>();
  for (const instance of routing.inRotation) {
    const list = byRelease.get(instance.release.id) ?? [];
    list.push(instance);
    byRelease.set(instance.release.id, list);
  }
  const labels = releaseLabels([...byRelease.values()].map((list) => list[0]!));
  const releases: TableRelease[] = [...byRelease.entries()].map(([releaseId, instances]) => ({
    name: labels.get(releaseId)!,
    weight: routing.weights === null ? instances.length : (routing.weights.get(releaseId) ?? 0),
    endpoints: instances.map((i) => ({ id: i.id, address: i.address, weight: 1 })),
  }));
  const rules: RouteRule[] = [];
  const preview = routing.previewRelease === null ? undefined : labels.get(routing.previewRelease);
  if (preview !== undefined) {
    rules.push({ source: 'header', name: config.deploy.blueGreen.previewHeader, match: { kind: 'equals', value: '1' }, release: preview });
  }
  return {
    name,
    match: { hosts: config.match.hosts ?? [], pathPrefix: config.match.pathPrefix, stripPrefix: config.match.stripPrefix },
    policy: servicePolicy(config),
    releases,
    rules,
  };
}

/** Release names in the table: the version label, with the release number when two share a label. */
function releaseLabels(samples: Instance[]): Map<number, string> {
  const count = new Map<string, number>();
  for (const i of samples) count.set(i.release.version, (count.get(i.release.version) ?? 0) + 1);
  return new Map(samples.map((i) => [i.release.id, count.get(i.release.version)! > 1 ? `${i.release.version}#${i.release.number}` : i.release.version]));
}
