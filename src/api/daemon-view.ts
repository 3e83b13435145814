// What `GET /api/v1/daemon` and `status --json` (daemon) say about switchyard itself: its version and
// generation, and every process with its role, pid, uptime and the routing table version it runs on.

export interface DaemonProcessView {
  role: 'keeper' | 'controller' | 'proxy';
  pid: number;
  /** Proxy workers are numbered from 1. */
  index?: number;
  uptimeSeconds: number;
  /** The newest routing table the process has (proxies: acknowledged; controller: published). */
  tableVersion?: number;
}

export interface UpgradeView {
  /** The generation being (or that was) started. */
  generation: number;
  state: 'in-progress' | 'succeeded' | 'failed';
  reason: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** In a cluster: the hosts as this host sees them, who leads, and the revision its proxies route by. */
export interface ClusterDaemonView {
  node: string;
  leader: string | null;
  /** The desired-state revision this host's table is built from. */
  revision: number;
  hosts: {
    node: string;
    live: boolean;
    revision: number;
    instances: { id: string; service: string; state: string; healthy: boolean; address: string | null; pid: number | null }[];
  }[];
}

export interface DaemonView {
  version: string;
  generation: number;
  state: string;
  /** The newest routing table every proxy worker acknowledged: the one in force. */
  tableVersion: number;
  processes: DaemonProcessView[];
  /** The last upgrade this daemon started, or was started by. */
  upgrade: UpgradeView | null;
  /** Present in cluster mode. */
  cluster?: ClusterDaemonView;
}
