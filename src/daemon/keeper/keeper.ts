// The keeper: the small process `switchyard up` runs as. It holds the state folder's lock and the
// listening sockets, starts the controller and the proxy workers, relays messages between them (keeping
// the newest table for workers it starts later), restarts whichever dies, and stops them all in order.
// It serves no traffic and keeps no state of its own, so that it is the least likely process to die.
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../../config/index.js';
import type { ControllerStart, FromController, FromWorker, TableMessage, ToController, ToWorker, WorkerInfo } from '../ipc/messages.js';
import { StartError } from '../start-error.js';
import { childFd, CONTROLLER_ENTRY, restartEnv, spawnChild, WORKER_ENTRY } from './child-processes.js';
import { bindListeners, type Listeners } from './listeners.js';
import { lockStateDir } from './state-lock.js';
import type { BoundSocket } from './socket-handles.js';

/** Restart delays after a crash: doubling from the first, capped. */
const RESTART_MIN_MS = 200;
const RESTART_MAX_MS = 10_000;
/** A child that ran this long before crashing starts again without delay growth. */
const STABLE_AFTER_MS = 30_000;

export interface KeeperOptions {
  configFile: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  version: string;
}

interface WorkerSlot {
  index: number;
  child: ChildProcess | null;
  startedAt: number;
  tableVersion: number;
  crashes: number;
}

interface ControllerSlot {
  child: ChildProcess | null;
  startedAt: number;
  crashes: number;
  ready: boolean;
}

export class Keeper {
  private readonly workers = new Map<number, WorkerSlot>();
  private readonly controller: ControllerSlot = { child: null, startedAt: 0, crashes: 0, ready: false };
  private lastTable: TableMessage | null = null;
  private stopping: Promise<void> | null = null;
  private readonly generation = 1;
  private onControllerReady: ((err?: Error) => void) | null = null;
  private fatal: string | null = null;

  private constructor(
    private config: Config,
    private readonly options: KeeperOptions,
    private readonly lock: BoundSocket,
    readonly listeners: Listeners,
  ) {}

  /**
   * Validates the config, takes the state folder's lock and binds every listener before anything else
   * happens (a daemon that cannot serve touches no instance and no state), then starts the processes.
   */
  static async start(options: KeeperOptions): Promise<Keeper> {
    const config = loadConfig(options.configFile, options.env);
    const lock = lockStateDir(config.state);
    let listeners: Listeners;
    try {
      listeners = await bindListeners(config);
    } catch (err) {
      lock.close();
      throw err;
    }
    const keeper = new Keeper(config, options, lock, listeners);
    process.title = `switchyard keeper (generation ${keeper.generation})`;
    const count = config.proxy.workers === 'auto' ? availableParallelism() : config.proxy.workers;
    for (let index = 1; index <= count; index++) keeper.startWorker(index);
    try {
      await keeper.startController();
    } catch (err) {
      await keeper.stop();
      throw err;
    }
    return keeper;
  }

  get pid(): number {
    return process.pid;
  }

  /** SIGHUP: the controller re-reads the config file. */
  reload(): void {
    this.toController({ t: 'reload' });
  }

  /**
   * Graceful stop: the workers stop accepting and finish in-flight work (until the longest drain
   * timeout), then the controller drains and stops every app instance and closes the store.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const drainMs = Math.max(1000, ...Object.values(this.config.services).map((s) => s.drain.timeout));
      const stopMs = Math.max(1000, ...Object.values(this.config.services).map((s) => s.stop.timeout));
      this.options.log.info({ drainMs }, 'stopping: the proxies finish what they serve, then the app instances stop');
      const workersStopped = Promise.all(
        [...this.workers.values()].map((slot) => this.stopChild(slot.child, { t: 'stop', drainMs, mode: 'stop' }, drainMs + 10_000)),
      );
      // The daemon goes away: new connections are refused once no process holds the sockets any more.
      this.listeners.closeProxy();
      await workersStopped;
      await this.stopChild(this.controller.child, { t: 'shutdown' }, drainMs + stopMs + 30_000);
      this.listeners.close();
      this.lock.close();
    })();
    return this.stopping;
  }

  /** Ends at once: children are killed; app instances keep running for the next daemon to adopt. */
  kill(): void {
    for (const slot of this.workers.values()) slot.child?.kill('SIGKILL');
    this.controller.child?.kill('SIGKILL');
  }

  private startWorker(index: number): void {
    const child = spawnChild(WORKER_ENTRY, this.listeners.proxy.map((l) => l.fd));
    const slot: WorkerSlot = this.workers.get(index) ?? { index, child: null, startedAt: 0, tableVersion: 0, crashes: 0 };
    Object.assign(slot, { child, startedAt: Date.now(), tableVersion: 0 });
    this.workers.set(index, slot);
    child.on('message', (message) => this.fromWorker(slot, child, message as FromWorker));
    child.once('exit', (code, signal) => this.workerExited(slot, child, code, signal));
    this.send(child, {
      t: 'start',
      index,
      generation: this.generation,
      listeners: this.listeners.proxy.map((l, i) => ({ address: l.address, port: l.port, fd: childFd(i) })),
      table: this.lastTable,
    });
    this.announceFleet();
  }

