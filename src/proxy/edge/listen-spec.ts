// A listen entry as the data plane takes it (plain data, e.g. over IPC), and the server it becomes.
import type { ListenerHandlers, ServerLimits } from '../listener.js';
import type { RoutingTable } from '../routing-table.js';
import { edgeHandlers } from './edge-requests.js';
import { EdgeServer } from './edge-server.js';
import type { EdgeTls } from './edge-tls.js';
import type { TlsMinVersion } from './tls-contexts.js';

export interface ListenSpec {
  host: string;
  port: number;
  /** A socket another process bound and handed down (the keeper's), to listen on instead of host:port. */
  fd?: number;
  /** The address as configured; TLS snapshots name listeners by it. Default `host:port`. */
  address?: string;
  /** HTTPS with these settings; certificates come from TLS snapshots. */
  tls?: { minVersion: TlsMinVersion };
  /** HTTP/2: by ALPN on TLS, as cleartext h2c (prior knowledge) on a plain listener. */
  http2?: boolean;
  /** A plain listener that answers every request with 308 to https. */
  redirect?: boolean;
  /** Where redirects to https point (default 443). */
  httpsPort?: number;
  /** Strict-Transport-Security header value for a TLS listener. */
  hsts?: string;
}

export function listenerFor(spec: ListenSpec, limits: ServerLimits, inner: ListenerHandlers, tls: EdgeTls, table: () => RoutingTable): EdgeServer {
  const address = spec.address ?? `${spec.host}:${spec.port}`;
  const handlers = edgeHandlers(
    { redirect: spec.redirect === true, httpsPort: spec.httpsPort ?? 443, encrypted: spec.tls !== undefined, hsts: spec.hsts },
    inner,
    tls,
    table,
  );
  const source = spec.tls && tls.attach(address, spec.tls.minVersion);
  const server = new EdgeServer({
    limits,
    handlers,
    http2: spec.http2 === true,
    tls: spec.tls && source ? { minVersion: spec.tls.minVersion, source } : undefined,
  });
  if (spec.tls) tls.bind(address, server);
  return server;
}
