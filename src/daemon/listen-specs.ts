// Translates the config's listen entries into what the proxy listens with (plain data).
import type { Config, HstsConfig, ListenerConfig } from '../config/index.js';
import { parseHostPort } from '../config/index.js';
import type { ListenSpec } from '../proxy/edge/listen-spec.js';

export function listenSpecs(config: Config): ListenSpec[] {
  const listeners = config.proxy.listen;
  // Redirects point at the first TLS listener's port (443 when there is none: a proxy in front of us).
  const firstTls = listeners.find((l) => l.tls !== undefined);
  const httpsPort = firstTls ? parseHostPort(firstTls.address).port : 443;
  return listeners.map((listener) => listenSpec(listener, httpsPort));
}

function listenSpec(listener: ListenerConfig, httpsPort: number): ListenSpec {
  const { host, port } = parseHostPort(listener.address);
  return {
    host,
    port,
    address: listener.address,
    tls: listener.tls && { minVersion: listener.tls.minVersion },
    http2: listener.http2,
    redirect: listener.redirect === 'https',
    httpsPort,
    hsts: listener.hsts && hstsValue(listener.hsts),
  };
}

export function hstsValue(hsts: HstsConfig): string {
  return `max-age=${hsts.maxAge}${hsts.includeSubDomains ? '; includeSubDomains' : ''}${hsts.preload ? '; preload' : ''}`;
}
