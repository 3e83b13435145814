// The keeper: the small process `switchyard up` runs as. It holds the state folder's lock and the
// listening sockets, starts the controller and the proxy workers, relays messages between them (keeping
// the newest table for workers it starts later), restarts whichever dies, and stops them all in order.
// It serves no traffic and keeps no state of its own, so that it is the least likely process to die.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../../config/index.js';
import type { ControllerStart, DrainedMessage, DrainMessage, FromController, LostMessage, FromWorker, TableMessage, TlsMessage, ToController, ToWorker, WorkerInfo } from '../ipc/messages.js';
import { StartError } from '../start-error.js';
import { childFd, CONTROLLER_ENTRY, restartEnv, spawnChild, WORKER_ENTRY } from './child-processes.js';
import { PredecessorLink, SuccessorRelay } from './generation-links.js';
import { readTakeover, TAKEOVER_ENV, type TakeOverNow, type Takeover, type ToPredecessor, type UpgradeStatus } from './generations.js';
import { bindListeners, type Listeners } from './listeners.js';
import { lockStateDir } from './state-lock.js';
import type { BoundSocket } from './socket-handles.js';
import { notifySystemd } from './systemd.js';

/** Restart delays after a crash: doubling from the first, capped. */
const RESTART_MIN_MS = 200;
const RESTART_MAX_MS = 10_000;
/** A child that ran this long before crashing starts again without delay growth. */
const STABLE_AFTER_MS = 30_000;
/** How long a new generation may take to start its processes, and then to serve. */
export const UPGRADE_TIMEOUT_MS = 60_000;
/** How long a retiring controller may take to exit. */
const RETIRE_TIMEOUT_MS = 10_000;

export interface KeeperOptions {
  configFile: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  version: string;
  /** Where each child's log lines go (human lines on a terminal); null: the keeper's stderr as they are. */
  childLog?: (() => Writable) | null;
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
  private lastTls: TlsMessage | null = null;
  /** The table version a new generation numbers on from (the old workers' newest). */
  private tableVersionBase = 0;
  private stopping: Promise<void> | null = null;
  private onControllerReady: ((err?: Error) => void) | null = null;
  private fatal: string | null = null;
  /** The controller is leaving on purpose (an upgrade): its exit is not a crash. */
  private retiring = false;
  private upgrading: Promise<UpgradeStatus> | null = null;
  private upgradeStatus: UpgradeStatus | null = null;
  /** After an upgrade, while the previous generation drains: it gets our tables and drains too. */
  private predecessor: PredecessorLink | null = null;
  /** During and after our own upgrade: the next generation's tables and drains, for our workers. */
  private relay: SuccessorRelay | null = null;

  private constructor(
    private config: Config,
    private readonly options: KeeperOptions,
    private readonly lock: BoundSocket,
    readonly listeners: Listeners,
    readonly generation: number,
  ) {}

