// The data plane: listeners, the current routing table, the endpoints, and graceful stop. It knows
// nothing of deployments; it routes by the table it is given and reports what it observes.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainEndpoint, type DrainReport } from './drain.js';
import type { UpstreamFailure } from './errors.js';
import type { Endpoint } from './endpoint.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { Exchange } from './exchange.js';
import { createListener, type ServerLimits } from './listener.js';
import type { Attempted, ExchangeObserver, ProxyContext, ProxyEvents, ProxyLimits } from './proxy-context.js';
import { buildTable, RoutingTable, ServiceStates, type TableSpec } from './routing-table.js';
import { WebSocketTunnel } from './websocket-tunnel.js';

export interface ProxyOptions {
  limits: ServerLimits & ProxyLimits & { maxUrlLength: number };
  dropServerHeader: boolean;
  observer?: ExchangeObserver;
  events?: ProxyEvents;
}

const NO_OBSERVER: ExchangeObserver = { onExchangeEnd: () => {} };
const NO_EVENTS: ProxyEvents = { onEjected: () => {} };

export class Proxy implements ProxyContext, ExchangeObserver {
  readonly proto = 'http';
  readonly dropServerHeader: boolean;
  readonly limits: ProxyOptions['limits'];
  readonly events: ProxyEvents;
  readonly observer: ExchangeObserver = this;
  readonly endpoints = new EndpointRegistry();
  private readonly states = new ServiceStates();
  private readonly downstream: ExchangeObserver;
  private current: RoutingTable = new RoutingTable(0, []);
  private servers: Server[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private closing = false;

  constructor(options: ProxyOptions) {
    this.limits = options.limits;
    this.dropServerHeader = options.dropServerHeader;
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
    const next = buildTable(spec, this.current.version + 1, this.endpoints, this.states);
    this.current = next;
    return next;
  }

  async listen(addresses: readonly { host: string; port: number }[]): Promise<AddressInfo[]> {
    const bound: AddressInfo[] = [];
    for (const { host, port } of addresses) {
      const server = createListener(this.limits, {
        onRequest: (req, res, expectsContinue) => {
          this.active++;
          if (this.closing) res.shouldKeepAlive = false;
          const exchange = new Exchange(this, req, res, expectsContinue);
          if ((req.url ?? '').length > this.limits.maxUrlLength) exchange.refuse('uri_too_long');
          else exchange.start();
        },
        onUpgrade: (req, socket, head) => {
          this.active++;
          new WebSocketTunnel(this, req, socket, head).start();
        },
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
      bound.push(server.address() as AddressInfo);
    }
    return bound;
  }

  /** Lets an endpoint that left the table finish its work, then closes what is left. */
  drain(endpoint: Endpoint, timeoutMs: number): Promise<DrainReport> {
    return drainEndpoint(endpoint, timeoutMs);
  }

  onExchangeEnd(exchange: Exchange): void {
    this.ended();
    this.downstream.onExchangeEnd(exchange);
  }

  onAttemptFailed(attempted: Attempted, endpoint: Endpoint, release: string, failure: UpstreamFailure): void {
    this.downstream.onAttemptFailed?.(attempted, endpoint, release, failure);
  }

  onTunnelEnd(tunnel: WebSocketTunnel): void {
    this.ended();
    this.downstream.onTunnelEnd?.(tunnel);
  }

  /**
   * Graceful stop: stop accepting, close idle keep-alive connections, let in-flight work finish for up
   * to `timeoutMs`, then close everything.
   */
  async close(timeoutMs: number): Promise<{ cut: number }> {
    this.closing = true;
    const closed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const server of this.servers) server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.whenIdle(), deadline]);
    clearTimeout(timer);
    const cut = this.active;
    if (cut > 0) {
      for (const endpoint of this.endpoints.all()) for (const x of [...endpoint.active]) x.cut();
    }
    for (const server of this.servers) server.closeAllConnections();
    await Promise.all(closed);
    await this.endpoints.closeAll();
    this.servers = [];
    return { cut };
  }

  private ended(): void {
    this.active--;
    if (this.active === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  private whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
