// One keep-alive HTTP/1.1 connection to an app instance: writes a request head as a single string,
// streams the body with backpressure, and parses the response with Node's native parser. One request
// at a time; the pool reuses the connection when the exchange ended cleanly.
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Readable } from 'node:stream';
import { createResponseParser, restartResponseParser, STOP_AFTER_HEAD, type NativeHttpParser, type OnHeadersComplete } from './http-parser.js';
import { coarseNow, overdue, unwatch, watch, type HasDeadline } from './deadlines.js';
import { UpstreamError } from './upstream-error.js';

export interface UpstreamRequest {
  method: string;
  path: string;
  /** Flat [name, value, …], already free of hop-by-hop headers. */
  headers: readonly string[];
  body: Readable | null;
  /** The body is sent with chunked framing (its length is not known). */
  chunked: boolean;
  /** Time to the response head (0 = none). */
  headersTimeout: number;
  /** Time a response body may stay silent (0 = none). */
  bodyTimeout: number;
}

/** An upstream client for one endpoint: the lean one (pool.ts) or undici's (undici-upstream.ts). */
export interface Upstream {
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void;
  /** Closes every connection, busy ones included (their exchanges fail). */
  destroy(): void;
}

export interface UpstreamHandler {
  /** The request is about to be written on a connected socket; `abort` cancels it. */
  onConnect(abort: (err?: Error) => void): void;
  /** Return false to pause the response until `resume` is called. */
  onHeaders(status: number, headers: string[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: Error): void;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  connectTimeout: number;
  keepAliveTimeout: number;
  tls?: { ca?: string; serverName?: string } | null;
}

type Phase = 'connecting' | 'idle' | 'headers' | 'body' | 'closed';

const CRLF = '\r\n';
const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = '0\r\n\r\n';
const HEAD = 'HEAD';

export class UpstreamConnection implements HasDeadline {
  private readonly socket: Socket;
  private readonly parser: NativeHttpParser;
  private phase: Phase = 'connecting';
  private handler: UpstreamHandler | null = null;
  private request: UpstreamRequest | null = null;
  private pendingHeaders: string[] = [];
  private keepAlive = false;
  private requestSent = false;
  private responseDone = false;
  /** Bytes still to come of a Content-Length body this connection reads past the parser; -1 when the parser reads it. */
  private bodyLeft = -1;
  /** Bytes of this connection were written to the socket for the current request. */
  private wrote = false;
  private reused = false;
  private stopBody: (() => void) | null = null;
  /** The current phase's time limit (0 = none) and the last activity it counts from (deadlines.ts). */
  private limitMs = 0;
  private activeAt = 0;
  private readonly resume = () => this.socket.resume();
  /** Handed to each request's handler: cancels whatever this connection is doing for it. */
  private readonly abortRequest = (err?: Error) => this.abort(err);

  constructor(
    private readonly options: ConnectionOptions,
    private readonly onReusable: (connection: UpstreamConnection) => void,
    private readonly onClosed: (connection: UpstreamConnection) => void,
  ) {
    const { tls } = options;
    const socket = tls
      ? tlsConnect({ host: options.host, port: options.port, ca: tls.ca, servername: tls.serverName ?? (isIP(options.host) ? undefined : options.host) }).setNoDelay(true)
      : connect({ host: options.host, port: options.port, noDelay: true });
    this.socket = socket;
    this.limit(options.connectTimeout);
    watch(this);
    const parser = createResponseParser({
      onHeaders: (headers: string[]) => {
        for (const h of headers) this.pendingHeaders.push(h);
      },
      onHeadersComplete: ((_major, _minor, headers, _method, _url, status, statusText, _upgrade, keepAlive) =>
        this.onResponseHead(headers, status, statusText, keepAlive)) satisfies OnHeadersComplete,
      onBody: (chunk: Buffer) => {
        if (this.handler !== null && !this.handler.onData(chunk)) this.socket.pause();
      },
      // After STOP_AFTER_HEAD the parser reports the message complete at its head: the body is still to come.
      onMessageComplete: () => {
        if (this.bodyLeft < 0) this.onResponseEnd();
      },
    });
    this.parser = parser;
    socket.on(tls ? 'secureConnect' : 'connect', () => this.onConnected());
    socket.on('data', (data: Buffer) => this.onSocketData(data));
    socket.on('end', () => this.onSocketEnd());
    socket.on('error', (err: Error) => this.fail(this.describe(err)));
    socket.on('close', () => this.onSocketClose());
  }

