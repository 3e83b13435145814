// The cluster for `status` in cluster mode: who leads, which hosts are live, the desired-state revision
// each host's proxies route by, and the instances on each host.
import type { ClusterDaemonView } from '../../api/daemon-view.js';
import type { Palette } from './style.js';
import { table } from './table.js';

/**
 * @example clusterStatus(p, view)
 * // cluster: 3 hosts, 3 live; leader h1; this host h2, at revision 88
 * //   HOST   STATE  REVISION  INSTANCES
 * //   h1     live   88        web-v2-1 ready, web-v2-2 ready
 * //   h3     down   80        -
 */
export function clusterStatus(p: Palette, view: ClusterDaemonView): string {
  const live = view.hosts.filter((h) => h.live).length;
  const leader = view.leader === null ? p.yellow('no leader') : `leader ${view.leader}`;
  const summary = `${p.bold('cluster')}: ${view.hosts.length} host${view.hosts.length === 1 ? '' : 's'}, ${live} live; ${leader}; this host ${view.node}, at revision ${view.revision}`;
  const rows = [...view.hosts]
    .sort((a, b) => a.node.localeCompare(b.node))
    .map((host) => [
      host.node === view.node ? `${host.node} (this)` : host.node,
      host.live ? p.green('live') : p.red('down'),
      host.revision,
      host.instances.length === 0 ? '-' : host.instances.map((i) => `${i.id} ${i.state}${i.state === 'ready' && !i.healthy ? ' (unhealthy)' : ''}`).join(', '),
    ]);
  return `${summary}\n${table(p, ['host', 'state', 'revision', 'instances'], rows, 2)}`;
}
