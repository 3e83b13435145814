// What every host reports under `hosts/<node>/` (with its lease, so a dead host's keys vanish within the
// lease TTL) and who leads, as one host's watch sees it. Agents, the leader's runtime and `status` read it.
import type { ObservationBatch } from '../metrics/observations.js';
import type { InstanceState } from '../store/index.js';
import { HOSTS_FOLDER, LEADER_KEY } from '../store/etcd/keys.js';
import type { FeedEntry, FeedListener } from '../store/etcd/prefix-feed.js';

/** One instance as the host running it sees it. */
export interface ObservedInstance {
  id: string;
  service: string;
  releaseId: number;
  address: string | null;
  pid: number | null;
  state: InstanceState;
  healthy: boolean;
  /** Epoch ms it last became healthy; 0 while it never was. */
  healthySince: number;
  restarts: number;
}

/** A host's proxies: the desired-state revision their table is built from, and their endpoints. */
export interface HostStatus {
  node: string;
  /** The admin API's URL on this host (commands sent to a follower are forwarded to the leader's). */
  adminUrl: string;
  /** The desired-state revision the table every proxy here acknowledged was built from. */
  revision: number;
  /** In flight per endpoint, summed over this host's proxies: [id, in flight, ejected until (epoch ms)]. */
  endpoints: [string, number, number][];
  /** Instances this host's proxies drained (out of their tables, nothing left in flight): [id, finished, cut]. */
  drained?: [string, number, number][];
  startedAt: number;
}

/** One second (about) of what a host's proxies observed; `seq` grows by one per report. */
export interface HostMetrics {
  /** The reporting agent's start (epoch ms): with `seq`, names each report once across restarts. */
  startedAt: number;
  seq: number;
  batch: ObservationBatch;
}

export interface HostView {
  status: HostStatus | null;
  instances: Map<string, ObservedInstance>;
}

export type ViewChange =
  /** `liveness`: the host came or went (its lease), not only a new report from a live host. */
  | { kind: 'status'; node: string; liveness: boolean }
  | { kind: 'instance'; node: string; id: string }
  | { kind: 'leader' };

export const hostKey = {
  status: (node: string) => `${HOSTS_FOLDER}/${node}/status`,
  instance: (node: string, id: string) => `${HOSTS_FOLDER}/${node}/instances/${id}`,
  metrics: (node: string) => `${HOSTS_FOLDER}/${node}/metrics`,
};

export class ClusterView implements FeedListener {
  readonly hosts = new Map<string, HostView>();
  leader: string | null = null;
  readonly #listeners: ((changes: ViewChange[]) => void)[] = [];
  readonly #metricsListeners: ((node: string, metrics: HostMetrics) => void)[] = [];

  /** Hears every change (several from one watch response together). */
  onChange(listener: (changes: ViewChange[]) => void): void {
    this.#listeners.push(listener);
  }

  /** Hears each host's metrics report as it arrives. */
  onMetrics(listener: (node: string, metrics: HostMetrics) => void): void {
    this.#metricsListeners.push(listener);
  }

  /** Hosts whose lease holds (they have a status), by name. */
  liveHosts(): string[] {
    return [...this.hosts.entries()].filter(([, h]) => h.status !== null).map(([node]) => node).sort();
  }

  observed(node: string | null, id: string): ObservedInstance | undefined {
    return node === null ? undefined : this.hosts.get(node)?.instances.get(id);
  }

  isLive(node: string | null): boolean {
    return node !== null && (this.hosts.get(node)?.status ?? null) !== null;
  }

  reset(entries: FeedEntry[]): void {
    this.hosts.clear();
    this.leader = null;
    this.changes(entries);
  }

  changes(entries: FeedEntry[]): void {
    const changes: ViewChange[] = [];
    for (const entry of entries) {
      if (entry.key === LEADER_KEY) {
        this.leader = entry.value;
        changes.push({ kind: 'leader' });
        continue;
      }
      const parts = entry.key.split('/');
      if (parts[0] !== HOSTS_FOLDER || parts.length < 3) continue;
      const node = parts[1]!;
      const host = this.#host(node);
      const value: unknown = entry.value === null ? null : JSON.parse(entry.value);
      if (parts[2] === 'status' && parts.length === 3) {
        const wasLive = host.status !== null;
        host.status = value as HostStatus | null;
        changes.push({ kind: 'status', node, liveness: wasLive !== (host.status !== null) });
      } else if (parts[2] === 'instances' && parts.length === 4) {
        if (value === null) host.instances.delete(parts[3]!);
        else host.instances.set(parts[3]!, value as ObservedInstance);
        changes.push({ kind: 'instance', node, id: parts[3]! });
      } else if (parts[2] === 'metrics' && parts.length === 3 && value !== null) {
        for (const listener of this.#metricsListeners) listener(node, value as HostMetrics);
      }
      if (host.status === null && host.instances.size === 0) this.hosts.delete(node);
    }
    if (changes.length > 0) for (const listener of this.#listeners) listener(changes);
  }

  #host(node: string): HostView {
    let host = this.hosts.get(node);
    if (host === undefined) {
      host = { status: null, instances: new Map() };
      this.hosts.set(node, host);
    }
    return host;
  }
}
