// Config files for the proxies under test, as plain functions of ports and paths, so the settings
// each proxy is measured with can be read (and compared) in one place.

export interface ProxyPorts {
  listen: number;
  backend: number;
}

/**
 * Access logs: `off` everywhere; `file`: switchyard and nginx each log every request to a file in the
 * temp dir (nginx with its default, unbuffered `combined` log); `default`: switchyard's default config
 * (JSON access log on, destination auto: stdout when not a terminal), nginx as in `file`.
 * HAProxy logs only through syslog, so it runs without a log in every mode.
 */
export type AccessLogMode = 'off' | 'file' | 'default';

/** Enough for the idle-clients memory figure (10,000 keep-alive connections) on every proxy. */
export const MAX_CONNECTIONS = 20_000;
/** HAProxy needs two descriptors per connection and refuses to start above the hard limit (often 20,000). */
const HAPROXY_MAX_CONNECTIONS = 9900;
/** Idle client keep-alive: nginx's default, so idle clients stay connected as long everywhere. */
const KEEP_ALIVE_S = 75;

/**
 * One nginx process, upstream keep-alive on, no logging on the request path.
 * Request caps per connection are raised on both sides: the 1000-request defaults would make nginx,
 * alone of the proxies, reconnect during the run and pay for it.
 */
export function nginxConfig(ports: ProxyPorts, dir: string, accessLog: AccessLogMode = 'off'): string {
  return `daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile ${MAX_CONNECTIONS * 2 + 100};
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections ${MAX_CONNECTIONS + 100}; }
http {
  ${accessLog === 'off' ? 'access_log off;' : `access_log ${dir}/nginx-access.log combined;`}
  keepalive_timeout ${KEEP_ALIVE_S}s;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  upstream backend {
    server 127.0.0.1:${ports.backend};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${ports.listen};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** One haproxy thread, keep-alive to both sides, idle upstream connections reused across clients. */
export function haproxyConfig(ports: ProxyPorts): string {
  return `global
  nbthread 1
  maxconn ${HAPROXY_MAX_CONNECTIONS}

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client ${KEEP_ALIVE_S}s
  timeout http-keep-alive ${KEEP_ALIVE_S}s
  timeout server 60s

frontend bench
  bind 127.0.0.1:${ports.listen}
  default_backend backend

backend backend
  server backend1 127.0.0.1:${ports.backend}
`;
}

/** Switchyard with one service in front of the backend, `workers` proxy processes. */
export function switchyardConfig(ports: ProxyPorts & { admin: number }, dir: string, workers = 1, accessLog: AccessLogMode = 'off'): string {
  const log = { off: '\n  accessLog: { enabled: false }', file: `\n  accessLog: { destination: ${dir}/switchyard-access.log }`, default: '' }[accessLog];
  return `proxy:
  listen: 127.0.0.1:${ports.listen}
  workers: ${workers}${log}
  limits: { maxConnections: ${MAX_CONNECTIONS}, keepAliveTimeout: ${KEEP_ALIVE_S}s }
admin:
  listen: 127.0.0.1:${ports.admin}
state: ${dir}/state
services:
  bench:
    targets: [127.0.0.1:${ports.backend}]
    health: { path: /, interval: 1s }
`;
}
