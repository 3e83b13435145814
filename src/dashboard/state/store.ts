// The page's whole state in one object; views read it, the live-data controller writes it. Changes are
// batched to one render per animation frame.
import type { FeedStatus } from '../api/event-feed.js';
import type { ClusterDaemonView, DeploymentDetail, DeploymentView, EventView, ServiceView } from '../api/types.js';
import type { SeriesBuffer } from './series-buffer.js';

export const MAX_EVENTS = 500;

export interface AppState {
  /** 'needed': the API answered 401, nothing but the token form is shown. */
  auth: 'checking' | 'needed' | 'ok';
  authMessage: string | null;
  feed: FeedStatus;
  /** Set while the daemon does not answer; when the next try is. */
  unreachableSince: number | null;
  services: ServiceView[];
  /** In cluster mode: the hosts as this daemon sees them; null on one host. */
  cluster: ClusterDaemonView | null;
  selected: string | null;
  history: DeploymentView[];
  /** The deployment the deployment view shows (the active one, the chosen one, or the latest). */
  shown: DeploymentDetail | null;
  /** A deployment chosen in the history list; null follows the active or latest one. */
  chosen: number | null;
  /** Recent events of every service, oldest first. */
  events: EventView[];
  series: SeriesBuffer | null;
  instanceRates: ReadonlyMap<string, number>;
  /** The control whose request is in flight. */
  busy: string | null;
}

export function initialState(): AppState {
  return {
    auth: 'checking',
    authMessage: null,
    feed: 'connecting',
    unreachableSince: null,
    services: [],
    cluster: null,
    selected: null,
    history: [],
    shown: null,
    chosen: null,
    events: [],
    series: null,
    instanceRates: new Map(),
    busy: null,
  };
}

export class Store {
  private state = initialState();
  private readonly listeners = new Set<(state: AppState) => void>();
  private scheduled = false;

  get(): AppState {
    return this.state;
  }

  set(patch: Partial<AppState>): void {
    this.state = { ...this.state, ...patch };
    this.schedule();
  }

  /** Mutations made inside a held object (the series buffer) need a render too. */
  touch(): void {
    this.schedule();
  }

  subscribe(listener: (state: AppState) => void): void {
    this.listeners.add(listener);
  }

  selectedService(): ServiceView | undefined {
    return this.state.services.find((s) => s.name === this.state.selected);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      for (const listener of this.listeners) listener(this.state);
    });
  }
}
