// Translates a service's config into what the proxy and the health checker need.
import type { ServiceConfig } from '../config/index.js';
import type { HealthCheckPolicy } from '../health/active-checker.js';
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
  };
}

export function healthPolicy(service: ServiceConfig): HealthCheckPolicy {
  const { health } = service;
  return {
    path: health.path ?? null,
    interval: health.interval,
    timeout: health.timeout,
    healthyThreshold: health.healthyThreshold,
    unhealthyThreshold: health.unhealthyThreshold,
  };
}
