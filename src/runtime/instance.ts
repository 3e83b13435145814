// One running copy of a release, and the only place its state changes: each transition is written to
// the store (with an event) before the supervisor acts on it (invariant 7).
import type { ChildProcess } from 'node:child_process';
import type { InstanceState, ReleaseRow, Store } from '../store/index.js';

/** Where an instance records its transitions (a host's agent in a cluster reports them as observations). */
export type InstanceStore = Pick<Store, 'updateInstance' | 'addEvent'>;

const ALLOWED: Record<InstanceState, readonly InstanceState[]> = {
  starting: ['ready', 'failed', 'draining', 'stopped'],
  // ready → starting is a restart after a crash.
  ready: ['draining', 'starting', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

export class Instance {
  state: InstanceState = 'starting';
  child: ChildProcess | null = null;
  /** The process of an instance another controller started (adopted after a restart): not our child. */
  adoptedPid: number | null = null;
  restarts = 0;
  /** Crashes since the instance last became ready: a crash loop fails its deployment. */
  crashesSinceReady = 0;
  /** Set once a stop began: exits after that are expected, not crashes. */
  stopping = false;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly service: string,
    readonly release: ReleaseRow,
    readonly ordinal: number,
    public address: string,
    private readonly store: InstanceStore,
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? this.adoptedPid;
  }

  /** Takes the state a previous controller recorded, without a transition (adoption after a restart). */
  restoreState(state: InstanceState): void {
    this.state = state;
  }

  /** Records and applies a state change; refuses transitions the state machine does not have. */
  transition(to: InstanceState, message: string, data?: Record<string, unknown>): void {
    if (this.state === to) return;
    if (!ALLOWED[this.state].includes(to)) {
      throw new Error(`instance ${this.id}: no transition from ${this.state} to ${to}`);
    }
    this.store.updateInstance(this.id, { state: to, pid: this.pid, address: this.address, restarts: this.restarts });
    this.store.addEvent({
      service: this.service,
      instanceId: this.id,
      type: `instance.${to}`,
      message: `${this.id}: ${message}`,
      data: { release: this.release.number, version: this.release.version, ...data },
    });
    this.state = to;
  }

  get isLive(): boolean {
    return this.state === 'starting' || this.state === 'ready';
  }
}
