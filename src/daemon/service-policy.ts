// Translates a service's config into what the proxy and the health checker need.
import type { ServiceConfig } from '../config/index.js';
import type { HealthCheckPolicy } from '../health/active-checker.js';
import { readFileSync } from 'node:fs';
import type { UpstreamTimeouts, UpstreamTls } from '../proxy/endpoint.js';
import type { ServicePolicy } from '../proxy/routing-table.js';

export function servicePolicy(service: ServiceConfig): ServicePolicy {
  return {
    balance: service.balance,
    hashKey: service.hashKey ?? null,
    sticky: service.sticky ? { cookie: service.sticky.cookie, ttlMs: service.sticky.ttl } : null,
    timeouts: service.timeouts,
    retries: service.retries,
    retryBudget: service.retryBudget,
    outlier: service.outlier,
    slowStartMs: service.health.slowStart,
    httpsRedirect: service.redirect === 'https',
    upstreamTls: upstreamTls(service),
  };
}

/** What an endpoint's connections need: timeouts and, for `upstreamTls`, the TLS settings. */
export function upstreamTimeouts(service: ServiceConfig): UpstreamTimeouts {
  const tls = upstreamTls(service);
  return tls === null ? service.timeouts : { ...service.timeouts, tls };
}

/** The CA file is read here, so the proxy gets plain data (PEM) and never reads files. */
function upstreamTls(service: ServiceConfig): UpstreamTls | null {
  const tls = service.upstreamTls;
  if (tls === undefined) return null;
  return { ca: tls.ca === undefined ? undefined : readFileSync(tls.ca, 'utf8'), serverName: tls.serverName };
}

export function healthPolicy(service: ServiceConfig): HealthCheckPolicy {
  const { health } = service;
  return {
    tls: upstreamTls(service),
    path: health.path ?? null,
    interval: health.interval,
    timeout: health.timeout,
    healthyThreshold: health.healthyThreshold,
    unhealthyThreshold: health.unhealthyThreshold,
  };
}
