// A WebSocket through the proxy: the handshake goes to an endpoint like any request, then bytes flow
// both ways with backpressure. The tunnel counts as in flight on its endpoint; a drain deadline closes
// it cleanly with close code 1001 at a frame boundary (invariant 9).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { recordSuccess } from '../health/outlier.js';
import { chargeFailure, mayRetry, serviceForRetry, upstreamPath } from './attempts.js';
import type { Routed } from './choose-endpoint.js';
import { chooseEndpoint } from './choose-endpoint.js';
import type { Cuttable, Endpoint } from './endpoint.js';
import { classifyUpstreamError, errorBody, errorCodeFor, statusOf, type ProxyErrorCode } from './errors.js';
import { clientResponseHeaders, forwardedProto, upstreamRequestHead } from './forward-headers.js';
import type { ProxyContext } from './proxy-context.js';
import type { ReleaseRoute, ServiceRoute } from './routing-table.js';
import { CLOSE_GOING_AWAY_FROM_CLIENT, CLOSE_GOING_AWAY_FROM_SERVER, CLOSE_TOO_BIG_FROM_SERVER, FrameTracker } from './websocket-frames.js';

/** How long a cut tunnel waits for the current frame to end and the close handshake, before destroying. */
export const CLOSE_GRACE_MS = 1000;

export class WebSocketTunnel implements Dispatcher.DispatchHandler, Cuttable, Routed {
  readonly startedAt = performance.now();
  service: ServiceRoute | null = null;
  release: ReleaseRoute | null = null;
  endpoint: Endpoint | null = null;
  triedEndpoints: Endpoint[] | null = null;
  retries = 0;
  cookie: string | undefined = undefined;

  /** A WebSocket handshake keeps its assignment for the session; it sets no cookies. */
  addSetCookie(): void {}
  status = 0;
  errorCode: ProxyErrorCode | null = null;
  wasCut = false;

  private upstream: Duplex | null = null;
  private readonly toClient = new FrameTracker();
  private readonly toUpstream = new FrameTracker();
  private closing = false;
  private closed = false;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private connected = false;
  private path = '';
  private headers: string[] = [];

  constructor(
    private readonly ctx: ProxyContext,
    readonly req: IncomingMessage,
    private readonly client: Duplex,
    private readonly head: Buffer,
  ) {}

  start(): void {
    const { req, ctx } = this;
    this.client.on('error', () => this.close());
    this.client.on('close', () => this.close());
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return this.reject('bad_request');
    const url = req.url ?? '/';
    const head = upstreamRequestHead(req.rawHeaders, req.socket.remoteAddress ?? '', forwardedProto(req.socket), false, ctx.releaseHeader);
    if (head.badRequest !== null || req.headers.host === undefined) return this.reject('bad_request');
    this.cookie = head.cookie;
    const service = ctx.table.match(req.headers.host, url);
    if (service === undefined) return this.reject('no_route');
    this.service = service;
    this.path = upstreamPath(service, url);
    this.headers = head.headers;
    service.retryBudget.recordRequest(Date.now());
    this.attempt();
  }

  private attempt(): void {
    const service = this.service!;
    const endpoint = chooseEndpoint(service, this, Date.now());
    if (endpoint === undefined) return this.reject('no_healthy_endpoint');
    this.endpoint = endpoint;
    this.connected = false;
    endpoint.acquire(this);
    // The release the app is told of is this attempt's (a retry may land on another).
    const headers = [...this.headers, this.ctx.releaseHeader, this.release!.routedAs];
    endpoint.pool.dispatch(
      { path: this.path, method: 'GET', headers, upgrade: 'websocket', headersTimeout: service.policy.timeouts.response },
      this,
    );
  }

  /** Drain deadline: close with 1001 at the next frame boundary. */
  cut(): void {
    if (this.closed || this.closing) return;
    this.wasCut = true;
    this.closing = true;
    if (this.upstream === null) {
      this.abortUpstream?.();
      return this.close();
    }
    setTimeout(() => this.close(), CLOSE_GRACE_MS).unref();
    if (this.toClient.atBoundary) this.sendGoingAway();
  }

