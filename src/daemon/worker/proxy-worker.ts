// A proxy worker: serves the listening sockets the keeper handed down, routes by the newest table the
// controller sent (through the keeper), acknowledges each table, drains endpoints when asked, and ships
// what it saw every second. It never reads the store and never waits for the controller on a request.
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { LoopMonitor } from '../../metrics/loop-health.js';
import { upstreamClient } from '../../proxy/upstream/choose-client.js';
import { ObservationBuffer } from '../../metrics/observations.js';
import { AccessLog, combineObservers, openAccessLog } from '../../proxy/access-log.js';
import type { DrainReport } from '../../proxy/drain.js';
import type { TlsSnapshot } from '../../proxy/edge/tls-snapshot.js';
import { describeTable } from '../../proxy/describe-table.js';
import type { ExchangeObserver } from '../../proxy/proxy-context.js';
import { Proxy, type CloseMode } from '../../proxy/proxy.js';
import type { DrainMessage, EjectionNote, FromWorker, TableMessage, ToWorker, WorkerStart } from '../ipc/messages.js';

export const OBSERVATION_INTERVAL_MS = 1000;

export class ProxyWorker {
  private proxy: Proxy | null = null;
  private accessLog: AccessLog | null = null;
  private readonly observations = new ObservationBuffer();
  private loop: LoopMonitor | null = null;
  private ejections: EjectionNote[] = [];
  private startMessage: WorkerStart | null = null;
  private listening: Promise<AddressInfo[]> | null = null;
  private shipTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private tls: TlsSnapshot | null = null;
  private shippedHandshakeFailures: Record<string, number> = {};

  constructor(
    private readonly log: Logger,
    private readonly send: (message: FromWorker) => void,
    private readonly exit: (code: number) => void,
  ) {}

  handle(message: ToWorker): void {
    switch (message.t) {
      case 'start':
        this.startMessage = message;
        process.title = `switchyard proxy ${message.index} (generation ${message.generation})`;
        this.loop ??= new LoopMonitor(`proxy-${message.index}`);
        if (message.tls !== null) this.tls = message.tls.snapshot;
        if (message.table !== null) this.install(message.table);
        return;
      case 'table':
        return this.install(message);
      case 'tls':
        this.tls = message.snapshot;
        this.applyTls();
        return;
      case 'drain':
        return void this.drain(message);
      case 'lost':
        return this.lose(message.endpoints);
      case 'describe':
        if (this.proxy) this.send({ t: 'described', id: message.id, table: describeTable(this.proxy.table, Date.now()) });
        return;
      case 'stop':
        return void this.stop(message.drainMs, message.mode);
    }
  }

  /** Stops serving: the keeper is gone (`stop`) or another generation takes over (`handover`). */
  stop(drainMs: number, mode: CloseMode): Promise<void> {
    this.stopping ??= (async () => {
      if (this.shipTimer) clearInterval(this.shipTimer);
      if (this.proxy && this.listening) {
        await this.listening.catch(() => []);
        await this.proxy.close(drainMs, mode);
      }
      this.ship();
      this.loop?.stop();
      await this.accessLog?.close();
      this.exit(0);
    })();
    return this.stopping;
  }

  private install(table: TableMessage): void {
    // Draining after a hand-over, the next generation's tables still come: what is left here routes by them.
    if (this.stopping && this.proxy === null) return;
    if (this.proxy === null) {
      this.proxy = this.createProxy(table);
      this.applyTls();
    }
    const proxy = this.proxy;
    // Installing is one assignment; the acknowledgement says this table is in force here (invariant 10).
    if (table.version > proxy.table.version) proxy.swapVersion(table.spec, table.version);
    this.send({ t: 'ack', version: proxy.table.version });
    // Accept only once there is a table to route by: until then connections wait in the accept queue.
    if (this.listening === null && this.startMessage !== null && !this.stopping) {
      const sockets = new Map(this.startMessage.listeners.map((l) => [l.listen, l]));
      const specs = table.settings.listen.flatMap((spec) => {
        const socket = sockets.get(spec.address ?? `${spec.host}:${spec.port}`);
        return socket === undefined ? [] : [{ ...spec, port: socket.port, fd: socket.fd }];
      });
      this.listening = proxy.listen(specs);
      this.listening.catch((err: unknown) => {
        this.log.error({ err }, 'cannot serve the listening sockets');
        this.exit(1);
      });
      this.shipTimer = setInterval(() => this.ship(), OBSERVATION_INTERVAL_MS);
    }
  }

  private createProxy(table: TableMessage): Proxy {
    const client = upstreamClient();
    if (client.kind === 'undici') {
      this.log.warn(
        { node: process.version, reason: client.reason },
        "upstream client: Node's internal HTTP parser failed switchyard's self-test on this Node; proxying through undici's public dispatch instead (correct, somewhat slower)",
      );
    }
    const { settings } = table;
    const observers: ExchangeObserver[] = [this.observations];
    if (settings.accessLog.enabled) {
      this.accessLog = new AccessLog(openAccessLog(settings.accessLog.destination));
      observers.push(this.accessLog);
    }
    return new Proxy({
      limits: settings.limits,
      dropServerHeader: settings.dropServerHeader,
      releaseHeader: settings.releaseHeader,
      observer: combineObservers(observers),
      events: { onEjected: (service, endpoint, forMs) => this.ejections.push({ service, endpoint: endpoint.id, forMs }) },
    });
  }

  /** A snapshot the TLS library refuses is reported and changes nothing: the old certificates serve on. */
  private applyTls(): void {
    if (this.proxy === null || this.tls === null) return;
    try {
      this.proxy.setTls(this.tls);
    } catch (err) {
      this.log.error({ err }, 'refused a TLS update; the certificates before it serve on');
    }
  }

  private async drain(message: DrainMessage): Promise<void> {
    const proxy = this.proxy;
    const endpoint = proxy?.endpoints.get(message.endpoint);
    let report: DrainReport = { finished: 0, cut: 0, durationMs: 0 };
    if (proxy && endpoint) {
      report = await proxy.drain(endpoint, message.timeoutMs);
      await proxy.endpoints.retire(endpoint);
    }
    this.send({ t: 'drained', id: message.id, report });
  }

  private lose(endpoints: string[]): void {
    const ended = this.proxy?.lose(endpoints) ?? 0;
    if (ended > 0) this.log.warn({ endpoints, ended }, 'idempotent requests in flight to instances whose host left the cluster ended, to be retried elsewhere');
  }

  /** Sends what was observed since the last time, and every endpoint's in-flight count. */
  private ship(): void {
    const proxy = this.proxy;
    if (proxy === null) return;
    const endpoints = [...proxy.endpoints.all()].map((e) => ({ id: e.id, inFlight: e.inFlight, ejectedUntil: e.ejectedUntil }));
    const ejections = this.ejections;
    this.ejections = [];
    const failures = proxy.tls.handshakeFailures();
    const handshakeFailures: Record<string, number> = {};
    for (const [listener, count] of Object.entries(failures)) {
      const delta = count - (this.shippedHandshakeFailures[listener] ?? 0);
      if (delta > 0) handshakeFailures[listener] = delta;
    }
    this.shippedHandshakeFailures = failures;
    const batch = this.observations.take();
    if (this.loop !== null) batch.loop = this.loop.take();
    this.send({ t: 'observations', batch, endpoints, ejections, handshakeFailures });
  }
}
