// What a listener answers before the proxy routes a request: ACME HTTP-01 challenges, the http → https
// redirect (308, path and query kept) of a listener or a service, and the HSTS header on TLS.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ListenerHandlers } from '../listener.js';
import type { RoutingTable } from '../routing-table.js';
import type { EdgeTls } from './edge-tls.js';

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
const HOST = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

export interface EdgeRequestOptions {
  /** Redirect every request (a plain listener that only sends clients to https). */
  redirect: boolean;
  /** The https port redirects point to (443 is left out of the URL). */
  httpsPort: number;
  encrypted: boolean;
  /** Strict-Transport-Security value for this listener's responses. */
  hsts: string | undefined;
}

export function edgeHandlers(options: EdgeRequestOptions, inner: ListenerHandlers, tls: EdgeTls, table: () => RoutingTable): ListenerHandlers {
  const redirecting = new WeakMap<RoutingTable, boolean>();
  const serviceRedirects = (current: RoutingTable): boolean => {
    let any = redirecting.get(current);
    if (any === undefined) {
      any = [...current.services.values()].some((s) => s.policy.httpsRedirect === true);
      redirecting.set(current, any);
    }
    return any;
  };
  return {
    onRequest(req, res, expectsContinue) {
      const url = req.url ?? '/';
      if (tls.hasHttp01 && url.startsWith(CHALLENGE_PREFIX)) return answerChallenge(tls, url.slice(CHALLENGE_PREFIX.length), res);
      if (!options.encrypted) {
        if (options.redirect) return redirect(req, res, options.httpsPort);
        const current = table();
        if (serviceRedirects(current) && current.match(hostOf(req), url)?.policy.httpsRedirect === true) {
          return redirect(req, res, options.httpsPort);
        }
      } else if (options.hsts !== undefined) {
        res.setHeader('strict-transport-security', options.hsts);
      }
      inner.onRequest(req, res, expectsContinue);
    },
    onUpgrade: (req, socket, head) => inner.onUpgrade(req, socket, head),
  };
}

function hostOf(req: IncomingMessage): string | undefined {
  const host = req.headers.host ?? req.headers[':authority'];
  return typeof host === 'string' ? host : undefined;
}

function answerChallenge(tls: EdgeTls, token: string, res: ServerResponse): void {
  const keyAuthorization = tls.http01(token);
  const body = keyAuthorization ?? 'no such ACME challenge\n';
  res.writeHead(keyAuthorization === undefined ? 404 : 200, ['content-type', 'text/plain', 'content-length', String(Buffer.byteLength(body))]);
  res.end(body);
}

function redirect(req: IncomingMessage, res: ServerResponse, httpsPort: number): void {
  const host = hostOf(req);
  // An unread request body must not be taken for the next request.
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (host === undefined || !HOST.test(host)) {
    res.writeHead(400, ['content-type', 'text/plain', 'connection', 'close']);
    res.end('a redirect to https needs a valid Host header\n');
    return;
  }
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  const location = `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${req.url ?? '/'}`;
  const headers = ['location', location, 'content-length', '0'];
  if (hasBody) headers.push('connection', 'close');
  res.writeHead(308, headers);
  res.end();
}
