// Keeps the state live: the event stream for what happens, a one-second poll for the numbers that move
// all the time (in-flight, rates, the charts), and a refetch of the selected service's deployments
// whenever one of its events arrives. A 401 anywhere locks the page until a token is given.
import { ApiClient, ApiFailure, Unauthorized, Unreachable } from '../api/client.js';
import { EventFeed, type FeedStatus } from '../api/event-feed.js';
import type { DaemonView, DeploymentDetail, DeploymentView, EventView, ServiceView, TimeseriesView } from '../api/types.js';
import { currentToken, forgetToken, saveToken } from '../auth/token.js';
import { LABELS, type Action } from './actions.js';
import { SeriesBuffer } from './series-buffer.js';
import { initialState, MAX_EVENTS, type Store } from './store.js';

const TICK_MS = 1000;
const EVENT_REFRESH_DELAY_MS = 100;

export type Notify = (message: string, kind: 'ok' | 'error') => void;

export interface DeployForm {
  service: string;
  version: string;
  strategy: string;
  targets: string[];
  /** Environment for the new release, over the config's (as `deploy --env K=V`). */
  env: Record<string, string>;
}

export class LiveData {
  readonly client = new ApiClient(currentToken);
  private readonly feed: EventFeed;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private ticking = false;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private bootRetry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly store: Store,
    private readonly notify: Notify,
  ) {
    this.feed = new EventFeed((extra) => this.client.headers(extra), {
      onEvent: (event) => this.onEvent(event),
      onStatus: (status) => this.onFeedStatus(status),
    });
  }

  /** First load: finds out whether a token is needed, then goes live. */
  async start(): Promise<void> {
    if (this.bootRetry !== null) clearTimeout(this.bootRetry);
    this.bootRetry = null;
    try {
      const services = await this.fetchServices();
      const selected = this.store.get().selected ?? fromHash(services) ?? services[0]?.name ?? null;
      this.store.set({ auth: 'ok', authMessage: null, unreachableSince: null, services, cluster: await this.fetchCluster() });
      this.feed.start();
      this.ticker ??= setInterval(() => void this.tick(), TICK_MS);
      if (selected !== null) await this.select(selected);
    } catch (err) {
      this.handle(err);
      if (err instanceof Unreachable) this.bootRetry = setTimeout(() => void this.start(), 2000);
    }
  }

  /** The token form was sent. */
  async signIn(token: string): Promise<void> {
    saveToken(token.trim());
    this.store.set({ auth: 'checking' });
    await this.start();
  }

  signOut(): void {
    forgetToken();
    this.lock(null);
  }

  async select(service: string): Promise<void> {
    if (this.store.get().selected !== service || this.store.get().series === null) {
      this.store.set({ selected: service, series: new SeriesBuffer(service), history: [], shown: null, chosen: null });
      if (location.hash !== `#${service}`) history.replaceState(null, '', `#${encodeURIComponent(service)}`);
    }
    await Promise.all([this.refreshDeployments(), this.refreshSeries()]);
  }

  /** Shows a past deployment in the deployment view; null goes back to following the current one. */
  async choose(id: number | null): Promise<void> {
    this.store.set({ chosen: id });
    await this.refreshDeployments();
  }

  async act(action: Action): Promise<void> {
    const service = this.store.get().selected;
    if (service === null || this.store.get().busy !== null) return;
    const verb = action === 'promote-full' ? 'promote' : action;
    this.store.set({ busy: action });
    try {
      await this.client.post(`/api/v1/services/${encodeURIComponent(service)}/${verb}`, action === 'promote-full' ? { full: true } : {});
      this.notify(`${LABELS[action]}: done`, 'ok');
      this.store.set({ chosen: null });
      await this.refreshAll();
    } catch (err) {
      this.handle(err);
    } finally {
      this.store.set({ busy: null });
    }
  }

  /** Marks the service's failed or rolled-back last deployment as seen: its flag goes. */
  async acknowledge(service: string): Promise<void> {
    try {
      await this.client.post(`/api/v1/services/${encodeURIComponent(service)}/acknowledge`);
      await this.refreshAll();
    } catch (err) {
      this.handle(err);
    }
  }

  /** Starts a deployment; resolves to an error message for the form, or null when it started. */
  async deploy(form: DeployForm): Promise<string | null> {
    const body: Record<string, unknown> = { version: form.version };
    if (form.strategy !== '') body.strategy = form.strategy;
    if (form.targets.length > 0) body.targets = form.targets;
    if (Object.keys(form.env).length > 0) body.env = form.env;
    try {
      const started = await this.client.post<DeploymentView>(`/api/v1/services/${encodeURIComponent(form.service)}/deployments`, body);
      this.notify(`Deployment #${started.id} of ${form.service} ${form.version} started`, 'ok');
      await this.select(form.service);
      await this.refreshAll();
      return null;
    } catch (err) {
      if (err instanceof ApiFailure) return err.message;
      this.handle(err);
      return err instanceof Unreachable ? 'the daemon is unreachable' : null;
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.store.get().auth !== 'ok' || document.hidden) return;
    this.ticking = true;
    try {
      // The hosts move only in cluster mode, which the daemon said at start: one host is not asked again.
      const [services, cluster] = await Promise.all([this.fetchServices(), this.store.get().cluster === null ? null : this.fetchCluster()]);
      this.store.set({ services, cluster, unreachableSince: null });
      // The daemon answers again: the event stream need not wait out its backoff.
      if (this.store.get().feed === 'unreachable') this.feed.retryNow();
      await this.refreshSeries();
      const current = this.store.selectedService()?.deployment;
      if (current && this.store.get().chosen === null) await this.refreshShown(current.id);
    } catch (err) {
      this.handle(err);
    } finally {
      this.ticking = false;
    }
  }

  private async refreshAll(): Promise<void> {
    this.store.set({ services: await this.fetchServices() });
    await this.refreshDeployments();
  }

  private async refreshDeployments(): Promise<void> {
    const service = this.store.get().selected;
    if (service === null) return;
    try {
      const { deployments } = await this.client.get<{ deployments: DeploymentView[] }>(`/api/v1/services/${encodeURIComponent(service)}/deployments?limit=20`);
      if (this.store.get().selected !== service) return;
      this.store.set({ history: deployments });
      const active = this.store.get().services.find((s) => s.name === service)?.deployment;
      const id = this.store.get().chosen ?? active?.id ?? deployments[0]?.id ?? null;
      if (id === null) this.store.set({ shown: null });
      else await this.refreshShown(id);
    } catch (err) {
      this.handle(err);
    }
  }

  private async refreshShown(id: number): Promise<void> {
    const detail = await this.client.get<DeploymentDetail>(`/api/v1/deployments/${id}`);
    if (detail.service === this.store.get().selected) this.store.set({ shown: detail });
  }

  private async refreshSeries(): Promise<void> {
    const buffer = this.store.get().series;
    if (buffer === null) return;
    const after = buffer.lastSecond;
    const query = after === undefined ? 'seconds=300' : `seconds=300&after=${after}`;
    const view = await this.client.get<TimeseriesView>(`/api/v1/services/${encodeURIComponent(buffer.service)}/timeseries?${query}`);
    if (this.store.get().series !== buffer) return;
    buffer.merge(view);
    this.store.set({ instanceRates: new Map(view.instances.map((i) => [i.id, i.requestsPerSecond])) });
  }

  /** The hosts, in cluster mode (the daemon view carries them); null on one host. */
  private async fetchCluster(): Promise<DaemonView['cluster'] | null> {
    return (await this.client.get<DaemonView>('/api/v1/daemon')).cluster ?? null;
  }

  private async fetchServices(): Promise<ServiceView[]> {
    return (await this.client.get<{ services: ServiceView[] }>('/api/v1/services')).services;
  }

  private onEvent(event: EventView): void {
    const { events, selected } = this.store.get();
    if (events.length > 0 && event.id <= events[events.length - 1]!.id) return;
    this.store.set({ events: [...events, event].slice(-MAX_EVENTS) });
    if (event.service !== null && event.service !== selected) return;
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refreshAll().catch((err: unknown) => this.handle(err));
    }, EVENT_REFRESH_DELAY_MS);
  }

  private onFeedStatus(status: FeedStatus): void {
    if (status === 'unauthorized') return this.lock(currentToken() === null ? null : 'That token was not accepted.');
    this.store.set({ feed: status });
  }

  private handle(err: unknown): void {
    if (err instanceof Unauthorized) return this.lock(currentToken() === null ? null : 'That token was not accepted.');
    if (err instanceof Unreachable) {
      if (this.store.get().unreachableSince === null) this.store.set({ unreachableSince: Date.now() });
      return;
    }
    this.notify(err instanceof Error ? err.message : String(err), 'error');
  }

  /** Forgets every piece of data and shows only the token form. */
  private lock(message: string | null): void {
    if (message !== null) forgetToken();
    this.feed.stop();
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    this.store.set({ ...initialState(), auth: 'needed', authMessage: message });
  }
}


function fromHash(services: ServiceView[]): string | undefined {
  const name = decodeURIComponent(location.hash.slice(1));
  return services.find((s) => s.name === name)?.name;
}
