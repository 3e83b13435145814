// The supervisor starts, watches and stops instances: a local process in its own process group with
// a free PORT, or a static target run elsewhere. Ready means the health check passed (invariant 1);
// a stop drains first, then signals, then kills (invariant 2); a crash is restarted with backoff.
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/index.js';
import type { HealthChecker } from '../health/active-checker.js';
import type { DrainReport } from '../proxy/drain.js';
import { healthPolicy } from '../daemon/service-policy.js';
import type { InstanceRow, ReleaseRow, Store } from '../store/index.js';
import { Instance } from './instance.js';
import { lastOutput, withLastLine } from './instance-output.js';
import { instanceLogPath, LogRotator } from './log-files.js';
import { freePort, isPortFree } from './ports.js';
import { isOurInstanceProcess } from './leftovers.js';
import { startProcess } from './spawn-process.js';
import { isAlive, killProcessGroup, stopProcessGroup } from './stop-process.js';

/** How often an adopted process (not our child: no exit event) is checked for life. */
const ADOPTED_POLL_MS = 500;

/** Resolves when the process is gone; polls while `watching()` holds. */
function watchExit(pid: number, watching: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!watching() || !isAlive(pid)) {
        clearInterval(timer);
        resolve();
      }
    }, ADOPTED_POLL_MS);
    timer.unref();
  });
}

/** Exits before becoming healthy that count as a crash loop. */
export const CRASH_LOOP_EXITS = 3;
const MAX_BACKOFF_MS = 30_000;

export class InstanceStartError extends Error {
  readonly code = 'SY_ERR_INSTANCE_START';

  constructor(
    message: string,
    /** The instance's last lines of output, when it got as far as printing any. */
    readonly output: string[] = [],
  ) {
    super(message);
  }
}

export interface InstanceId {
  id: string;
  ordinal: number;
}

export interface StopReport extends DrainReport {
  outcome: 'exited' | 'killed' | 'already-gone' | 'no-process';
}

/** What the supervisor records: instance rows and events. */
export type SupervisorStore = Pick<Store, 'addEvent' | 'createInstance' | 'updateInstance' | 'nextInstanceOrdinal' | 'instance'>;

