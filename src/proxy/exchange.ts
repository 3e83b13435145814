// One client request through the proxy: pick a release and an endpoint, stream the request up and the
// response down with backpressure, retry only when it is safe (invariant 5), and report the outcome.
// It is its own undici dispatch handler, so a request allocates one object for all of that.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { BodyLimit } from './body-limit.js';
import { recordSuccess } from '../health/outlier.js';
import { chargeFailure, mayRetry, serviceForRetry, upstreamPath } from './attempts.js';
import { chooseEndpoint, type Routed } from './choose-endpoint.js';
import { readCookie, setCookieValue } from './cookies.js';
import type { Cuttable, Endpoint } from './endpoint.js';
import {
  classifyUpstreamError,
  errorBody,
  errorCodeFor,
  statusOf,
  type ProxyErrorCode,
  type UpstreamFailure,
} from './errors.js';
import { clientResponseHeaders, forwardedProto, upstreamRequestHead } from './forward-headers.js';
import type { ProxyContext } from './proxy-context.js';
import type { ReleaseRoute, ServiceRoute } from './routing-table.js';
import type { UpstreamHandler, UpstreamRequest } from './upstream/connection.js';
import { UpstreamError } from './upstream/upstream-error.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The exchange a response belongs to, kept on it so one shared 'close' listener serves every request. */
const EXCHANGE = Symbol('switchyard.exchange');
type ExchangeResponse = ServerResponse & { [EXCHANGE]?: Exchange };
type ExchangeRequest = IncomingMessage & { [EXCHANGE]?: Exchange };

function onResponseClose(this: ExchangeResponse): void {
  this[EXCHANGE]?.onClientClose();
}

function onRequestClose(this: ExchangeRequest): void {
  this[EXCHANGE]?.onRequestClose();
}

/**
 * One object per request: the exchange is its own upstream request and upstream handler, so a request
 * allocates little besides it (no closures, no request literal).
 */
export class Exchange implements UpstreamHandler, UpstreamRequest, Cuttable, Routed {
  /** performance.now() at the start, for durations; anything compared with other processes' times uses Date.now(). */
  readonly startedAt = performance.now();
  service: ServiceRoute | null = null;
  release: ReleaseRoute | null = null;
  endpoint: Endpoint | null = null;
  requestId = '';
  status = 0;
  bytesOut = 0;
  retries = 0;
  errorCode: ProxyErrorCode | null = null;
  failure: UpstreamFailure | null = null;
  durationMs = 0;
  /** Set when a drain deadline closed this exchange. */
  wasCut = false;
  /** Set while this exchange listens to its client socket's 'close'. */
  private onSocketClose: (() => void) | null = null;

  /** Host as the client sent it (null before the head was read), and its Cookie header. */
  host: string | undefined = undefined;
  cookie: string | undefined = undefined;
  // The upstream request (UpstreamRequest): this object is what the upstream client is handed.
  method = 'GET';
  path = '';
  headers: string[] = [];
  body: Readable | null = null;
  chunked = false;
  headersTimeout = 0;
  bodyTimeout = 0;

  private hasBody = false;
  private contentLength: string | undefined;
  private hostMissing = false;
  /** Index in `headers` of the Host value this proxy added for an HTTP/1.0 client without one: -1 if none. */
  private addedHostAt = -1;
  /** The request body when it must pass a size check on its way up; else the request itself is sent. */
  private limitedBody: Readable | null = null;
  private tried: Endpoint[] | null = null;
  private connected = false;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private waitingForDrain = false;
  private upstreamDone = true;
  private finished = false;
  private setCookies: string[] | null = null;
  /** Index in `headers` of the release header's value: -1 until the first attempt adds it. */
  private routedAsAt = -1;

  constructor(
    private readonly ctx: ProxyContext,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly expectsContinue: boolean,
  ) {}

  start(): void {
    const { req, ctx } = this;
    this.watchClient();
    // Invariant 6: one table per attempt (a retry routes again by the table current then).
    const table = ctx.table;
    const url = req.url ?? '/';
    this.method = req.method ?? 'GET';
    const head = upstreamRequestHead(req.rawHeaders, req.socket.remoteAddress ?? '', forwardedProto(req.socket), false, ctx.releaseHeader);
    this.requestId = head.requestId;
    this.host = head.host;
    this.cookie = head.cookie;
    if (head.badRequest !== null) return this.respondError('bad_request', true);
    this.contentLength = head.contentLength;
    this.hostMissing = head.host === undefined;
    this.chunked = head.chunked;
    if (head.host === undefined && req.httpVersionMinor === 1) return this.respondError('bad_request', true);
    const service = table.match(head.host, url);
    if (service === undefined) return this.respondError('no_route', this.hasUnreadBody());
    this.service = service;
    this.headers = head.headers;
    this.path = upstreamPath(service, url);
    if (!this.checkBodySize()) return;
    this.hasBody = head.chunked || Number(head.contentLength ?? 0) > 0;
    // The wall clock, as ejections, slow start and the retry budget use everywhere else: performance's
    // clock is fixed at process start and would not follow a step of the system clock.
    const now = Date.now();
    service.retryBudget.recordRequest(now);
    this.attempt(now);
  }