  /**
   * Validates the config, takes the state folder's lock and binds every listener before anything else
   * happens (a daemon that cannot serve touches no instance and no state), then starts the processes.
   */
  static async start(options: KeeperOptions): Promise<Keeper> {
    const takeover = readTakeover(process.env);
    delete process.env[TAKEOVER_ENV];
    try {
      return await Keeper.begin(options, takeover);
    } catch (err) {
      // A new generation that cannot start tells the old one, which keeps serving.
      if (takeover) tellPredecessor({ t: 'failed', message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  private static async begin(options: KeeperOptions, takeover: Takeover | null): Promise<Keeper> {
    const config = loadConfig(options.configFile, options.env);
    const lock: BoundSocket = takeover ? inheritedLock(takeover.lockFd) : lockStateDir(config.state);
    let listeners: Listeners;
    try {
      listeners = await bindListeners(config, takeover?.sockets ?? []);
    } catch (err) {
      lock.close();
      throw err;
    }
    const keeper = new Keeper(config, options, lock, listeners, takeover?.generation ?? 1);
    process.title = `switchyard keeper (generation ${keeper.generation})`;
    if (takeover) {
      keeper.predecessor = new PredecessorLink(
        process,
        (message) => keeper.deliverDrained(message),
        (message) => keeper.toController(message),
      );
    }
    const count = config.proxy.workers === 'auto' ? availableParallelism() : config.proxy.workers;
    for (let index = 1; index <= count; index++) keeper.startWorker(index);
    try {
      if (takeover) await keeper.awaitTakeover();
      await keeper.startController();
    } catch (err) {
      // The reason is what `up` prints; stopping what did start says nothing more.
      await keeper.stop({ quiet: true });
      throw err;
    }
    if (takeover) {
      keeper.upgradeStatus = { ...keeper.upgradeStatus!, state: 'succeeded', finishedAt: new Date().toISOString() };
      keeper.toController({ t: 'upgrade-status', status: keeper.upgradeStatus });
      // The channel stays open while the previous generation drains (generation-links.ts); its exit closes it.
      tellPredecessor({ t: 'serving' });
      notifySystemd(`MAINPID=${process.pid}`, 'READY=1');
      options.log.info({ generation: keeper.generation }, 'this generation serves; the previous one drains and exits');
    } else {
      notifySystemd('READY=1');
    }
    return keeper;
  }

  /**
   * A new generation's processes run (its workers wait without a table): tells the old keeper, and
   * waits until the old controller has gone before its own controller starts (one writer, invariant 12).
   */
  private awaitTakeover(): Promise<void> {
    this.upgradeStatus = { generation: this.generation, state: 'in-progress', reason: null, startedAt: new Date().toISOString(), finishedAt: null };
    return new Promise((resolve) => {
      const onMessage = (message: TakeOverNow) => {
        if (message.t !== 'takeover') return;
        this.tableVersionBase = message.tableVersion;
        process.off('message', onMessage);
        resolve();
      };
      process.on('message', onMessage);
      // The old keeper died before the hand-over: its processes are gone with it, so go on alone.
      process.once('disconnect', () => resolve());
      tellPredecessor({ t: 'warm' });
    });
  }

  /**
   * Starts the installed switchyard as the next generation and hands it the lock and the sockets. This
   * generation serves until the next one does; if it cannot (it fails, or is not ready in time), it is
   * stopped and this one goes on as before. One upgrade at a time.
   */
  upgrade(): { started: boolean; status: UpgradeStatus } {
    if (this.upgrading !== null || this.stopping !== null) {
      return { started: false, status: this.upgradeStatus ?? this.newUpgradeStatus() };
    }
    this.upgradeStatus = this.newUpgradeStatus();
    this.upgrading = this.runUpgrade(this.upgradeStatus).then((status) => {
      this.upgradeStatus = status;
      this.upgrading = null;
      this.toController({ t: 'upgrade-status', status });
      const log = status.state === 'failed' ? this.options.log.error.bind(this.options.log) : this.options.log.info.bind(this.options.log);
      log({ generation: status.generation, state: status.state, reason: status.reason }, `upgrade to generation ${status.generation} ${status.state}`);
      return status;
    });
    this.toController({ t: 'upgrade-status', status: this.upgradeStatus });
    return { started: true, status: this.upgradeStatus };
  }

  private newUpgradeStatus(): UpgradeStatus {
    return { generation: this.generation + 1, state: 'in-progress', reason: null, startedAt: new Date().toISOString(), finishedAt: null };
  }

  private async runUpgrade(status: UpgradeStatus): Promise<UpgradeStatus> {
    const { log } = this.options;
    const finished = (state: 'succeeded' | 'failed', reason: string | null): UpgradeStatus => ({ ...status, state, reason, finishedAt: new Date().toISOString() });
    notifySystemd('RELOADING=1');
    const sockets = [...this.listeners.proxy, this.listeners.admin];
    const takeover: Takeover = {
      generation: status.generation,
      lockFd: childFd(0),
      sockets: sockets.map((s, i) => ({ listen: s.listen, address: s.address, port: s.port, fd: childFd(i + 1) })),
    };
    log.info({ generation: status.generation }, 'upgrade: starting the next generation from the installed switchyard');
    // The same command line this daemon was started with (config, log format), from what is installed now.
    const successor = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', this.lock.fd, ...sockets.map((s) => s.fd)],
      env: { ...process.env, [TAKEOVER_ENV]: JSON.stringify(takeover) },
    });
    // A successor that dies makes sends fail: that is reported by its exit, never thrown at this keeper.
    successor.on('error', (err) => log.warn({ err }, 'upgrade: the next generation is unreachable'));
    const heard = successorMessages(successor);
    const relay = new SuccessorRelay(
      successor,
      () => this.liveWorkers(),
      (message) => this.fromSuccessor(message),
      () => Math.min(...[...this.workers.values()].filter((slot) => slot.child !== null).map((slot) => slot.tableVersion)),
    );
    successor.on('message', (message) => relay.handle(message));
    this.relay = relay;
    const abandon = async (reason: string) => {
      this.relay = null;
      successor.kill('SIGKILL');
      await new Promise<void>((resolve) => (successor.exitCode !== null || successor.signalCode !== null ? resolve() : successor.once('exit', () => resolve())));
      notifySystemd('READY=1');
      return finished('failed', reason);
    };
    const warm = await heard.next('warm', UPGRADE_TIMEOUT_MS);
    if (warm !== 'ok') return abandon(`generation ${status.generation} did not start: ${warm}`);
    // The new controller may only start once this one is gone: one writer of the state (invariant 12).
    this.retiring = true;
    await this.stopChild(this.controller.child, { t: 'retire' }, RETIRE_TIMEOUT_MS);
    if (successor.connected) successor.send({ t: 'takeover', tableVersion: this.lastTable?.version ?? 0 } satisfies TakeOverNow, () => {});
    const serving = await heard.next('serving', UPGRADE_TIMEOUT_MS);
    if (serving !== 'ok') {
      const failed = await abandon(`generation ${status.generation} did not take over: ${serving}`);
      this.retiring = false;
      await this.startController().catch((err: unknown) => log.error({ err }, 'the controller did not come back after a failed upgrade'));
      return failed;
    }
    // The channel stays open: the successor's tables and drains reach this generation's workers as they drain.
    successor.unref();
    void this.handOver();
    return finished('succeeded', null);
  }

  /** After an upgrade: the workers stop accepting and drain; then this generation exits. */
  private async handOver(): Promise<void> {
    const drainMs = Math.max(1000, ...Object.values(this.config.services).map((s) => s.drain.timeout));
    this.stopping = (async () => {
      this.listeners.close();
      this.lock.close();
      // A request begun on an old connection after the hand-over gets a drain timeout of its own (proxy.ts CloseMode).
      await Promise.all([...this.workers.values()].map((slot) => this.stopChild(slot.child, { t: 'stop', drainMs, mode: 'handover' }, 2 * drainMs + 10_000)));
    })();
    await this.stopping;
    this.options.log.info({ generation: this.generation }, 'drained after the upgrade; this generation exits');
    process.exit(0);
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
  stop({ quiet = false } = {}): Promise<void> {
    this.stopping ??= (async () => {
      const drainMs = Math.max(1000, ...Object.values(this.config.services).map((s) => s.drain.timeout));
      const stopMs = Math.max(1000, ...Object.values(this.config.services).map((s) => s.stop.timeout));
      if (!quiet) this.options.log.info({ drainMs }, 'stopping: the proxies finish what they serve, then the app instances stop');
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
    const child = spawnChild(WORKER_ENTRY, this.listeners.proxy.map((l) => l.fd), process.env, this.options.childLog ?? undefined);
    const slot: WorkerSlot = this.workers.get(index) ?? { index, child: null, startedAt: 0, tableVersion: 0, crashes: 0 };
    Object.assign(slot, { child, startedAt: Date.now(), tableVersion: 0 });
    this.workers.set(index, slot);
    child.on('message', (message) => this.fromWorker(slot, child, message as FromWorker));
    child.once('exit', (code, signal) => this.workerExited(slot, child, code, signal));
    this.send(child, {
      t: 'start',
      index,
      generation: this.generation,
      listeners: this.listeners.proxy.map((l, i) => ({ listen: l.listen, address: l.address, port: l.port, fd: childFd(i) })),
      table: this.lastTable,
      tls: this.lastTls,
    });
    this.announceFleet();
  }

  private startController(): Promise<void> {
    const child = spawnChild(CONTROLLER_ENTRY, [this.listeners.admin.fd], this.controller.startedAt === 0 ? process.env : restartEnv(), this.options.childLog ?? undefined);
    this.fatal = null;
    Object.assign(this.controller, { child, startedAt: Date.now(), ready: false });
    child.on('message', (message) => this.fromController(child, message as FromController));
    child.once('exit', (code, signal) => this.controllerExited(child, code, signal));
    const start: ControllerStart = {
      t: 'start',
      generation: this.generation,
      config: this.config,
      configFile: this.options.configFile,
      admin: { listen: this.listeners.admin.listen, address: this.listeners.admin.address, port: this.listeners.admin.port, fd: childFd(0) },
      listeners: this.listeners.proxy.map((l) => ({ listen: l.listen, address: l.address, port: l.port, fd: -1 })),
      workers: this.workerInfos(),
      tableVersion: Math.max(this.lastTable?.version ?? 0, this.tableVersionBase),
      upgrade: this.upgradeStatus,
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
        this.predecessor?.table(message);
        return this.toWorkers(message);
      case 'tls':
        this.lastTls = message;
        return this.toWorkers(message);
      case 'drain':
        this.predecessor?.drain(message);
        return this.toWorkers(message);
      case 'lost':
        this.predecessor?.lost(message);
        return this.toWorkers(message);
      case 'describe':
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
      case 'upgrade': {
        const { started, status } = this.upgrade();
        const message_ = started ? `upgrading to generation ${status.generation}` : `an upgrade to generation ${status.generation} is already in progress`;
        return this.toController({ t: 'upgrade-answer', id: message.id, ok: started, message: message_, status });
      }
    }
  }

  private fromWorker(slot: WorkerSlot, child: ChildProcess, message: FromWorker): void {
    if (slot.child !== child) return;
    if (message.t === 'drained') return this.workerDrained({ ...message, worker: slot.index });
    if (message.t === 'ack') {
      slot.tableVersion = Math.max(slot.tableVersion, message.version);
      this.relay?.onAckChanged();
      const ack = { ...message, worker: slot.index };
      if (this.predecessor?.holdAck(ack)) return;
      return this.toController(ack);
    }
    this.toController({ ...message, worker: slot.index });
  }

  /** A worker drained an endpoint: held while the previous generation drains it too, then answered. */
  private workerDrained(message: DrainedMessage): void {
    if (this.predecessor?.hold(message)) return;
    this.deliverDrained(message);
  }

  /** To the successor, when it asked for this drain; else to this generation's controller. */
  private deliverDrained(message: DrainedMessage): void {
    if (this.relay?.onWorkerDrained(message)) return;
    this.toController(message);
  }

  /** The successor's table, drain or lost endpoints: this generation's workers serve on by it, and so does any older one. */
  private fromSuccessor(message: TableMessage | DrainMessage | LostMessage): void {
    if (message.t === 'table') {
      if (message.version > (this.lastTable?.version ?? 0)) this.lastTable = message;
      this.predecessor?.table(message);
    } else if (message.t === 'drain') {
      this.predecessor?.drain(message);
    } else {
      this.predecessor?.lost(message);
    }
    this.toWorkers(message);
  }

  private liveWorkers(): number[] {
    return [...this.workers.values()].filter((slot) => slot.child !== null).map((slot) => slot.index);
  }

  private workerExited(slot: WorkerSlot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = null;
    this.relay?.onWorkerExited(slot.index);
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
    if (this.stopping || this.retiring) return;
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

/** A lock socket inherited from the previous generation: closing it is closing the descriptor. */
function inheritedLock(fd: number): BoundSocket {
  return { fd, address: 'inherited lock', port: 0, close: () => closeSync(fd) };
}

function tellPredecessor(message: ToPredecessor): void {
  if (process.connected) process.send?.(message);
}

/** Waits for the successor's messages in order; an exit or a `failed` ends every wait. */
function successorMessages(child: ChildProcess) {
  const seen = new Set<string>();
  let failure: string | null = null;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.on('message', (raw) => {
    const message = raw as ToPredecessor;
    if (message.t === 'failed') failure = message.message;
    else seen.add(message.t);
    wake();
  });
  child.once('exit', (code, signal) => {
    failure ??= `it exited (code ${code}, signal ${signal})`;
    wake();
  });
  return {
    /** 'ok' once `what` arrived; else why not. */
    async next(what: 'warm' | 'serving', timeoutMs: number): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (!seen.has(what)) {
        if (failure !== null) return failure;
        const left = deadline - Date.now();
        if (left <= 0) return `not ${what === 'warm' ? 'started' : 'serving'} within ${Math.round(timeoutMs / 1000)} s`;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return 'ok';
    },
  };
}
