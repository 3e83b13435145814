// Creates the server for one listen entry: plain HTTP/1.1, plain with cleartext h2c (told apart by the
// HTTP/2 preface), or HTTPS with SNI and ALPN (h2 and http/1.1 on one port). HTTP/1.1 always goes
// through the strict listener (listener.ts); HTTP/2 through Node's http2 compatibility API. The server
// can listen on host:port or on a handle inherited from another process.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import { Server as NetServer, type Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { createListener, type ListenerHandlers, type ServerLimits } from '../listener.js';
import { createChallengeServer, offersAcmeTls } from './alpn-challenge.js';
import { secureOptions, type ListenerContexts, type TlsMinVersion } from './tls-contexts.js';

/** An idle HTTP/2 connection is closed after this long (clients reconnect cheaply). */
const H2_IDLE_TIMEOUT_MS = 120_000;
const H2_MAX_CONCURRENT_STREAMS = 128;
const H2_PREFACE = 'PRI * HTTP/2.0';

export interface EdgeTlsSource {
  /** The contexts of this listener now (read at every handshake, so a new snapshot serves at once). */
  contexts(): ListenerContexts | undefined;
  /** A pending TLS-ALPN-01 challenge certificate for a name. */
  alpnChallenge(servername: string): SecureContext | undefined;
  /** Whether any TLS-ALPN-01 challenge is pending (new connections are looked at only then). */
  alpnChallengesPending(): boolean;
  onHandshakeFailure(): void;
}

export interface EdgeOptions {
  limits: ServerLimits;
  handlers: ListenerHandlers;
  http2: boolean;
  tls?: { minVersion: TlsMinVersion; source: EdgeTlsSource };
}

/** One listening server with its HTTP/1.1 connections and HTTP/2 sessions. */
export class EdgeServer {
  readonly server: Server;
  private readonly sessions = new Set<Http2Session>();

  constructor(options: EdgeOptions) {
    const { limits, handlers, tls } = options;
    this.server = createListener(limits, handlers, tls && initialTlsOptions(tls.minVersion, tls.source, options.http2));
    if (tls) this.addTls(tls.source);
    if (options.http2) this.addHttp2(handlers, limits, tls !== undefined);
  }

