// Serves the dashboard's built files (dist/dashboard: index.html and assets/*) on the admin listener.
// The HTML shell and its assets hold no data, so they are the only admin paths open without a token:
// the page asks for the token and sends it as a header on every API call.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** The shell may load only its own script and styles, and talk only to this listener. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** True for the paths served without a token: GET of the shell and of the built assets. */
export function isPublicDashboardPath(method: string | undefined, pathname: string): boolean {
  if (method !== 'GET') return false;
  return pathname === '/' || (pathname.startsWith('/assets/') && ASSET_NAME.test(pathname.slice('/assets/'.length)));
}

interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  /** Hashed bundle names never change content: cache them for good. */
  immutable: boolean;
}

/**
 * The built dashboard, read into memory on first use (it is a few small files).
 *
 * @example
 * const assets = new DashboardAssets();
 * router.add('GET', '/', ({ req, res }) => void assets.send(req, res, 'index.html'));
 */
export class DashboardAssets {
  private files: Map<string, Asset> | null = null;

  constructor(private readonly dir: string = defaultDashboardDir()) {}

  /** Writes the file (index.html, or a name under assets/) or a 404; answers If-None-Match with 304. */
  send(req: IncomingMessage, res: ServerResponse, name: string): void {
    const asset = this.load().get(name);
    if (asset === undefined) {
      const missing = name === 'index.html' ? 'the dashboard is not built: run `npm run build`' : 'no such asset';
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${missing}\n`);
      return;
    }
    const headers: Record<string, string> = {
      'content-type': asset.type,
      etag: asset.etag,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      vary: 'accept-encoding',
    };
    if (name === 'index.html') headers['content-security-policy'] = CSP;
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = asset.gzip !== null && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const body = gzip ? asset.gzip! : asset.body;
    if (gzip) headers['content-encoding'] = 'gzip';
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(body);
  }

  private load(): Map<string, Asset> {
    if (this.files !== null) return this.files;
    const files = new Map<string, Asset>();
    const add = (name: string, path: string, immutable: boolean) => {
      const body = readFileSync(path);
      const type = TYPES[extname(name)] ?? 'application/octet-stream';
      const compressible = type.startsWith('text/') || type.startsWith('image/svg') || type === 'application/json';
      const gzip = compressible && body.length > 512 ? gzipSync(body, { level: 9 }) : null;
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      files.set(name, { body, gzip, type, etag, immutable });
    };
    const index = join(this.dir, 'index.html');
    if (existsSync(index)) add('index.html', index, false);
    const assets = join(this.dir, 'assets');
    if (existsSync(assets)) {
      for (const name of readdirSync(assets)) {
        if (ASSET_NAME.test(name)) add(`assets/${name}`, join(assets, name), /-[A-Z0-9]{8}\.(js|css)$/.test(name));
      }
    }
    // An unbuilt dashboard is looked for again on the next request (a build may have run meanwhile).
    if (files.size > 0) this.files = files;
    return files;
  }
}

/** dist/dashboard beside the compiled API; from the sources (tsx), the built copy in dist/. */
function defaultDashboardDir(): string {
  const beside = fileURLToPath(new URL('../dashboard/', import.meta.url));
  if (existsSync(join(beside, 'assets'))) return beside;
  return fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));
}