  /** Answers with a proxy error before any routing (e.g. a URI over the length limit). */
  refuse(code: ProxyErrorCode): void {
    this.watchClient();
    // Refused before its headers were read: close, so an unread body is never taken for a request.
    this.respondError(code, true);
  }

  /** Closes the client connection now (drain deadline). */
  cut(): void {
    this.wasCut = true;
    this.abortUpstream?.();
    this.res.destroy();
  }

  lose(): boolean {
    // Not yet connected: the connect times out and is retried like any refused one.
    if (this.finished || this.upstreamDone || this.abortUpstream === null || this.res.headersSent) return false;
    if (!IDEMPOTENT.has(this.method) || this.hasBody) return false;
    this.abortUpstream(new UpstreamError('upstream_reset', "the instance's host left the cluster", 'SY_ERR_HOST_LOST'));
    return true;
  }

  private attempt(now: number): void {
    const endpoint = this.pickEndpoint(now);
    if (endpoint === undefined) return this.respondError('no_healthy_endpoint', this.hasUnreadBody());
    const service = this.service!;
    this.endpoint = endpoint;
    this.connected = false;
    this.upstreamDone = false;
    endpoint.acquire(this);
    this.tellRelease(this.release!);
    if (this.expectsContinue && this.retries === 0) this.res.writeContinue();
    const { timeouts } = service.policy;
    // An HTTP/1.0 client may send no Host; the app, spoken to in HTTP/1.1, needs one: this endpoint's.
    if (this.hostMissing) {
      if (this.addedHostAt < 0) {
        this.headers.push('host', endpoint.address);
        this.addedHostAt = this.headers.length - 1;
      } else this.headers[this.addedHostAt] = endpoint.address;
    }
    this.body = this.hasBody ? (this.limitedBody ?? this.req) : null;
    this.headersTimeout = timeouts.response;
    this.bodyTimeout = timeouts.idle;
    endpoint.upstream.dispatch(this, this);
  }

  /** The release header, set on the first attempt and rewritten when a retry lands on another release. */
  private tellRelease(release: ReleaseRoute): void {
    if (this.routedAsAt < 0) {
      this.headers.push(this.ctx.releaseHeader, release.routedAs);
      this.routedAsAt = this.headers.length - 1;
    } else this.headers[this.routedAsAt] = release.routedAs;
  }

  addSetCookie(value: string): void {
    (this.setCookies ??= []).push(value);
  }

  get triedEndpoints(): readonly Endpoint[] | null {
    return this.tried;
  }

  private pickEndpoint(now: number): Endpoint | undefined {
    const service = this.service!;
    const endpoint = chooseEndpoint(service, this, now);
    const sticky = service.policy.sticky;
    // Set the cookie when it changes, and on every response when it has a ttl (a sliding expiry).
    if (
      endpoint !== undefined &&
      sticky !== null &&
      (sticky.ttlMs !== undefined || readCookie(this.cookie, sticky.cookie) !== endpoint.stickyKey)
    ) {
      this.addSetCookie(setCookieValue(sticky.cookie, endpoint.stickyKey, sticky.ttlMs));
    }
    return endpoint;
  }

