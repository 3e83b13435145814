// The admin HTTP server: JSON API under /api/v1, /metrics, /healthz; bearer-token auth on everything
// but /healthz; JSON errors `{error: {code, message, field?}}`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, badRequest } from './api-error.js';
import type { TokenAuth } from './auth.js';
import { AuthThrottle } from './auth-throttle.js';
import { isPublicDashboardPath } from './dashboard-assets.js';
import type { Router } from './router.js';
import { ADMIN_HEADER, SWITCHYARD_VERSION } from '../version.js';

const MAX_BODY = 1024 * 1024;

export interface AdminServerOptions {
  router: Router;
  auth: TokenAuth;
  onError?: (err: unknown) => void;
  /** A request with a missing or wrong token (logged: someone may be guessing). */
  onAuthFailure?: (address: string, path: string, blocked: boolean) => void;
}

export function createAdminServer({ router, auth, onError, onAuthFailure }: AdminServerOptions): Server {
  const throttle = new AuthThrottle();
  return createServer((req, res) => {
    // Every answer says what it comes from: a CLI pointed at the proxy or another server can tell.
    res.setHeader(ADMIN_HEADER, SWITCHYARD_VERSION);
    handle(req, res, router, auth, throttle, onAuthFailure).catch((err: unknown) => {
      onError?.(err);
      if (!res.headersSent) sendJson(res, 500, new ApiError(500, 'internal', 'internal error').toJSON());
      else res.destroy();
    });
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  router: Router,
  auth: TokenAuth,
  throttle: AuthThrottle,
  onAuthFailure: AdminServerOptions['onAuthFailure'],
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  if (url.pathname !== '/healthz' && !isPublicDashboardPath(req.method, url.pathname) && auth.required) {
    const address = req.socket.remoteAddress ?? '';
    const now = Date.now();
    const wait = throttle.blockedFor(address, now);
    if (wait > 0) {
      res.setHeader('retry-after', String(Math.ceil(wait / 1000)));
      return sendJson(res, 429, new ApiError(429, 'too_many_attempts', 'too many failed token attempts; try again later').toJSON());
    }
    if (!auth.allows(req)) {
      const blocked = throttle.fail(address, now);
      onAuthFailure?.(address, url.pathname, blocked);
      res.setHeader('www-authenticate', 'Bearer');
      return sendJson(res, 401, new ApiError(401, 'unauthorized', 'missing or wrong bearer token').toJSON());
    }
  }
  const found = router.find(req.method ?? 'GET', url.pathname);
  if ('allowed' in found) {
    if (found.allowed.length === 0) return sendJson(res, 404, new ApiError(404, 'not_found', `no route ${url.pathname}`).toJSON());
    res.setHeader('allow', found.allowed.join(', '));
    return sendJson(res, 405, new ApiError(405, 'method_not_allowed', `use ${found.allowed.join(' or ')}`).toJSON());
  }
  try {
    const body = await readJsonBody(req);
    const result = await found.handler({ req, res, params: found.params, query: url.searchParams, body });
    if (result !== undefined) sendJson(res, result.status, result.body);
  } catch (err) {
    if (err instanceof ApiError) return sendJson(res, err.status, err.toJSON());
    throw err;
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'body_too_large', 'request body over 1 MB');
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw badRequest('the body is not valid JSON', 'body');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Listens on an address, or on a socket the keeper bound and handed down (`fd`). */
export async function listenOn(server: Server, where: { host: string; port: number } | { fd: number }): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const listening = () => {
      server.off('error', reject);
      resolve();
    };
    if ('fd' in where) server.listen({ fd: where.fd }, listening);
    else server.listen(where.port, where.host, listening);
  });
  return server.address() as AddressInfo;
}
