// How CLI commands reach a running daemon: the admin URL and token from flags, the environment or the
// config file, and one JSON request helper that turns every failure into a CliError with its exit code.
import { existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { loadConfig } from '../config/index.js';
import { CliError, UnreachableError } from './cli-error.js';
import { EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE } from './exit-codes.js';

export interface AdminOptions {
  admin?: string;
  tokenFile?: string;
  config?: string;
}

export interface AdminTarget {
  url: string;
  token: string | undefined;
}

/** --admin, else SWITCHYARD_ADMIN, else the config's admin.listen, else the default; --token-file, else SWITCHYARD_TOKEN, else the config's. */
export function adminTarget(options: AdminOptions): AdminTarget {
  let url = options.admin ?? process.env.SWITCHYARD_ADMIN;
  let token = options.tokenFile !== undefined ? readTokenFile(options.tokenFile) : process.env.SWITCHYARD_TOKEN;
  const file = options.config ?? 'switchyard.yaml';
  if ((url === undefined || token === undefined) && existsSync(file)) {
    try {
      const config = loadConfig(file);
      // A daemon listening on every interface is reached over loopback from its own host.
      url ??= `http://${config.admin.listen.replace(/^(0\.0\.0\.0|\[::\]):/, '127.0.0.1:')}`;
      token ??= config.admin.token ?? (config.admin.tokenFile === undefined ? undefined : readFileSync(config.admin.tokenFile, 'utf8').trim());
    } catch {
      // An unreadable config is not this command's business; fall back to the defaults.
    }
  }
  return { url: (url ?? 'http://127.0.0.1:8081').replace(/\/$/, ''), token };
}

export interface CallOptions {
  /** How long to wait for the answer's headers (scale waits for instances to become healthy). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The admin API as the commands use it: JSON in, JSON out, errors thrown as CliError. */
export class AdminClient {
  constructor(readonly target: AdminTarget) {}

  static from(options: AdminOptions): AdminClient {
    return new AdminClient(adminTarget(options));
  }

  get<T>(path: string, options?: CallOptions): Promise<T> {
    return this.call<T>('GET', path, undefined, options);
  }

  post<T>(path: string, body: unknown = {}, options?: CallOptions): Promise<T> {
    return this.call<T>('POST', path, body, options);
  }

  /** Opens a streaming GET (Server-Sent Events); the caller reads and closes the body. */
  async stream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Readable> {
    const response = await this.send('GET', path, undefined, { signal }, { ...headers, accept: 'text/event-stream' });
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw httpError(this.target, response.statusCode, parseJson(text));
    }
    return response.body;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    const response = await this.send(method, path, body, options, { accept: 'application/json' });
    const json = parseJson(await response.body.text());
    if (response.statusCode >= 200 && response.statusCode < 300) return json as T;
    throw httpError(this.target, response.statusCode, json);
  }

  private async send(method: 'GET' | 'POST', path: string, body: unknown, options: CallOptions, extra: Record<string, string>) {
    const headers: Record<string, string> = { ...extra };
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await request(`${this.target.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: options.timeoutMs ?? 30_000,
        bodyTimeout: options.signal ? 0 : 30_000,
        signal: options.signal,
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const reason = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
      throw new UnreachableError(`cannot reach the switchyard daemon at ${this.target.url} (${reason}); is \`switchyard up\` running?`);
    }
  }
}

/** The API's own words for a failed call, with the exit code scripts expect (DESIGN.md, "CLI"). */
function httpError(target: AdminTarget, status: number, json: unknown): CliError {
  const { message, field } = apiError(json);
  if (status === 401 || status === 403) {
    return new CliError(`the daemon at ${target.url} refused the token; pass --token-file or set SWITCHYARD_TOKEN`, EXIT_UNREACHABLE);
  }
  const text = `${field === undefined ? '' : `${field}: `}${message ?? `the daemon answered HTTP ${status}`}`;
  return new CliError(text, status >= 400 && status < 500 ? EXIT_USAGE : EXIT_FAILED);
}

/** The message and field of an API error body `{error: {code, message, field?}}`. */
export function apiError(json: unknown): { message?: string; field?: string } {
  if (typeof json !== 'object' || json === null || !('error' in json)) return {};
  const error = json.error;
  if (typeof error !== 'object' || error === null) return {};
  const { message, field } = error as { message?: unknown; field?: unknown };
  return { message: typeof message === 'string' ? message : undefined, field: typeof field === 'string' ? field : undefined };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function readTokenFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new CliError(`cannot read the token file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT_USAGE);
  }
}