  get isIdle(): boolean {
    return this.phase === 'idle';
  }

  /**
   * Whether it may carry a request sent at `now` (performance.now()): idle, and idle for less than
   * keepAliveTimeout. The sweep closes it at that age, but a stalled event loop runs no sweep, and an app
   * closing the connection as a request arrives makes that request fail where it cannot be retried.
   */
  reusableAt(now: number): boolean {
    const limit = this.options.keepAliveTimeout;
    return this.phase === 'idle' && (limit <= 0 || now - this.activeAt < limit);
  }

  /** Sends one request; the handler hears about it until onComplete or onError. */
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.handler = handler;
    this.request = request;
    this.requestSent = false;
    this.responseDone = false;
    this.wrote = false;
    this.keepAlive = false;
    if (this.phase === 'idle') {
      this.reused = true;
      this.send();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onConnected(): void {
    if (this.phase !== 'connecting') return;
    if (this.handler !== null) this.send();
    else this.becomeIdle();
  }

  private send(): void {
    const request = this.request!;
    const handler = this.handler!;
    this.phase = 'headers';
    this.limit(request.headersTimeout);
    handler.onConnect(this.abortRequest);
    // onConnect may have aborted (the client left while the request waited).
    if (this.handler !== handler || (this.phase as Phase) === 'closed') return;
    let head = `${request.method} ${request.path} HTTP/1.1${CRLF}`;
    const headers = request.headers;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}${CRLF}`;
    if (request.chunked) head += `transfer-encoding: chunked${CRLF}`;
    this.wrote = true;
    this.socket.write(head + CRLF, 'latin1');
    if (request.body === null) this.requestSent = true;
    else this.streamBody(request.body, request.chunked);
  }

  private streamBody(body: Readable, chunked: boolean): void {
    const socket = this.socket;
    const onData = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      let ok: boolean;
      this.activeAt = coarseNow();
      if (chunked) {
        socket.write(`${chunk.length.toString(16)}${CRLF}`, 'latin1');
        socket.write(chunk);
        ok = socket.write(CHUNK_END);
      } else ok = socket.write(chunk);
      if (!ok) {
        body.pause();
        socket.once('drain', () => body.resume());
      }
    };
    const onEnd = () => {
      cleanup();
      if (chunked) socket.write(LAST_CHUNK, 'latin1');
      this.requestSent = true;
      this.releaseIfDone();
    };
    const onError = (err: Error) => {
      cleanup();
      this.abort(err);
    };
    const cleanup = () => {
      this.stopBody = null;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    this.stopBody = cleanup;
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    if (body.readableEnded) onEnd();
  }

  private onResponseHead(headers: string[] | undefined, status: number, statusText: string, keepAlive: boolean): number {
    const all = headers ?? this.pendingHeaders;
    this.pendingHeaders = [];
    // Informational responses (103 Early Hints) stay between the proxy and the app.
    if (status < 200) return 0;
    const handler = this.handler;
    if (handler === null) return 0;
    this.keepAlive = keepAlive;
    this.phase = 'body';
    this.limit(this.request!.bodyTimeout);
    if (!handler.onHeaders(status, all, this.resume, statusText)) this.socket.pause();
    // A HEAD response has no body, whatever its Content-Length says.
    if (this.request?.method === HEAD) return 1;
    // A body of known length is passed on in the socket's own buffers: Node's parser would copy each
    // chunk into a new one, and for large answers those copies (and the GC they cause) cost more than the
    // rest of the proxying. The parser validated the length (digits only, one value, no Transfer-Encoding).
    const length = status === 204 || status === 304 ? 0 : declaredLength(all);
    if (length > 0 && this.handler === handler) {
      this.bodyLeft = length;
      return STOP_AFTER_HEAD;
    }
    return 0;
  }

  /** Bytes of a Content-Length body, past the parser: handed on as they came. */
  private onBodyBytes(data: Buffer): void {
    const left = this.bodyLeft;
    const chunk = data.length <= left ? data : data.subarray(0, left);
    this.bodyLeft = left - chunk.length;
    const handler = this.handler;
    if (handler !== null && !handler.onData(chunk)) this.socket.pause();
    // The exchange may have ended meanwhile (the client left): the connection is closing.
    if (this.bodyLeft > 0 || this.handler === null) return;
    this.bodyLeft = -1;
    restartResponseParser(this.parser);
    // Bytes past the declared length: an app that talks out of turn is not trusted with the next request.
    if (chunk.length < data.length) this.keepAlive = false;
    this.onResponseEnd();
  }

  private onResponseEnd(): void {
    if (this.phase !== 'body') return;
    this.responseDone = true;
    const handler = this.handler;
    this.handler = null;
    handler?.onComplete();
    this.releaseIfDone();
  }

  /** Back to the pool when both directions of the exchange are complete and the app keeps it alive. */
  private releaseIfDone(): void {
    if (!this.responseDone || this.phase === 'closed') return;
    if (!this.requestSent || !this.keepAlive) {
      // The app answered before reading the whole body, or asked to close: this socket is spent.
      this.socket.destroy();
      return;
    }
    this.request = null;
    this.socket.resume();
    this.becomeIdle();
    this.onReusable(this);
  }

  private becomeIdle(): void {
    this.phase = 'idle';
    this.limit(this.options.keepAliveTimeout);
  }

  /** Starts the current phase's time limit (0 = none) from now. */
  private limit(ms: number): void {
    this.limitMs = ms;
    this.activeAt = coarseNow();
  }

  /** The sweep's check (deadlines.ts): connect, response head, body silence or keep-alive idle time ran out. */
  checkDeadline(now: number): void {
    if (overdue(now, this.activeAt, this.limitMs)) this.onTimeout();
  }

  private onSocketData(data: Buffer): void {
    this.activeAt = coarseNow();
    if (this.phase === 'idle' || this.handler === null) {
      // Nothing was asked: an app that talks out of turn cannot be trusted with the next request.
      if (this.phase !== 'body') this.socket.destroy();
      return;
    }
    if (this.bodyLeft >= 0) return this.onBodyBytes(data);
    const result = this.parser.execute(data);
    if (result instanceof Error) return this.fail(new UpstreamError('upstream_bad_response', `invalid response: ${result.message}`, codeOf(result)));
    // The parser stopped after a head whose body this connection reads itself: the rest of `data` is body.
    if (this.bodyLeft >= 0 && result < data.length) this.onBodyBytes(data.subarray(result));
  }

  private onSocketEnd(): void {
    if (this.phase === 'body' && this.bodyLeft >= 0) {
      this.fail(new UpstreamError('upstream_reset', 'the app closed the connection before the response was complete', 'ECONNRESET'));
    } else if (this.phase === 'body') {
      // A response delimited by the connection closing ends here.
      const result = this.parser.finish();
      if (result instanceof Error) this.fail(new UpstreamError('upstream_bad_response', `invalid response: ${result.message}`, codeOf(result)));
    }
    this.keepAlive = false;
    this.socket.end();
  }

  private onTimeout(): void {
    switch (this.phase) {
      case 'connecting':
        return this.fail(new UpstreamError('upstream_connect_timeout', `connect timeout after ${this.options.connectTimeout} ms`, 'SY_ERR_CONNECT_TIMEOUT'));
      case 'headers':
        return this.fail(new UpstreamError('upstream_timeout', 'no response head in time', 'SY_ERR_HEADERS_TIMEOUT'));
      case 'body':
        return this.fail(new UpstreamError('upstream_timeout', 'the response body stalled', 'SY_ERR_BODY_TIMEOUT'));
      case 'idle':
        this.socket.destroy();
    }
  }

  private onSocketClose(): void {
    if (this.handler !== null && !this.responseDone) {
      this.fail(new UpstreamError('upstream_reset', 'the app closed the connection before the response was complete', 'ECONNRESET'));
    }
    this.phase = 'closed';
    unwatch(this);
    this.parser.close();
    this.onClosed(this);
  }

  private abort(err?: Error): void {
    this.fail(err ?? new UpstreamError('aborted', 'request aborted', 'UND_ERR_ABORTED'));
  }

  /** Ends the exchange with an error (once) and closes the connection. */
  private fail(err: Error): void {
    this.stopBody?.();
    const handler = this.handler;
    this.handler = null;
    this.responseDone = true;
    this.socket.destroy();
    handler?.onError(err);
  }

  /** Socket errors before anything was written on a fresh connection mean the request never left. */
  private describe(err: NodeJS.ErrnoException): Error {
    if (!this.wrote && !this.reused) return err;
    if (err.code === 'ECONNREFUSED') return err;
    return new UpstreamError('upstream_reset', err.message, err.code ?? 'ECONNRESET');
  }
}

function codeOf(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'HPE_INVALID';
}

/** The Content-Length of a head (flat [name, value, …]) the parser accepted, or -1 without one. */
function declaredLength(headers: readonly string[]): number {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return Number(headers[i + 1]);
  }
  return -1;
}