  /** Listens on host:port, or on a socket another process bound and handed down (`fd`). */
  listen(where: { host: string; port: number; fd?: number }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      const listening = () => {
        this.server.off('error', reject);
        resolve();
      };
      if (where.fd !== undefined) this.server.listen({ fd: where.fd }, listening);
      else this.server.listen(where.port, where.host, listening);
    });
  }

  /** Stops accepting and closes idle keep-alive connections; resolves when every connection has closed. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Stops accepting only. http.Server.close() also closes idle keep-alive connections (Node 19+), which
   * races a client just sending on one; in a handover they stay open for the client's next request.
   */
  stopAccepting(): Promise<void> {
    return new Promise((resolve) => NetServer.prototype.close.call(this.server, () => resolve()));
  }

  /** Closes keep-alive connections with no request in progress; HTTP/2 sessions get GOAWAY and finish their streams. */
  closeIdleConnections(): void {
    this.server.closeIdleConnections();
    this.goAway();
  }

  /** HTTP/2's `Connection: close`: each session finishes its streams, and its client opens no new one here. */
  goAway(): void {
    for (const session of this.sessions) session.close();
  }

  closeAllConnections(): void {
    this.server.closeAllConnections();
    for (const session of this.sessions) session.destroy();
  }

  /** Serves a new default certificate (clients that send no SNI) to new handshakes. */
  setDefaultCertificate(cert: { certPem: string; keyPem: string }, minVersion: TlsMinVersion): void {
    (this.server as unknown as { setSecureContext(options: object): void }).setSecureContext(secureOptions(cert, minVersion));
  }

  private addTls(source: EdgeTlsSource): void {
    this.server.on('tlsClientError', () => source.onHandshakeFailure());
    this.addAlpnChallenges(source);
    this.server.on('OCSPRequest', (certificate: Buffer, _issuer: Buffer, callback: (err: Error | null, response?: Buffer) => void) => {
      callback(null, source.contexts()?.ocspFor(certificate));
    });
  }

  /** While a TLS-ALPN-01 challenge is pending, the validator's handshakes go to the challenge server. */
  private addAlpnChallenges(source: EdgeTlsSource): void {
    const server = this.server;
    const [handshake] = server.listeners('connection') as ((socket: Socket) => void)[];
    if (handshake === undefined) throw new Error('the HTTPS server has no connection listener to hand TLS handshakes to');
    server.removeListener('connection', handshake);
    const challenges = createChallengeServer((servername) => source.alpnChallenge(servername));
    server.on('connection', (socket: Socket) => {
      if (!source.alpnChallengesPending()) return handshake.call(server, socket);
      offersAcmeTls(socket, (isValidator) => {
        if (isValidator) challenges.emit('connection', socket);
        else handshake.call(server, socket);
      });
    });
  }

  /** Routes each connection by protocol: h2 (ALPN or preface) to the HTTP/2 server, the rest as before. */
  private addHttp2(handlers: ListenerHandlers, limits: ServerLimits, tls: boolean): void {
    const h2 = createHttp2Server({
      maxSessionMemory: 32,
      settings: { maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS, maxHeaderListSize: limits.maxHeaderSize },
    });
    // The compatibility API offers the members the exchange and the tunnel use (rawHeaders, url,
    // method, socket, writeHead, write, end, destroy, writeContinue, events), so they serve both.
    const onRequest = (req: Http2ServerRequest, res: Http2ServerResponse, expectsContinue: boolean) => {
      // HTTP/2 frames a body without a length; HTTP/1.1 upstream needs chunked for it (nghttp2 has
      // already refused a client's own transfer-encoding, so this cannot meet a Content-Length).
      if (!req.stream.endAfterHeaders && req.headers['content-length'] === undefined) req.rawHeaders.push('transfer-encoding', 'chunked');
      handlers.onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse, expectsContinue);
    };
    h2.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => onRequest(req, res, false));
    h2.on('checkContinue', (req: Http2ServerRequest, res: Http2ServerResponse) => onRequest(req, res, true));
    h2.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.setTimeout(H2_IDLE_TIMEOUT_MS, () => session.close());
      session.once('close', () => this.sessions.delete(session));
    });
    // A broken session is the client's problem: it is destroyed, and the proxy keeps serving.
    h2.on('sessionError', () => {});
    const event = tls ? 'secureConnection' : 'connection';
    const [http1] = this.server.listeners(event) as ((socket: Socket) => void)[];
    if (http1 === undefined) throw new Error(`the HTTP server has no ${event} listener to route HTTP/1.1 to`);
    this.server.removeListener(event, http1);
    const server = this.server;
    if (tls) {
      server.on(event, (socket: TLSSocket) => {
        if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
        else http1.call(server, socket);
      });
      return;
    }
    server.on(event, (socket: Socket) => {
      // h2c has no ALPN: tell it from HTTP/1.1 by the connection preface (prior knowledge, RFC 9113 3.3).
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        socket.unshift(chunk);
        if (H2_PREFACE.startsWith(chunk.toString('latin1', 0, Math.min(chunk.length, H2_PREFACE.length)))) {
          h2.emit('connection', socket);
        } else {
          http1.call(server, socket);
          socket.resume();
        }
      });
    });
  }
}

function initialTlsOptions(minVersion: TlsMinVersion, source: EdgeTlsSource, http2: boolean) {
  const fallback = source.contexts()?.defaultCertificate?.source;
  return {
    ...(fallback ? secureOptions(fallback, minVersion) : { minVersion, ciphers: secureOptions({ certPem: '', keyPem: '' }, minVersion).ciphers }),
    ALPNProtocols: http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
    SNICallback: (servername: string, callback: (err: Error | null, context?: SecureContext) => void) => {
      callback(null, source.contexts()?.forName(servername)?.context);
    },
  };
}
