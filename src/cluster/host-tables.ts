// A host's routing table, compiled from the cluster's desired state (each service's split, by instance
// id) and every host's reports (where each instance listens, whether it is healthy). An instance whose
// host is gone (its lease ended) is in no table; with preferLocal, a release with a healthy instance on
// this host is served by this host's instances only.
import type { Config } from '../config/index.js';
import { serviceSpecFor, type RoutedInstance, type Routing } from '../deploy/routing.js';
import type { TableSpec } from '../proxy/routing-table.js';
import type { ReleaseRow, Store } from '../store/index.js';
import type { ClusterView, ObservedInstance } from './cluster-view.js';

interface HostInstance extends RoutedInstance {
  node: string;
  observed: ObservedInstance;
}

export function compileHostTable(config: Config, store: Store, view: ClusterView, node: string, preferLocal: boolean): TableSpec {
  const spec: TableSpec = { services: [] };
  for (const [name, service] of Object.entries(config.services)) {
    const stored = store.routing(name);
    const instances: HostInstance[] = [];
    for (const id of stored?.inRotation ?? []) {
      const row = store.instance(id);
      const release = row === undefined ? undefined : store.release(row.releaseId);
      const observed = row === undefined ? undefined : view.observed(row.node, id);
      if (row?.node == null || release === undefined || observed?.address == null || !view.isLive(row.node)) continue;
      instances.push({ id, address: observed.address, release, node: row.node, observed });
    }
    const chosen = preferLocal ? preferringLocal(instances, node) : instances;
    const routing: Routing<HostInstance> = {
      inRotation: new Set(chosen),
      weights: stored?.weights == null ? null : new Map(stored.weights),
      previewRelease: stored?.previewRelease ?? null,
      rules: (stored?.rules ?? []) as Routing['rules'],
    };
    const healthOf = (i: HostInstance) => ({ healthy: i.observed.healthy, healthySince: i.observed.healthySince });
    spec.services.push(serviceSpecFor(name, service, routing, healthOf, store.stableRelease(name)?.id ?? null));
  }
  return spec;
}

function preferringLocal(instances: HostInstance[], node: string): HostInstance[] {
  const localHealthy = new Set<ReleaseRow['id']>(instances.filter((i) => i.node === node && i.observed.healthy).map((i) => i.release.id));
  return instances.filter((i) => i.node === node || !localHealthy.has(i.release.id));
}