  // undici handler: called just before the request is written to an upstream socket.
  onConnect(abort: (err?: Error) => void): void {
    // The client may have left while the request waited in the pool's queue.
    if (this.finished) return abort();
    this.connected = true;
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // informational responses stay between proxy and app
    const { res } = this;
    this.status = statusCode;
    this.resumeUpstream = resume;
    if (this.ctx.stopping) res.shouldKeepAlive = false;
    // A 5xx counts against the instance now; a success only once the whole body arrived (onComplete).
    if (statusCode >= 500) this.recordUpstreamFailure();
    const headers = clientResponseHeaders(rawHeaders, this.ctx.dropServerHeader, this.requestId);
    if (this.setCookies !== null) for (const cookie of this.setCookies) headers.push('set-cookie', cookie);
    try {
      // HTTP/2 has no reason phrase.
      if (statusText && this.req.httpVersionMajor === 1) res.writeHead(statusCode, statusText, headers);
      else res.writeHead(statusCode, headers);
    } catch {
      // The app sent a header Node refuses to forward (control characters): not a valid response.
      this.abortUpstream?.();
      this.status = 0;
      this.recordUpstreamFailure();
      this.respondError('upstream_bad_response', false);
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytesOut += chunk.length;
    if (this.res.write(chunk)) return true;
    if (this.waitingForDrain) return false;
    this.waitingForDrain = true;
    // The client is not reading: wait for it, but not forever (a slow-read attack holds an upstream).
    const timeout = this.ctx.limits.sendTimeout;
    const timer = timeout > 0 ? setTimeout(() => this.cut(), timeout) : null;
    this.res.once('drain', () => {
      this.waitingForDrain = false;
      if (timer) clearTimeout(timer);
      this.resumeUpstream!();
    });
    return false;
  }

  onComplete(): void {
    this.upstreamDone = true;
    const endpoint = this.endpoint!;
    endpoint.release(this);
    if (this.status < 500) recordSuccess(endpoint);
    this.res.end();
    this.finish();
  }

  onError(err: Error): void {
    this.upstreamDone = true;
    const endpoint = this.endpoint!;
    endpoint.release(this);
    if (this.finished) return;
    const failure = classifyUpstreamError(err);
    this.failure = failure;
    if (failure === 'aborted') return this.finish();
    // Every kind of upstream failure counts towards ejection: refused, reset, silent, or garbage.
    if (failure !== 'other') this.recordUpstreamFailure();
    if (this.res.headersSent) {
      // Mid-response: closing the connection is the only honest way to say the body is incomplete.
      this.res.destroy();
      return this.finish();
    }
    const idempotent = IDEMPOTENT.has(this.req.method ?? '') && !this.hasBody;
    if (mayRetry(this.service!, this.retries, failure, !this.connected, idempotent)) {
      this.ctx.observer.onAttemptFailed?.(this, endpoint, this.release?.name ?? '', failure);
      // What the client finally gets is recorded at the end; this attempt's failure is recorded now.
      this.failure = null;
      (this.tried ??= []).push(endpoint);
      this.retries++;
      // Each attempt sees one table (invariant 6): the current one.
      const current = serviceForRetry(this.ctx, this.service!);
      if (current !== this.service) {
        this.service = current;
        this.release = null;
        this.path = upstreamPath(current, this.req.url ?? '/');
      }
      return this.attempt(Date.now());
    }
    this.respondError(errorCodeFor(failure, err), this.hasUnreadBody());
  }

  private recordUpstreamFailure(): void {
    chargeFailure(this.ctx, this.service!, this.release, this.endpoint!);
  }

  /**
   * The client can go away by three events, and Node emits only some of them for a pipelined request
   * whose response waits behind an earlier one: its request's `close` (with an error) if its body was
   * still unread, else only the socket's `close`; the response's `close` comes only for the response
   * on the wire. Whichever tells first ends the exchange, so nothing stays in flight for a client
   * that is gone. Request and response share one listener each; only the socket needs its own.
   */
  private watchClient(): void {
    (this.res as ExchangeResponse)[EXCHANGE] = this;
    (this.req as ExchangeRequest)[EXCHANGE] = this;
    this.res.on('close', onResponseClose);
    this.req.on('close', onRequestClose);
  }

  onRequestClose(): void {
    if (this.finished) return;
    // Node may already have detached the socket (null at run time, whatever its type says).
    const socket = this.req.socket as Socket | null;
    if (socket === null || socket.destroyed) return this.onClientClose();
    // The body was read whole; the client may still leave before its response is sent.
    this.onSocketClose = () => this.onClientClose();
    socket.once('close', this.onSocketClose);
  }

  onClientClose(): void {
    if (this.finished) return;
    // The client went away before the response was complete: stop the upstream side too.
    if (!this.upstreamDone) this.abortUpstream?.();
    this.finish();
  }

  private checkBodySize(): boolean {
    const max = this.ctx.limits.maxBodySize;
    if (max <= 0) return true;
    const declared = this.contentLength;
    if (declared !== undefined && Number(declared) > max) {
      this.respondError('body_too_large', true);
      return false;
    }
    if (this.chunked) {
      // A chunked body's size is only known as it streams: count it on its way to the app.
      this.limitedBody = this.req.pipe(
        new BodyLimit(max, () => {
          if (this.finished) return;
          this.abortUpstream?.();
          this.respondError('body_too_large', true);
        }),
      );
    }
    return true;
  }

  private hasUnreadBody(): boolean {
    return !this.req.complete && (this.chunked || this.contentLength !== undefined);
  }

  /** Answers with the proxy's own error; `close` ends the connection (the request body was not read). */
  private respondError(code: ProxyErrorCode, close: boolean): void {
    this.errorCode = code;
    const { res } = this;
    if (res.headersSent) {
      res.destroy();
      return this.finish();
    }
    this.status = statusOf(code);
    const { contentType, body } = errorBody(code, this.req.headers.accept, this.requestId || undefined);
    const headers: string[] = [
      'content-type',
      contentType,
      'content-length',
      String(Buffer.byteLength(body)),
      'x-switchyard-error',
      code,
    ];
    if (this.requestId) headers.push('x-request-id', this.requestId);
    if (close) {
      headers.push('connection', 'close');
      res.shouldKeepAlive = false;
    }
    res.writeHead(this.status, headers);
    res.end(this.req.method === 'HEAD' ? undefined : body);
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.onSocketClose !== null) (this.req.socket as Socket | null)?.off('close', this.onSocketClose);
    this.durationMs = performance.now() - this.startedAt;
    this.ctx.observer.onExchangeEnd(this);
  }
}
