// The client-facing HTTP server: strict parsing, limits and timeouts, and a handler per request,
// 100-continue and WebSocket upgrade.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { errorBody, statusOf, type ProxyErrorCode } from './errors.js';

const CURRENT_RESPONSE = Symbol('switchyard.currentResponse');
type WithResponse = Duplex & { [CURRENT_RESPONSE]?: ServerResponse };

export interface ServerLimits {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  maxHeaderSize: number;
  maxConnections: number;
}

export interface ListenerHandlers {
  onRequest(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void;
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** `tls` makes it an HTTPS server (the edge server adds SNI, ALPN and HTTP/2 around it). */
export function createListener(limits: ServerLimits, handlers: ListenerHandlers, tls?: HttpsOptions): Server {
  const options = {
    maxHeaderSize: limits.maxHeaderSize,
    requestTimeout: limits.requestTimeout,
    headersTimeout: Math.min(limits.headersTimeout, limits.requestTimeout || Infinity),
    keepAliveTimeout: limits.keepAliveTimeout,
    insecureHTTPParser: false,
    // The exchange answers a missing Host itself, so the 400 carries an error code like every other.
    requireHostHeader: false,
    // Node checks header and request timeouts on this interval (30 s by default): keep it tight.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeout / 2))),
  };
  const server = tls === undefined ? createServer(options) : createHttpsServer({ ...tls, ...options });
  server.maxConnections = limits.maxConnections;
  // The response in progress on each connection, so a late parse error never writes into its body (a
  // property of the socket: a WeakMap.set per request costs more).
  const onRequest = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    (req.socket as WithResponse)[CURRENT_RESPONSE] = res;
    handlers.onRequest(req, res, expectsContinue);
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => onRequest(req, res, false));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => onRequest(req, res, true));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => handlers.onUpgrade(req, socket, head));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const res = (socket as WithResponse)[CURRENT_RESPONSE];
    if (res !== undefined && res.headersSent && !res.writableFinished) socket.destroy();
    else answerClientError(err, socket);
  });
  return server;
}

/** Malformed or too slow requests: answer with a status that says which, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  let code: ProxyErrorCode = 'bad_request';
  if (err.code === 'HPE_HEADER_OVERFLOW') code = 'headers_too_large';
  else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') code = 'request_timeout';
  const status = statusOf(code);
  const { contentType, body } = errorBody(code, undefined);
  socket.end(
    `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : status === 408 ? 'Request Timeout' : 'Request Header Fields Too Large'}\r\n` +
      `content-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-switchyard-error: ${code}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}
