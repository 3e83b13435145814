// The access log: one JSON line per request (and per WebSocket session), built as a string from fields
// the exchange already holds and handed to a buffered asynchronous writer (log-writer.ts); to stdout,
// stderr or a file. The fields and pino's level/time keys are what the pino lines had.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Exchange } from './exchange.js';
import { LineWriter } from './log-writer.js';
import type { ExchangeObserver } from './proxy-context.js';
import type { WebSocketTunnel } from './websocket-tunnel.js';

/** Opens the destination: stdout, stderr or a file (created owner-only: URLs and client addresses are not for every local user). */
export function openAccessLog(destination: string): LineWriter {
  if (destination === 'stdout') return new LineWriter(1);
  if (destination === 'stderr') return new LineWriter(2);
  mkdirSync(dirname(destination), { recursive: true, mode: 0o700 });
  closeSync(openSync(destination, 'a', 0o600));
  return new LineWriter(openSync(destination, 'a'));
}

/** Characters a JSON string must escape. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** A JSON string literal; values without quotes, backslashes or control characters need no JSON.stringify. */
function str(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** `,"key":"value"`, or nothing when there is no value (as pino leaves out undefined fields). */
function field(key: string, value: string | undefined | null): string {
  return value === undefined || value === null ? '' : `,"${key}":${str(value)}`;
}

/**
 * The line for one request.
 * @example requestLine(exchange, Date.now()) // '{"level":30,"time":…,"type":"request","method":"GET",…}\n'
 */
export function requestLine(x: Exchange, time: number): string {
  const { req } = x;
  return (
    `{"level":30,"time":${time},"type":"request"` +
    field('method', req.method) +
    field('host', x.host) +
    field('path', req.url) +
    `,"status":${x.status}` +
    field('service', x.service?.name) +
    field('release', x.release?.name) +
    field('instance', x.endpoint?.id) +
    `,"durationMs":${Math.round(x.durationMs * 1000) / 1000},"bytes":${x.bytesOut}` +
    field('requestId', x.requestId) +
    `,"retries":${x.retries}` +
    field('error', x.errorCode) +
    field('client', req.socket?.remoteAddress) +
    '}\n'
  );
}

export function tunnelLine(t: WebSocketTunnel, time: number): string {
  return (
    `{"level":30,"time":${time},"type":"websocket"` +
    field('host', t.req.headers.host) +
    field('path', t.req.url) +
    `,"status":${t.status}` +
    field('service', t.service?.name) +
    field('release', t.release?.name) +
    field('instance', t.endpoint?.id) +
    `,"durationMs":${Math.round(performance.now() - t.startedAt)}` +
    field('error', t.errorCode) +
    (t.wasCut ? ',"cut":true' : '') +
    '}\n'
  );
}

export class AccessLog implements ExchangeObserver {
  constructor(private readonly writer: LineWriter) {}

  onExchangeEnd(x: Exchange): void {
    this.writer.write(requestLine(x, Date.now()));
  }

  onTunnelEnd(t: WebSocketTunnel): void {
    this.writer.write(tunnelLine(t, Date.now()));
  }

  /** Writes what is buffered and closes the destination. */
  close(): Promise<void> {
    return this.writer.close();
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
