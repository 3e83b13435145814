// Config files for the proxies under test, as plain functions of ports and paths, so the settings
// each proxy is measured with can be read (and compared) in one place.

export interface ProxyPorts {
  listen: number;
  backend: number;
}

/**
 * One nginx process, upstream keep-alive on, no logging on the request path.
 * Request caps per connection are raised on both sides: the 1000-request defaults would make nginx,
 * alone of the proxies, reconnect during the run and pay for it.
 */
export function nginxConfig(ports: ProxyPorts, dir: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
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
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s

frontend bench
  bind 127.0.0.1:${ports.listen}
  default_backend backend

backend backend
  server backend1 127.0.0.1:${ports.backend}
`;
}

/** Switchyard with one service in front of the backend; access log off like the other proxies. */
export function switchyardConfig(ports: ProxyPorts & { admin: number }, dir: string): string {
  return `proxy:
  listen: 127.0.0.1:${ports.listen}
  accessLog: { enabled: false }
admin:
  listen: 127.0.0.1:${ports.admin}
state: ${dir}/state
services:
  bench:
    targets: [127.0.0.1:${ports.backend}]
    health: { path: /, interval: 1s }
`;
}
