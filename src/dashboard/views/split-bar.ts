// The traffic split as one bar: a segment per release, as wide as its share of unpinned traffic, in the
// release's own colour.
import type { ServiceView } from '../api/types.js';
import { h } from './dom.js';
import { formatPercent } from './format.js';
import { releaseClass } from './release-colour.js';

export function splitBar(service: ServiceView, size: 'small' | 'large'): HTMLElement {
  const shown = service.releases.filter((r) => r.traffic > 0 || r.role === 'target');
  const label = shown.length === 0 ? 'no traffic routed' : shown.map((r) => `${r.version} ${formatPercent(r.traffic)}`).join(', ');
  const bar = h(
    'div',
    { class: `split split-${size}`, role: 'img', 'aria-label': `Traffic split: ${label}` },
    shown.length === 0
      ? h('div', { class: 'split-empty' }, 'no traffic routed')
      : shown.map((r) =>
          h(
            'div',
            {
              class: `split-seg seg-release ${releaseClass(r.number)}`,
              'data-colour': releaseClass(r.number),
              style: { width: `${r.traffic}%` },
              'data-version': r.version,
              'data-traffic': String(r.traffic),
              title: `${r.version} (${r.role}): ${formatPercent(r.traffic)}`,
            },
            size === 'large' && r.traffic >= 12 ? h('span', { class: 'split-text' }, `${r.version} ${formatPercent(r.traffic)}`) : null,
          ),
        ),
  );
  if (size === 'small') return bar;
  return h(
    'div',
    { class: 'split-block' },
    bar,
    h(
      'ul',
      { class: 'legend' },
      shown.map((r) =>
        h(
          'li',
          null,
          h('span', { class: `swatch seg-release ${releaseClass(r.number)}`, 'aria-hidden': 'true' }),
          h('strong', null, r.version),
          ` ${r.role === 'target' ? 'new' : r.role} · `,
          h('span', { class: 'num', 'data-split-version': r.version }, formatPercent(r.traffic)),
        ),
      ),
    ),
  );
}
