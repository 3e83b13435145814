// What an exchange needs from the proxy around it: the current table, settings, and where to report.
import type { Endpoint } from './endpoint.js';
import type { UpstreamFailure } from './errors.js';
import type { Exchange } from './exchange.js';
import type { RoutingTable, ServiceRoute } from './routing-table.js';
import type { WebSocketTunnel } from './websocket-tunnel.js';

/** A request or WebSocket handshake that made an attempt at an upstream. */
export interface Attempted {
  readonly service: ServiceRoute | null;
  readonly startedAt: number;
}

export interface ExchangeObserver {
  /** Called once per request, when it ends for any reason. Must not throw or block. */
  onExchangeEnd(exchange: Exchange): void;
  /** An attempt failed and the request is retried elsewhere: charge the failure to where it happened. */
  onAttemptFailed?(attempted: Attempted, endpoint: Endpoint, release: string, failure: UpstreamFailure): void;
  /** Called once per WebSocket tunnel when it closes. */
  onTunnelEnd?(tunnel: WebSocketTunnel): void;
}

export interface ProxyEvents {
  onEjected(service: string, endpoint: Endpoint, forMs: number): void;
}

export interface ProxyLimits {
  /** Request bodies above this many bytes get 413; 0 = unlimited. */
  maxBodySize: number;
  /** How long a response may stay blocked on a client that does not read (0 = forever). */
  sendTimeout: number;
  /** Largest WebSocket frame passed through (0 = any). */
  maxWebSocketFrame: number;
}

export interface ProxyContext {
  readonly table: RoutingTable;
  readonly dropServerHeader: boolean;
  /** Lowercase name of the request header that tells the app its release and cohort (ReleaseRoute.routedAs). */
  readonly releaseHeader: string;
  readonly limits: ProxyLimits;
  readonly observer: ExchangeObserver;
  readonly events: ProxyEvents;
  /** True once a graceful stop began: responses close their connection. */
  readonly stopping: boolean;
}
