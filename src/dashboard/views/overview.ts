// Every service at a glance, one card each: stable and new release, the split, ready instances, the
// phase. A card is a button that opens the service below.
import type { ServiceView } from '../api/types.js';
import { h } from './dom.js';
import { phaseBadge } from './phase.js';
import { releaseClass } from './release-colour.js';
import { splitBar } from './split-bar.js';

export function overview(services: readonly ServiceView[], selected: string | null, onSelect: (name: string) => void): HTMLElement {
  if (services.length === 0) return h('p', { class: 'empty' }, 'No services are configured.');
  return h(
    'nav',
    { class: 'overview', 'aria-label': 'Services' },
    services.map((s) => {
      const target = s.releases.find((r) => r.role === 'target');
      const instances = s.releases.flatMap((r) => r.instances);
      const ready = instances.filter((i) => i.state === 'ready' && i.healthy).length;
      return h(
        'button',
        {
          type: 'button',
          class: 'service-card',
          'aria-pressed': String(s.name === selected),
          'data-focus': `service:${s.name}`,
          'data-service': s.name,
          onclick: () => onSelect(s.name),
        },
        h('span', { class: 'card-top' }, h('span', { class: 'service-name' }, s.name), phaseBadge(s)),
        h(
          'span',
          { class: 'card-versions' },
          h('span', { class: `ver ver-release ${releaseClass(s.stable?.number ?? null)}` }, s.stable?.version ?? 'no release'),
          target ? [h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→'), h('span', { class: `ver ver-release ${releaseClass(target.number)}` }, target.version)] : null,
        ),
        splitBar(s, 'small'),
        h('span', { class: 'card-foot' }, `${ready}/${instances.length} instances ready`),
      );
    }),
  );
}