  private startController(): Promise<void> {
    const child = spawnChild(CONTROLLER_ENTRY, [this.listeners.admin.fd], this.controller.startedAt === 0 ? process.env : restartEnv());
    Object.assign(this.controller, { child, startedAt: Date.now(), ready: false });
    child.on('message', (message) => this.fromController(child, message as FromController));
    child.once('exit', (code, signal) => this.controllerExited(child, code, signal));
    const start: ControllerStart = {
      t: 'start',
      generation: this.generation,
      config: this.config,
      configFile: this.options.configFile,
      admin: { address: this.listeners.admin.address, port: this.listeners.admin.port, fd: childFd(0) },
      listeners: this.listeners.proxy.map((l) => ({ address: l.address, port: l.port, fd: -1 })),
      workers: this.workerInfos(),
      tableVersion: this.lastTable?.version ?? 0,
      keeperPid: process.pid,
      keeperStartedAt: Date.now() - Math.round(process.uptime() * 1000),
      version: this.options.version,
    };
    this.send(child, start);
    return new Promise((resolve, reject) => {
      this.onControllerReady = (err) => (err ? reject(err) : resolve());
    });
  }

  private fromController(child: ChildProcess, message: FromController): void {
    if (child !== this.controller.child) return;
    switch (message.t) {
      case 'table':
        this.lastTable = message;
        return this.toWorkers(message);
      case 'drain':
        return this.toWorkers(message);
      case 'ready':
        this.controller.ready = true;
        this.onControllerReady?.();
        this.onControllerReady = null;
        return;
      case 'fatal':
        this.fatal = message.message;
        return;
      case 'config':
        this.config = message.config;
        return;
      case 'replace': {
        const slot = this.workers.get(message.worker);
        this.options.log.warn({ worker: message.worker, pid: slot?.child?.pid, reason: message.reason }, 'replacing a proxy worker');
        slot?.child?.kill('SIGKILL');
        return;
      }
      case 'upgrade':
        return this.toController({ t: 'upgrade-answer', id: message.id, ok: false, message: 'upgrades are not supported by this daemon yet' });
    }
  }

  private fromWorker(slot: WorkerSlot, child: ChildProcess, message: FromWorker): void {
    if (slot.child !== child) return;
    if (message.t === 'ack') slot.tableVersion = Math.max(slot.tableVersion, message.version);
    this.toController({ ...message, worker: slot.index });
  }

  private workerExited(slot: WorkerSlot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = null;
    this.announceFleet();
    if (this.stopping) return;
    const delay = this.restartDelay(slot);
    this.options.log.error({ worker: slot.index, pid: child.pid, code, signal, restartInMs: delay }, 'a proxy worker exited; starting another');
    setTimeout(() => {
      if (!this.stopping) this.startWorker(slot.index);
    }, delay);
  }

  private controllerExited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.controller.child !== child) return;
    this.controller.child = null;
    if (this.onControllerReady) {
      const why = this.fatal ?? `the controller exited (code ${code}, signal ${signal}) before it was ready`;
      this.onControllerReady(new StartError(why));
      this.onControllerReady = null;
      return;
    }
    if (this.stopping) return;
    const delay = this.restartDelay(this.controller);
    this.options.log.error({ pid: child.pid, code, signal, restartInMs: delay }, 'the controller exited; the proxies keep serving the last table while another starts');
    setTimeout(() => {
      if (!this.stopping) void this.startController().catch((err: unknown) => this.options.log.error({ err }, 'the controller did not come back'));
    }, delay);
  }

  private restartDelay(slot: { startedAt: number; crashes: number }): number {
    if (Date.now() - slot.startedAt > STABLE_AFTER_MS) slot.crashes = 0;
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** slot.crashes);
    slot.crashes++;
    return delay;
  }

  private workerInfos(): WorkerInfo[] {
    return [...this.workers.values()]
      .filter((slot) => slot.child?.pid !== undefined)
      .map((slot) => ({ index: slot.index, pid: slot.child!.pid!, startedAt: slot.startedAt, tableVersion: slot.tableVersion }));
  }

  private announceFleet(): void {
    this.toController({ t: 'fleet', workers: this.workerInfos() });
  }

  private toWorkers(message: ToWorker): void {
    for (const slot of this.workers.values()) if (slot.child) this.send(slot.child, message);
  }

  private toController(message: ToController): void {
    if (this.controller.child) this.send(this.controller.child, message);
  }

  private send(child: ChildProcess, message: ToWorker | ToController): void {
    if (child.connected) child.send(message, (err) => err && this.options.log.debug({ err, pid: child.pid }, 'a message to a child was lost'));
  }

  /** Asks a child to stop and waits for it to exit; kills it when it takes longer than `timeoutMs`. */
  private async stopChild(child: ChildProcess | null, message: ToWorker | ToController, timeoutMs: number): Promise<void> {
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.send(child, message);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
