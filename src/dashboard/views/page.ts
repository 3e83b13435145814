// The page layout and its render: the token form alone while locked; otherwise the overview, then the
// selected service (split, charts, instances, deployment, events, history). Each slot is rebuilt only
// when what it shows changed.
import { currentToken } from '../auth/token.js';
import { tokenForm } from '../auth/token-form.js';
import type { LiveData } from '../state/live-data.js';
import type { AppState, Store } from '../state/store.js';
import { Charts } from './charts.js';
import { clusterPanel } from './cluster.js';
import { controls, controlsSignature } from './controls.js';
import { openDeployDialog } from './deploy-dialog.js';
import { deploymentView } from './deployment.js';
import { h, invalidate, patch } from './dom.js';
import { EventsList } from './events.js';
import { Header } from './header.js';
import { historyTable } from './history.js';
import { instances } from './instances.js';
import { overview } from './overview.js';
import { phaseBadge } from './phase.js';
import { serviceStatus, serviceStatusSignature } from './service-status.js';
import { splitBar } from './split-bar.js';
import { onThemeChange } from './theme.js';

export class Page {
  private readonly header: Header;
  private readonly main = h('main', { class: 'layout', id: 'main' });
  private readonly banner = h('div', { class: 'banner-slot' });
  private readonly charts = new Charts();
  private readonly events = new EventsList();
  private readonly slots = {
    cluster: h('div', { class: 'cluster-slot' }),
    overview: h('div', { class: 'overview-slot' }),
    title: h('div', { class: 'service-title' }),
    controls: h('div', { class: 'controls-slot' }),
    status: h('div', { class: 'status-slot' }),
    split: h('div', { class: 'split-slot' }),
    instances: h('div'),
    deployment: h('div'),
    history: h('div'),
  };
  private readonly dashboard: HTMLElement;
  private readonly servicePanel: HTMLElement;
  /** What the main area shows now, so the token form is not rebuilt (and emptied) while typing. */
  private mode = '';

  constructor(
    root: HTMLElement,
    private readonly store: Store,
    private readonly live: LiveData,
  ) {
    this.header = new Header({
      signOut: () => live.signOut(),
      hasToken: () => currentToken() !== null,
    });
    const s = this.slots;
    this.servicePanel = h(
      'section',
      { class: 'service-panel', 'aria-labelledby': 'service-heading' },
      h('div', { class: 'service-head' }, s.title, s.controls),
      s.status,
      s.split,
      this.charts.element,
      h('div', { class: 'cols' }, panel('Instances', s.instances), panel('Deployment', s.deployment)),
      h('div', { class: 'cols' }, panel('Events', this.events.element, 'events-panel'), panel('History', s.history)),
    );
    this.dashboard = h('div', { class: 'dashboard' }, s.cluster, s.overview, this.servicePanel);
    root.replaceChildren(h('a', { class: 'skip', href: '#main' }, 'Skip to content'), this.header.element, this.banner, this.main);
    onThemeChange(() => this.charts.restyle());
    store.subscribe((state) => this.render(state));
  }

  render(state: AppState): void {
    this.header.render(state);
    this.renderBanner(state);
    const mode = `${state.auth}|${state.authMessage}`;
    if (mode !== this.mode) {
      this.mode = mode;
      if (state.auth === 'needed') {
        // Locked: no data in the page at all, only the form.
        for (const slot of Object.values(this.slots)) invalidate(slot);
        this.main.replaceChildren(tokenForm(state.authMessage, (token) => void this.live.signIn(token)));
        this.events.update([], null);
        this.charts.update(null);
        return;
      }
      this.main.replaceChildren(state.auth === 'checking' ? h('p', { class: 'empty loading' }, 'Connecting to the daemon…') : this.dashboard);
    }
    if (state.auth !== 'ok') return;
    this.renderDashboard(state);
  }

  private renderDashboard(state: AppState): void {
    const s = this.slots;
    const select = (name: string) => void this.live.select(name);
    patch(s.cluster, JSON.stringify(state.cluster), () => (state.cluster === null ? null : clusterPanel(state.cluster)));
    patch(s.overview, JSON.stringify([state.services.map(overviewKey), state.selected]), () => overview(state.services, state.selected, select));
    const service = state.services.find((x) => x.name === state.selected);
    this.servicePanel.hidden = service === undefined;
    if (service === undefined) return;
    patch(s.title, JSON.stringify([service.name, service.deployment?.state, service.deployment?.strategy, service.standby !== null, service.lastDeployment]), () => [
      h('h2', { id: 'service-heading' }, service.name),
      phaseBadge(service),
    ]);
    patch(s.controls, controlsSignature(service, state.shown, state.history, state.busy), () =>
      controls(service, state.shown, state.history, state.busy, { act: (a) => void this.live.act(a), openDeploy: (name) => this.openDeploy(name) }),
    );
    const now = Date.now();
    patch(s.status, serviceStatusSignature(service, now), () => serviceStatus(service, now, () => void this.live.acknowledge(service.name)));
    patch(s.split, JSON.stringify(service.releases.map((r) => [r.version, r.number, r.role, r.traffic])), () => splitBar(service, 'large'));
    this.charts.update(state.series);
    patch(s.instances, JSON.stringify([service.releases, [...state.instanceRates]]), () => instances(service, state.instanceRates));
    const shown = state.shown;
    patch(s.deployment, JSON.stringify([shown, state.chosen]), () =>
      shown === null ? h('p', { class: 'empty' }, 'No deployment yet.') : deploymentView(shown, state.chosen === null, () => void this.live.choose(null)),
    );
    patch(s.history, JSON.stringify([state.history, shown?.id]), () => historyTable(state.history, shown?.id ?? null, (id) => void this.live.choose(id)));
    this.events.update(state.events, state.selected);
  }

  private renderBanner(state: AppState): void {
    const down = state.auth === 'ok' && (state.unreachableSince !== null || state.feed === 'unreachable');
    patch(this.banner, String(down), () =>
      down ? h('div', { class: 'banner', role: 'alert' }, 'The daemon is not answering. What you see is the last known state; reconnecting…') : null,
    );
  }

  private openDeploy(preselected: string | null): void {
    openDeployDialog(this.store.get().services, preselected, (form) => this.live.deploy(form));
  }
}

function panel(title: string, content: HTMLElement, extraClass = ''): HTMLElement {
  const id = `panel-${title.toLowerCase()}`;
  return h('section', { class: `panel ${extraClass}`.trim(), 'aria-labelledby': id }, h('h2', { class: 'panel-title', id }, title), content);
}

function overviewKey(s: AppState['services'][number]): unknown {
  return [s.name, s.stable?.version, s.deployment?.state, s.deployment?.strategy, s.standby, s.lastDeployment?.state, s.lastDeployment?.acknowledged, s.releases.map((r) => [r.version, r.number, r.role, r.traffic, r.instances.map((i) => [i.state, i.healthy])])];
}
