// The access log: one pino JSON line per request, to stdout, stderr or a file (asynchronous writes).
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Exchange } from './exchange.js';
import type { ExchangeObserver } from './proxy-context.js';
import type { WebSocketTunnel } from './websocket-tunnel.js';

export function createAccessLogger(destination: string): Logger {
  if (destination !== 'stdout' && destination !== 'stderr') {
    // Created owner-only before pino opens it: URLs and client addresses are not for every local user.
    mkdirSync(dirname(destination), { recursive: true, mode: 0o700 });
    closeSync(openSync(destination, 'a', 0o600));
  }
  const fd = destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : destination;
  return pino({ base: null, messageKey: 'msg' }, pino.destination({ dest: fd, sync: false, mkdir: true }));
}

export class AccessLog implements ExchangeObserver {
  constructor(private readonly logger: Logger) {}

  onExchangeEnd(x: Exchange): void {
    const { req } = x;
    this.logger.info({
      type: 'request',
      method: req.method,
      host: req.headers.host,
      path: req.url,
      status: x.status,
      service: x.service?.name,
      release: x.release?.name,
      instance: x.endpoint?.id,
      durationMs: Math.round(x.durationMs * 1000) / 1000,
      bytes: x.bytesOut,
      requestId: x.requestId,
      retries: x.retries,
      error: x.errorCode ?? undefined,
      client: req.socket.remoteAddress,
    });
  }

  onTunnelEnd(t: WebSocketTunnel): void {
    this.logger.info({
      type: 'websocket',
      host: t.req.headers.host,
      path: t.req.url,
      status: t.status,
      service: t.service?.name,
      release: t.release?.name,
      instance: t.endpoint?.id,
      durationMs: Math.round(performance.now() - t.startedAt),
      error: t.errorCode ?? undefined,
      cut: t.wasCut || undefined,
    });
  }

  flush(): void {
    this.logger.flush();
  }
}

/** Fans one observation out to several observers (metrics and the access log). */
export function combineObservers(observers: ExchangeObserver[]): ExchangeObserver {
  if (observers.length === 1) return observers[0]!;
  return {
    onExchangeEnd: (x) => {
      for (const o of observers) o.onExchangeEnd(x);
    },
    onAttemptFailed: (x, endpoint, release, failure) => {
      for (const o of observers) o.onAttemptFailed?.(x, endpoint, release, failure);
    },
    onTunnelEnd: (t) => {
      for (const o of observers) o.onTunnelEnd?.(t);
    },
  };
}
