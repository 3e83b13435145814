// In cluster mode, the hosts above the services: who leads, each host live or down, the desired-state
// revision its proxies route by (a host behind the others stands out), and its instances. The same as
// `switchyard status` prints under the daemon line.
import type { ClusterDaemonView } from '../api/types.js';
import { h } from './dom.js';
import { badge } from './phase.js';

export function clusterPanel(view: ClusterDaemonView): HTMLElement {
  const live = view.hosts.filter((host) => host.live).length;
  const newest = Math.max(view.revision, ...view.hosts.map((host) => host.revision));
  return h(
    'section',
    { class: 'panel cluster', 'aria-labelledby': 'panel-hosts' },
    h('h2', { class: 'panel-title', id: 'panel-hosts' }, 'Hosts'),
    h(
      'p',
      { class: 'cluster-summary', 'data-cluster-summary': '' },
      `${view.hosts.length} hosts, ${live} live; `,
      view.leader === null ? badge('no leader', 'bad') : ['leader ', h('strong', null, view.leader)],
      `; this host ${view.node}, at revision ${view.revision}`,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'hosts' },
        h('thead', null, h('tr', null, ['host', 'state', 'revision', 'instances'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          null,
          view.hosts.map((host) =>
            h(
              'tr',
              { 'data-host': host.node },
              h('td', null, host.node, host.node === view.node ? h('span', { class: 'muted' }, ' (this)') : null, host.node === view.leader ? [' ', badge('leader', 'info')] : null),
              h('td', null, host.live ? badge('live', 'ok') : badge('down', 'bad')),
              h('td', { class: `num${host.live && host.revision < newest ? ' warn-text' : ''}` }, String(host.revision)),
              h(
                'td',
                { class: 'host-instances' },
                host.instances.length === 0
                  ? h('span', { class: 'muted' }, 'none')
                  : host.instances.map((i) => h('span', { class: 'host-instance', 'data-instance': i.id }, `${i.id} `, badge(i.healthy && i.state === 'ready' ? 'ready' : i.state, i.healthy ? 'ok' : 'warn'))),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