  /** A WebSocket cannot move to another instance: it stays open while its host may come back. */
  lose(): boolean {
    return false;
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.closed) return abort();
    this.connected = true;
    this.abortUpstream = abort;
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.status = statusCode;
    this.upstream = socket;
    recordSuccess(this.endpoint!);
    const headers = clientResponseHeaders(latin1(rawHeaders ?? []), this.ctx.dropServerHeader, '');
    let head = `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i]!.toLowerCase() === 'x-request-id') continue;
      head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    this.client.write(`${head}\r\n`);
    if (this.head.length > 0) {
      this.toUpstream.advance(this.head, false);
      socket.write(this.head);
    }
    this.pump(socket, this.client, this.toClient, true);
    this.pump(this.client, socket, this.toUpstream, false);
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    if (this.closing) this.cut();
  }

  /** The app answered the handshake with an ordinary response: pass it on and close. */
  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    if (statusCode >= 500) chargeFailure(this.ctx, this.service!, this.release, this.endpoint!);
    const headers = clientResponseHeaders(latin1(rawHeaders), this.ctx.dropServerHeader, '');
    let head = `HTTP/1.1 ${statusCode} ${statusCode < 300 ? 'OK' : 'Error'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const lower = headers[i]!.toLowerCase();
      if (lower === 'content-length' || lower === 'x-request-id') continue;
      head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    }
    this.client.write(`${head}Connection: close\r\n\r\n`);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.client.write(chunk);
  }

  onComplete(): void {
    this.client.end();
    this.close();
  }

  onError(err: Error): void {
    if (this.closed) return;
    const failure = classifyUpstreamError(err);
    if (this.status !== 0 || failure === 'aborted') return this.close();
    // The handshake failed before anything reached the client: an upstream failure like any other
    // (outlier ejection), and a GET without a body that may go to another endpoint (invariant 5).
    const endpoint = this.endpoint!;
    if (failure !== 'other') chargeFailure(this.ctx, this.service!, this.release, endpoint);
    endpoint.release(this);
    if (!this.closing && mayRetry(this.service!, this.retries, failure, !this.connected, true)) {
      this.ctx.observer.onAttemptFailed?.(this, endpoint, this.release?.name ?? '', failure);
      (this.triedEndpoints ??= []).push(endpoint);
      this.retries++;
      this.abortUpstream = null;
      const current = serviceForRetry(this.ctx, this.service!);
      if (current !== this.service) {
        this.service = current;
        this.release = null;
        this.path = upstreamPath(current, this.req.url ?? '/');
      }
      return this.attempt();
    }
    this.reject(errorCodeFor(failure, err));
  }

  private pump(from: Duplex, to: Duplex, tracker: FrameTracker, towardClient: boolean): void {
    from.on('data', (chunk: Buffer) => {
      if (this.closing && towardClient) {
        // Forward up to the end of the current frame, then say goodbye in our own words.
        const upTo = tracker.advance(chunk, true);
        if (upTo > 0 && !to.writableEnded) to.write(chunk.subarray(0, upTo));
        if (tracker.atBoundary) this.sendGoingAway();
        return;
      }
      tracker.advance(chunk, false);
      const max = this.ctx.limits.maxWebSocketFrame;
      if (max > 0 && tracker.largestFrame > max) return this.tooBig();
      if (to.writableEnded) return;
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => from.resume());
    from.on('end', () => {
      if (!this.closing) to.end();
    });
  }

  /** A frame over the size limit: close both sides with 1009 (message too big), mid-frame or not. */
  private tooBig(): void {
    if (this.closed) return;
    this.errorCode = 'body_too_large';
    // Our close frame must not land inside a frame the app is sending.
    if (!this.client.destroyed && this.toClient.atBoundary) this.client.write(CLOSE_TOO_BIG_FROM_SERVER);
    this.close();
  }

  private sendGoingAway(): void {
    const { upstream, client } = this;
    if (upstream === null || client.destroyed) return this.close();
    upstream.pause();
    client.end(CLOSE_GOING_AWAY_FROM_SERVER);
    if (this.toUpstream.atBoundary) upstream.end(CLOSE_GOING_AWAY_FROM_CLIENT);
    else upstream.destroy();
    // The endpoint's part is over: the app got its close frame (or its connection ended). What is left
    // is the client's side of the close handshake, which puts nothing on the endpoint; when it ends
    // depends on the client and the platform (Node 24 reports the client's FIN later than Node 20),
    // so the endpoint stops counting the tunnel now.
    this.endpoint?.release(this);
  }

  private reject(code: ProxyErrorCode): void {
    this.errorCode = code;
    this.status = statusOf(code);
    const { contentType, body } = errorBody(code, this.req.headers.accept);
    if (!this.client.destroyed) {
      this.client.end(
        `HTTP/1.1 ${this.status} Error\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `x-switchyard-error: ${code}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    this.close();
  }

  /** Ends both sides, letting pending writes (a close frame) flush briefly before destroying. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.upstream === null) this.abortUpstream?.();
    const { upstream, client } = this;
    if (upstream !== null && !upstream.destroyed) upstream.end();
    if (!client.destroyed) client.end();
    setTimeout(() => {
      upstream?.destroy();
      client.destroy();
    }, CLOSE_GRACE_MS).unref();
    this.endpoint?.release(this);
    this.ctx.observer.onTunnelEnd?.(this);
  }
}

/** undici hands headers over as bytes; latin1 keeps them as they came. */
function latin1(raw: readonly (Buffer | string)[]): string[] {
  return raw.map((h) => (typeof h === 'string' ? h : h.toString('latin1')));
}
