// Instance cards grouped by release: state, health, in-flight requests, requests/s, restarts.
import type { InstanceView, ServiceView } from '../api/types.js';
import { h } from './dom.js';
import { formatPercent, formatRate } from './format.js';
import { badge, type Tone } from './phase.js';
import { releaseClass } from './release-colour.js';

const STATE_TONES: Record<string, Tone> = { ready: 'ok', starting: 'info', draining: 'warn', stopped: 'neutral', failed: 'bad' };

export function instances(service: ServiceView, rates: ReadonlyMap<string, number>): HTMLElement {
  if (service.releases.length === 0) return h('p', { class: 'empty' }, 'No instances.');
  return h(
    'div',
    { class: 'release-groups' },
    service.releases.map((release) =>
      h(
        'section',
        { class: 'release-group', 'aria-label': `Release ${release.version}` },
        h(
          'h3',
          { class: 'release-title' },
          h('span', { class: `swatch seg-release ${releaseClass(release.number)}`, 'aria-hidden': 'true' }),
          h('span', null, release.version),
          h('span', { class: 'muted' }, ` #${release.number}`),
          badge(release.role === 'target' ? 'new' : release.role, release.role === 'target' ? 'info' : 'neutral'),
          h('span', { class: 'muted release-share' }, `${formatPercent(release.traffic)} of traffic`),
        ),
        release.instances.length === 0
          ? h('p', { class: 'empty' }, 'No live instances.')
          : h('div', { class: 'instance-grid' }, release.instances.map((i) => card(i, rates.get(i.id) ?? 0))),
      ),
    ),
  );
}

function card(i: InstanceView, rate: number): HTMLElement {
  const health = i.ejected ? badge('ejected', 'bad') : i.healthy ? badge('healthy', 'ok') : badge('unhealthy', 'bad');
  return h(
    'article',
    { class: 'instance', 'data-instance': i.id },
    h('header', { class: 'instance-head' }, h('span', { class: 'instance-id', title: i.id }, shortId(i.id)), badge(i.state, STATE_TONES[i.state] ?? 'neutral')),
    h(
      'dl',
      { class: 'facts' },
      fact('health', health),
      fact('rotation', i.inRotation ? 'in' : 'out'),
      fact('in-flight', h('span', { class: 'num' }, String(i.inFlight))),
      fact('req/s', h('span', { class: 'num' }, formatRate(rate))),
      fact('restarts', h('span', { class: `num${i.restarts > 0 ? ' warn-text' : ''}` }, String(i.restarts))),
    ),
    h('footer', { class: 'instance-foot muted' }, `${i.address}${i.pid === null ? '' : ` · pid ${i.pid}`}`),
  );
}

function fact(term: string, value: Node | string): HTMLElement[] {
  return [h('dt', null, term), h('dd', null, value)];
}

/** "web/2/1" style ids are short already; long ones keep their tail. */
function shortId(id: string): string {
  return id.length > 18 ? `…${id.slice(-16)}` : id;
}