export interface SupervisorDeps {
  store: SupervisorStore;
  health: HealthChecker<Instance>;
  /** Waits until no proxy has anything in flight on the instance (it left every table first). */
  drain: (instanceId: string, timeoutMs: number) => Promise<DrainReport>;
  stateDir: string;
  log: Logger;
  /** The address instances listen on: loopback on one host, the host's cluster address in a cluster. */
  instanceHost?: string;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Supervisor {
  private readonly live = new Map<string, Instance>();
  private readonly waiters = new Map<Instance, Waiter>();
  private readonly restartTimers = new Map<Instance, NodeJS.Timeout>();
  private readonly crashListeners: ((instance: Instance, output: string[]) => void)[] = [];
  private readonly rotator = new LogRotator();
  private readonly nextOrdinal = new Map<string, number>();
  private readonly everReady = new WeakSet<Instance>();

  constructor(private readonly deps: SupervisorDeps) {
    deps.health.onChange((instance, healthy, result) => {
      if (this.live.get(instance.id) !== instance) return;
      if (healthy && instance.state === 'starting') this.becameReady(instance);
      else if (!healthy) {
        deps.store.addEvent({ service: instance.service, instanceId: instance.id, type: 'instance.unhealthy', message: `${instance.id}: health check failing (${result.detail}); out of rotation until it passes` });
      } else {
        deps.store.addEvent({ service: instance.service, instanceId: instance.id, type: 'instance.healthy', message: `${instance.id}: health check passing again` });
      }
    });
  }

  /** Live instances (starting or ready), optionally of one service or release. */
  instances(filter: { service?: string; releaseId?: number } = {}): Instance[] {
    return [...this.live.values()].filter(
      (i) => (filter.service === undefined || i.service === filter.service) && (filter.releaseId === undefined || i.release.id === filter.releaseId),
    );
  }

  /** Calls `listener` on every crash, with what the instance printed last; returns a function that stops listening. */
  onCrash(listener: (instance: Instance, output: string[]) => void): () => void {
    this.crashListeners.push(listener);
    return () => {
      const i = this.crashListeners.indexOf(listener);
      if (i >= 0) this.crashListeners.splice(i, 1);
    };
  }

  /** The live instance with this id (starting or ready). */
  get(id: string): Instance | undefined {
    return this.live.get(id);
  }

  /**
   * Ids for instances about to be started, taken before any await so that instances started together
   * never share one. A deployment writes them down before it starts them, so a controller that takes
   * over later knows which instances were its.
   */
  reserve(service: string, release: ReleaseRow, count: number): InstanceId[] {
    const ids: InstanceId[] = [];
    for (let n = 0; n < count; n++) ids.push(this.newInstanceId(service, release));
    return ids;
  }

  /** Starts one instance and resolves when it is healthy; rejects (and cleans up) when it cannot be. */
  async start(service: string, config: ServiceConfig, release: ReleaseRow, signal?: AbortSignal, reserved?: InstanceId): Promise<Instance> {
    const { store } = this.deps;
    const { id, ordinal } = reserved ?? this.reserve(service, release, 1)[0]!;
    const host = this.deps.instanceHost ?? '127.0.0.1';
    const address = release.spec.kind === 'static' ? this.freeTarget(release) : `${host}:${await freePort(host)}`;
    store.createInstance({ id, service, releaseId: release.id, ordinal, address, pid: null, state: 'starting' });
    store.addEvent({ service, instanceId: id, type: 'instance.starting', message: `${id}: starting ${release.version} at ${address}`, data: { release: release.number } });
    const instance = new Instance(id, service, release, ordinal, address, store);
    this.live.set(id, instance);
    return this.untilReady(instance, config, signal, async () => {
      if (release.spec.kind === 'process') await this.spawn(instance, config);
      this.deps.health.watch(instance, healthPolicy(config));
    });
  }

  /**
   * Takes over an instance a previous controller started (after a controller crash, an upgrade or a
   * daemon restart): its process is found by the recorded PID (or, when none was recorded, by the
   * instance id in its environment) and kept running. Returns null when the process is gone.
   */
  adopt(row: InstanceRow, release: ReleaseRow, config: ServiceConfig, pid: number | null): Instance | null {
    const { store, health } = this.deps;
    if (row.address === null) return null;
    const isProcess = release.spec.kind === 'process';
    if (isProcess && (pid === null || !isOurInstanceProcess(pid, row.id))) return null;
    const instance = new Instance(row.id, row.service, release, row.ordinal, row.address, store);
    instance.restoreState(row.state === 'draining' ? 'ready' : row.state);
    instance.restarts = row.restarts;
    if (isProcess && pid !== null) {
      instance.adoptedPid = pid;
      instance.exited = watchExit(pid, () => instance.adoptedPid === pid);
      void instance.exited.then(() => {
        if (instance.adoptedPid === pid) void this.onExit(instance, config, null, null);
      });
      if (row.pid !== pid) store.updateInstance(row.id, { pid });
      this.rotator.add(instanceLogPath(this.deps.stateDir, row.service, release.number, row.ordinal));
    }
    this.live.set(row.id, instance);
    if (row.state === 'ready') this.everReady.add(instance);
    // A serving instance stays in rotation until its checks fail; a starting one waits for them to pass.
    health.watch(instance, healthPolicy(config), row.state === 'starting' ? undefined : { since: Date.parse(row.updatedAt) });
    return instance;
  }

  /** Resolves once an adopted starting instance is healthy; rejects (and cleans up) when it cannot be. */
  whenReady(instance: Instance, config: ServiceConfig, signal?: AbortSignal): Promise<Instance> {
    if (instance.state === 'ready') return Promise.resolve(instance);
    return this.untilReady(instance, config, signal, async () => {});
  }

  /** Waits for the first passing check of a starting instance, within startTimeout. */
  private async untilReady(instance: Instance, config: ServiceConfig, signal: AbortSignal | undefined, begin: () => Promise<void>): Promise<Instance> {
    const { health } = this.deps;
    const ready = new Promise<void>((resolve, reject) => this.waiters.set(instance, { resolve, reject }));
    const timer = setTimeout(() => {
      const reason = `not healthy within ${config.health.startTimeout} ms (last check: ${health.lastResult(instance)?.detail ?? 'none yet'})`;
      void this.outputOf(instance).then((output) => this.failStart(instance, reason, output));
    }, config.health.startTimeout);
    const onAbort = () => this.failStart(instance, 'cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await begin();
      if (health.isHealthy(instance) && instance.state === 'starting') this.becameReady(instance);
      await ready;
      return instance;
    } catch (err) {
      await this.cleanUpFailed(instance, config);
      throw err instanceof InstanceStartError ? err : new InstanceStartError(`${instance.id}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * `web-v12-1`: the service, the version label and an ordinal counted per label (not per release), so a
   * person reads the version in every event. Taken before any await, so instances started together never
   * share one; an id some other label already spells (`v1` + `-2-1` vs `v1-2` + `-1`) is skipped.
   */
  private newInstanceId(service: string, release: ReleaseRow): { id: string; ordinal: number } {
    const key = `${service}\0${release.version}`;
    let ordinal = Math.max(this.deps.store.nextInstanceOrdinal(release.id), this.nextOrdinal.get(key) ?? 1);
    const idOf = (n: number) => `${service}-${release.version}-${n}`;
    while (this.live.has(idOf(ordinal)) || this.deps.store.instance(idOf(ordinal)) !== undefined) ordinal++;
    this.nextOrdinal.set(key, ordinal + 1);
    return { id: idOf(ordinal), ordinal };
  }

  /** Drains and stops an instance that is already out of rotation. */
  async stop(instance: Instance, config: ServiceConfig): Promise<StopReport> {
    instance.stopping = true;
    this.clearRestart(instance);
    this.waiters.get(instance)?.reject(new InstanceStartError(`${instance.id}: stopped before it became healthy`));
    instance.transition('draining', 'out of rotation; draining in-flight requests');
    const drained = await this.deps.drain(instance.id, config.drain.timeout);
    this.deps.health.unwatch(instance);
    let outcome: StopReport['outcome'] = 'no-process';
    let afterMs = 0;
    if (instance.pid !== null) {
      ({ outcome, afterMs } = await stopProcessGroup(instance.pid, config.stop.signal, config.stop.timeout, instance.exited));
    }
    const what =
      outcome === 'killed' ? `killed with SIGKILL after ${config.stop.timeout} ms` : outcome === 'exited' ? `exited ${afterMs} ms after ${config.stop.signal}` : outcome === 'already-gone' ? 'process already gone' : 'static target released';
    instance.transition('stopped', `drained ${drained.finished}, cut ${drained.cut}; ${what}`, { ...drained, outcome });
    this.forget(instance);
    return { ...drained, outcome };
  }

  /** Daemon stop: every instance (already out of the proxy) gets its stop signal, then SIGKILL. */
  async stopAll(configFor: (service: string) => ServiceConfig | undefined): Promise<void> {
    await Promise.all(
      [...this.live.values()].map(async (instance) => {
        const config = configFor(instance.service);
        if (config) await this.stop(instance, config).catch((err: unknown) => this.deps.log.error({ err, instance: instance.id }, 'stop failed'));
      }),
    );
    this.rotator.stop();
  }

  private async spawn(instance: Instance, config: ServiceConfig): Promise<void> {
    const spec = instance.release.spec;
    if (spec.kind !== 'process') return;
    const port = instance.address.slice(instance.address.lastIndexOf(':') + 1);
    const logFile = instanceLogPath(this.deps.stateDir, instance.service, instance.release.number, instance.ordinal);
    this.rotator.add(logFile);
    const child = await startProcess({
      command: spec.command,
      cwd: spec.cwd,
      env: {
        ...spec.env,
        PORT: port,
        HOST: this.deps.instanceHost ?? '127.0.0.1',
        SWITCHYARD_INSTANCE_ID: instance.id,
        SWITCHYARD_SERVICE: instance.service,
        SWITCHYARD_VERSION: instance.release.version,
      },
      logFile,
    });
    instance.child = child;
    instance.adoptedPid = null;
    instance.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.deps.store.updateInstance(instance.id, { pid: child.pid ?? null });
    child.once('exit', (code, signal) => void this.onExit(instance, config, code, signal));
  }

  private async onExit(instance: Instance, config: ServiceConfig, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (instance.stopping || !instance.isLive) return;
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    // Out of rotation now, not after the checks notice.
    this.deps.health.markDown(instance, `the process ${how}`);
    // What the crashed leader started (a shell's children) must not outlive it and hold its port.
    const pid = instance.pid;
    if (pid !== null) await killProcessGroup(pid).catch(() => {});
    if (instance.stopping || !instance.isLive) return;
    instance.restarts++;
    instance.crashesSinceReady++;
    const logFile = instanceLogPath(this.deps.stateDir, instance.service, instance.release.number, instance.ordinal);
    const output = await lastOutput(logFile);
    if (instance.stopping || !instance.isLive) return;
    this.deps.store.addEvent({
      service: instance.service,
      instanceId: instance.id,
      type: 'instance.crashed',
      message: withLastLine(`${instance.id}: ${how} (restart ${instance.restarts})`, output),
      data: { code, signal, restarts: instance.restarts, output },
    });
    for (const listener of this.crashListeners) listener(instance, output);
    // A first start that keeps crashing fails (its deployment rolls back). An instance that was
    // serving is never given up on: it keeps restarting, the backoff capped, until it is stopped.
    if (this.waiters.has(instance) && instance.crashesSinceReady >= CRASH_LOOP_EXITS) {
      return this.failStart(instance, `crash loop: ${how} ${instance.crashesSinceReady} times before becoming healthy`, output);
    }
    this.scheduleRestart(instance, config, how);
  }

  private scheduleRestart(instance: Instance, config: ServiceConfig, why: string): void {
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(Math.max(instance.crashesSinceReady - 1, 0), 10));
    const timer = setTimeout(() => {
      this.restartTimers.delete(instance);
      if (instance.stopping || !instance.isLive) return;
      if (instance.state === 'ready') instance.transition('starting', `restarting after a crash (${why})`);
      this.movePortIfTaken(instance, config)
        .then(() => this.spawn(instance, config))
        .catch((err: unknown) => {
          const reason = `restart failed: ${err instanceof Error ? err.message : String(err)}`;
          if (this.waiters.has(instance)) return this.failStart(instance, reason);
          this.deps.store.addEvent({ service: instance.service, instanceId: instance.id, type: 'instance.restart-failed', message: `${instance.id}: ${reason}` });
          instance.crashesSinceReady++;
          this.scheduleRestart(instance, config, reason);
        });
    }, backoff);
    this.restartTimers.set(instance, timer);
  }

  /**
   * A free port can be taken by another program between choosing it and the app binding it. An
   * instance that never became ready (so is in no routing table) moves to a new port in that case.
   */
  private async movePortIfTaken(instance: Instance, config: ServiceConfig): Promise<void> {
    if (instance.release.spec.kind !== 'process' || instance.restarts === 0 || instance.crashesSinceReady === 0) return;
    if (instance.state !== 'starting' || this.everReady.has(instance)) return;
    const port = Number(instance.address.slice(instance.address.lastIndexOf(':') + 1));
    if (await isPortFree(this.deps.instanceHost ?? '127.0.0.1', port)) return;
    const { health, store } = this.deps;
    health.unwatch(instance);
    const host = this.deps.instanceHost ?? '127.0.0.1';
    instance.address = `${host}:${await freePort(host)}`;
    health.watch(instance, healthPolicy(config));
    store.updateInstance(instance.id, { address: instance.address });
    store.addEvent({ service: instance.service, instanceId: instance.id, type: 'instance.port-moved', message: `${instance.id}: port ${port} was taken by another program; moving to ${instance.address}` });
  }

  private becameReady(instance: Instance): void {
    this.everReady.add(instance);
    instance.crashesSinceReady = 0;
    instance.transition('ready', `healthy (${this.deps.health.lastResult(instance)?.detail ?? 'check passed'})`);
    this.waiters.get(instance)?.resolve();
    this.waiters.delete(instance);
  }

  /** Fails a start in progress (timeout, crash loop, cancel); the start's own catch cleans up. */
  private failStart(instance: Instance, reason: string, output: string[] = []): void {
    const waiter = this.waiters.get(instance);
    this.waiters.delete(instance);
    waiter?.reject(new InstanceStartError(withLastLine(`${instance.id}: ${reason}`, output), output));
  }

  /** What a process instance printed last (a static target prints nothing here). */
  private outputOf(instance: Instance): Promise<string[]> {
    if (instance.release.spec.kind !== 'process') return Promise.resolve([]);
    return lastOutput(instanceLogPath(this.deps.stateDir, instance.service, instance.release.number, instance.ordinal));
  }

  private async cleanUpFailed(instance: Instance, config: ServiceConfig): Promise<void> {
    instance.stopping = true;
    this.clearRestart(instance);
    this.deps.health.unwatch(instance);
    const running = instance.child ? instance.child.exitCode === null : instance.pid !== null && isAlive(instance.pid);
    if (instance.pid !== null && running) {
      await stopProcessGroup(instance.pid, config.stop.signal, config.stop.timeout, instance.exited);
    }
    if (instance.state !== 'failed') instance.transition('failed', 'did not become healthy');
    this.forget(instance);
  }

  private clearRestart(instance: Instance): void {
    const timer = this.restartTimers.get(instance);
    if (timer) clearTimeout(timer);
    this.restartTimers.delete(instance);
  }

  private forget(instance: Instance): void {
    this.live.delete(instance.id);
    this.waiters.delete(instance);
  }

  /** A static release's target address no live instance of it uses yet. */
  private freeTarget(release: ReleaseRow): string {
    if (release.spec.kind !== 'static') throw new Error('not a static release');
    const used = new Set(this.instances({ releaseId: release.id }).map((i) => i.address));
    const free = release.spec.targets.find((t) => !used.has(t));
    if (free === undefined) throw new InstanceStartError(`release ${release.number} has no unused target left (all ${release.spec.targets.length} are in use)`);
    return free;
  }
}
