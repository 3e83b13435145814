// The data plane: listeners, the current routing table, the endpoints, and graceful stop. It knows
// nothing of deployments; it routes by the table it is given and reports what it observes.
import type { AddressInfo, Socket } from 'node:net';
import { drainEndpoint, type DrainReport } from './drain.js';
import type { UpstreamFailure } from './errors.js';
import type { Cuttable, Endpoint } from './endpoint.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { Exchange } from './exchange.js';
import { listenerFor, type ListenSpec } from './edge/listen-spec.js';
import type { EdgeServer } from './edge/edge-server.js';
import { EdgeTls } from './edge/edge-tls.js';
import type { TlsSnapshot } from './edge/tls-snapshot.js';
import type { ListenerHandlers, ServerLimits } from './listener.js';
import type { Attempted, ExchangeObserver, ProxyContext, ProxyEvents, ProxyLimits } from './proxy-context.js';
import { buildTable, RoutingTable, ServiceStates, type TableSpec } from './routing-table.js';
import { CLOSE_GRACE_MS, WebSocketTunnel } from './websocket-tunnel.js';

export interface ProxyOptions {
  limits: ServerLimits & ProxyLimits & { maxUrlLength: number };
  dropServerHeader: boolean;
  /** Lowercase; default x-switchyard-release. */
  releaseHeader?: string;
  observer?: ExchangeObserver;
  events?: ProxyEvents;
}

/**
 * How a graceful stop treats idle connections. `stop`: closed at once (the proxy goes away for good).
 * `handover`: another process serves the same sockets, so nothing a client may be writing on is closed;
 * each connection's next response says `Connection: close`, and what is still open at the deadline is closed,
 * except a request or stream that began after the hand-over (that next request): it gets a drain timeout of
 * its own, so the old process never takes on work it then cuts. One per connection, so the wait is bounded.
 */
export type CloseMode = 'stop' | 'handover';

export const DEFAULT_RELEASE_HEADER = 'x-switchyard-release';
const NO_OBSERVER: ExchangeObserver = { onExchangeEnd: () => {} };
const NO_EVENTS: ProxyEvents = { onEjected: () => {} };

export class Proxy implements ProxyContext, ExchangeObserver {
  readonly dropServerHeader: boolean;
  readonly releaseHeader: string;
  readonly limits: ProxyOptions['limits'];
  readonly events: ProxyEvents;
  readonly observer: ExchangeObserver = this;
  readonly endpoints = new EndpointRegistry();
  private readonly states = new ServiceStates();
  private readonly downstream: ExchangeObserver;
  private current: RoutingTable = new RoutingTable(0, []);
  readonly tls = new EdgeTls();
  private servers: EdgeServer[] = [];
  private readonly sockets = new Set<Socket>();
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private closing = false;
  /** During a handover: exchanges begun after it, and when the last one began. */
  private readonly late = new Set<Cuttable>();
  private lastLateStart = 0;

  constructor(options: ProxyOptions) {
    this.limits = options.limits;
    this.dropServerHeader = options.dropServerHeader;
    this.releaseHeader = options.releaseHeader ?? DEFAULT_RELEASE_HEADER;
    this.downstream = options.observer ?? NO_OBSERVER;
    this.events = options.events ?? NO_EVENTS;
  }

  get table(): RoutingTable {
    return this.current;
  }

  get stopping(): boolean {
    return this.closing;
  }

  /** Requests and WebSockets in progress, across all endpoints. */
  get inFlight(): number {
    return this.active;
  }

  /** Builds a table from a spec and makes it current in one assignment (invariant 6). */
  swap(spec: TableSpec): RoutingTable {
    return this.swapVersion(spec, this.current.version + 1);
  }

  /** Installs a table whose version was given elsewhere (the controller numbers tables for every worker). */
  swapVersion(spec: TableSpec, version: number): RoutingTable {
    const next = buildTable(spec, version, this.endpoints, this.states);
    this.current = next;
    return next;
  }

  /** Makes new TLS certificates and ACME challenges current; a snapshot the TLS library refuses throws and changes nothing. */
  setTls(snapshot: TlsSnapshot): void {
    this.tls.apply(snapshot);
  }

