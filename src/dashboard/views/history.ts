// Past deployments of the service: outcome, versions, strategy and how long each took. A row's number
// opens that deployment in the deployment view.
import type { DeploymentView } from '../api/types.js';
import { h } from './dom.js';
import { formatDateTime, formatDuration } from './format.js';
import { stateBadge } from './phase.js';

export function historyTable(history: readonly DeploymentView[], shownId: number | null, onChoose: (id: number) => void): HTMLElement {
  if (history.length === 0) return h('p', { class: 'empty' }, 'No deployments yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'history' },
      h('thead', null, h('tr', null, ['#', 'change', 'strategy', 'outcome', 'started', 'took'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        null,
        history.map((d) =>
          h(
            'tr',
            { class: d.id === shownId ? 'is-shown' : null, 'data-deployment': String(d.id) },
            h(
              'td',
              null,
              h(
                'button',
                { type: 'button', class: 'link', 'data-focus': `history:${d.id}`, 'aria-label': `Show deployment ${d.id}`, onclick: () => onChoose(d.id) },
                `#${d.id}`,
              ),
            ),
            h('td', null, `${d.kind === 'rollback' ? 'rollback ' : ''}${d.from?.version ?? '∅'} → ${d.to?.version ?? '?'}`),
            h('td', null, d.strategy),
            h('td', null, stateBadge(d.state)),
            h('td', { class: 'num' }, formatDateTime(d.createdAt)),
            h('td', { class: 'num' }, formatDuration(d.durationMs)),
          ),
        ),
      ),
    ),
  );
}
