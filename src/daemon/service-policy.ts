// Translates a service's config into what the proxy and the health checker need.
import type { Config, ServiceConfig } from '../config/index.js';
import type { HealthCheckPolicy } from '../health/active-checker.js';
import type { ProxyOptions } from '../proxy/proxy.js';
import type { ServicePolicy, ServiceSpec, TableSpec } from '../proxy/routing-table.js';

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

export function proxyOptions(config: Config): Pick<ProxyOptions, 'limits' | 'dropServerHeader'> {
  return { limits: config.proxy.limits, dropServerHeader: config.proxy.dropServerHeader };
}

/** The release name static targets are served under until a deployment names one. */
export const STATIC_RELEASE = 'static';

/** A table for services whose instances run elsewhere: one release of the configured targets. */
export function staticServiceSpec(name: string, service: ServiceConfig): ServiceSpec {
  return {
    name,
    match: { hosts: service.match.hosts ?? [], pathPrefix: service.match.pathPrefix, stripPrefix: service.match.stripPrefix },
    policy: servicePolicy(service),
    releases: [
      {
        name: STATIC_RELEASE,
        weight: 100,
        endpoints: (service.targets ?? []).map((address) => ({ id: `${name}/${address}`, address, weight: 1 })),
      },
    ],
    rules: [],
  };
}

export function staticTableSpec(config: Config): TableSpec {
  return {
    services: Object.entries(config.services)
      .filter(([, service]) => service.targets !== undefined)
      .map(([name, service]) => staticServiceSpec(name, service)),
  };
}