  /**
   * Listens on each entry: plain, h2c or HTTPS with HTTP/2 (see edge/listen-spec.ts), on its address or
   * on a socket another process bound and handed down (`fd`).
   */
  async listen(specs: readonly ListenSpec[]): Promise<AddressInfo[]> {
    const bound: AddressInfo[] = [];
    for (const spec of specs) {
      const server = listenerFor(spec, this.limits, this.handlers, this.tls, () => this.current);
      // One listener per connection, not per request: a handover must find the connections still open.
      server.server.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      });
      await server.listen(spec);
      this.servers.push(server);
      bound.push(server.server.address() as AddressInfo);
    }
    return bound;
  }

  private readonly handlers: ListenerHandlers = {
    onRequest: (req, res, expectsContinue) => {
      this.active++;
      if (this.closing) res.shouldKeepAlive = false;
      const exchange = new Exchange(this, req, res, expectsContinue);
      if (this.closing) this.beganLate(exchange);
      if ((req.url ?? '').length > this.limits.maxUrlLength) exchange.refuse('uri_too_long');
      else exchange.start();
    },
    onUpgrade: (req, socket, head) => {
      this.active++;
      const tunnel = new WebSocketTunnel(this, req, socket, head);
      if (this.closing) this.beganLate(tunnel);
      tunnel.start();
    },
  };

  /** Lets an endpoint that left the table finish its work, then closes what is left. */
  drain(endpoint: Endpoint, timeoutMs: number): Promise<DrainReport> {
    return drainEndpoint(endpoint, timeoutMs);
  }

  /**
   * These endpoints' host left the cluster and does not answer; a host cut off the network sends no reset,
   * so what is in flight to them would wait for its response timeout. Idempotent requests end now and are
   * tried elsewhere (see Cuttable.lose); the endpoints close once nothing is left on them. How many ended.
   */
  lose(ids: readonly string[]): number {
    let ended = 0;
    for (const id of ids) {
      const endpoint = this.endpoints.get(id);
      if (endpoint === undefined) continue;
      for (const x of [...endpoint.active]) if (x.lose()) ended++;
      // On its way out: should its host come back, the next table gets a new endpoint for it.
      endpoint.draining = true;
      void endpoint.whenIdle().then(() => this.endpoints.retire(endpoint));
    }
    return ended;
  }

  onExchangeEnd(exchange: Exchange): void {
    this.late.delete(exchange);
    this.ended();
    this.downstream.onExchangeEnd(exchange);
  }

  onAttemptFailed(attempted: Attempted, endpoint: Endpoint, release: string, failure: UpstreamFailure): void {
    this.downstream.onAttemptFailed?.(attempted, endpoint, release, failure);
  }

  onTunnelEnd(tunnel: WebSocketTunnel): void {
    this.late.delete(tunnel);
    this.ended();
    this.downstream.onTunnelEnd?.(tunnel);
  }

  /**
   * Graceful stop: stop accepting, let in-flight work finish for up to `timeoutMs`, then close
   * everything (WebSockets with 1001). See CloseMode for what happens to idle connections meanwhile.
   */
  async close(timeoutMs: number, mode: CloseMode = 'stop'): Promise<{ cut: number }> {
    this.closing = true;
    const closed = this.servers.map((server) => (mode === 'stop' ? server.close() : server.stopAccepting()));
    if (mode === 'stop') for (const server of this.servers) server.closeIdleConnections();
    // In a hand-over an HTTP/1.1 connection's next response says `Connection: close`; an HTTP/2 session
    // has no next response to say it with, so it gets GOAWAY now and its client goes to the new process.
    else for (const server of this.servers) server.goAway();
    await withDeadline(mode === 'stop' ? this.whenIdle() : this.whenIdle().then(() => this.whenDisconnected()), timeoutMs);
    let cut = this.active;
    if (mode === 'handover' && this.late.size > 0) {
      // The deadline of what was in flight at the hand-over; each later exchange has its own.
      cut = this.cutWhere((x) => !this.late.has(x));
      for (const server of this.servers) server.closeIdleConnections();
      await withDeadline(this.whenIdle(), this.lastLateStart + timeoutMs - performance.now());
      cut += this.late.size;
    }
    if (this.active > 0) {
      this.cutWhere(() => true);
      // A cut WebSocket sends its 1001 at the next frame boundary and waits for the client's answer: let
      // that finish (bounded by the tunnel's own grace) before every socket left is destroyed below.
      await withDeadline(this.whenIdle(), CLOSE_GRACE_MS + 100);
    }
    for (const server of this.servers) server.closeAllConnections();
    // Accepted connections that never sent a byte are not in Node's list (nodejs/node#63452).
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closed);
    await this.endpoints.closeAll();
    this.servers = [];
    return { cut };
  }

  private beganLate(x: Cuttable): void {
    this.late.add(x);
    this.lastLateStart = performance.now();
  }

  /** Cuts what is in flight on the endpoints and matches; how many. */
  private cutWhere(matches: (x: Cuttable) => boolean): number {
    let cut = 0;
    for (const endpoint of this.endpoints.all()) {
      for (const x of [...endpoint.active]) {
        if (!matches(x)) continue;
        x.cut();
        cut++;
      }
    }
    return cut;
  }

  private ended(): void {
    this.active--;
    if (this.active === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once every client connection has closed (polled: this runs only during a handover). */
  private async whenDisconnected(): Promise<void> {
    while (this.sockets.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  private whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** Waits for `done` or `ms`, whichever comes first, leaving no timer behind. */
async function withDeadline(done: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))));
  await Promise.race([done, deadline]);
  clearTimeout(timer);
}
