// How CLI commands reach a running daemon: the admin URL and token from flags, the environment or the
// config file, and one JSON request helper that turns every failure into a CliError with its exit code.
import { existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { request, type Dispatcher } from 'undici';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { ADMIN_HEADER } from '../version.js';
import { CliError, UnreachableError } from './cli-error.js';
import { EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE } from './exit-codes.js';

export interface AdminOptions {
  admin?: string;
  tokenFile?: string;
  /** A config file named with -c; undefined means `switchyard.yaml` if it exists. */
  config?: string;
}

export interface AdminTarget {
  url: string;
  token: string | undefined;
  /** Where the URL came from, for "which daemon did this talk to": `--admin`, `admin.listen in prod.yaml`… */
  source: string;
}

const DEFAULT_CONFIG = 'switchyard.yaml';
const DEFAULT_ADMIN = 'http://127.0.0.1:8081';

/**
 * --admin, else SWITCHYARD_ADMIN, else the config's admin.listen, else the default; --token-file, else
 * SWITCHYARD_TOKEN, else the config's. A config named with -c must be usable (exit 2 otherwise): falling
 * back to the default address would talk to whatever daemon listens there. Only when no config was
 * named and `switchyard.yaml` does not exist do the defaults apply.
 */
export function adminTarget(options: AdminOptions): AdminTarget {
  let url = options.admin ?? process.env.SWITCHYARD_ADMIN;
  let source = options.admin !== undefined ? '--admin' : url !== undefined ? 'SWITCHYARD_ADMIN' : 'the default address';
  let token = options.tokenFile !== undefined ? readTokenFile(options.tokenFile) : process.env.SWITCHYARD_TOKEN;
  const named = options.config !== undefined;
  const file = options.config ?? DEFAULT_CONFIG;
  if (named || ((url === undefined || token === undefined) && existsSync(file))) {
    const config = usableConfig(file);
    if (url === undefined) {
      // A daemon listening on every interface is reached over loopback from its own host.
      url = `http://${config.admin.listen.replace(/^(0\.0\.0\.0|\[::\]):/, '127.0.0.1:')}`;
      source = `admin.listen in ${file}`;
    }
    token ??= config.admin.token ?? (config.admin.tokenFile === undefined ? undefined : readTokenFile(config.admin.tokenFile));
  }
  return { url: (url ?? DEFAULT_ADMIN).replace(/\/$/, ''), token, source };
}

/** The config file, or a CliError (exit 2) saying why it cannot be used to find the daemon. */
function usableConfig(file: string): Config {
  try {
    return loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new CliError(`${file} cannot be used to find the daemon, so nothing was sent:\n${err.message}`, EXIT_USAGE);
  }
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

  /**
   * For commands that change something: says (on stderr, so --json stays one document) which daemon
   * it acts on and why that one, so a command sent to the wrong daemon is noticed.
   */
  static acting(options: AdminOptions): AdminClient {
    const client = AdminClient.from(options);
    process.stderr.write(`switchyard: using ${client.describe()}\n`);
    return client;
  }

  /** Which daemon this client talks to and why that one, for commands that act: `… at URL (from --admin)`. */
  describe(): string {
    return `the daemon at ${this.target.url} (from ${this.target.source})`;
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
    await this.refuseStranger(response);
    if (response.statusCode !== 200) {
      const text = await response.body.text();
      throw httpError(this.target, response.statusCode, parseJson(text));
    }
    return response.body;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    const response = await this.send(method, path, body, options, { accept: 'application/json' });
    await this.refuseStranger(response);
    const json = parseJson(await response.body.text());
    if (response.statusCode >= 200 && response.statusCode < 300) return json as T;
    throw httpError(this.target, response.statusCode, json);
  }

  /**
   * Something answered, but not a switchyard admin API (the proxy port, another server): its answer
   * means nothing to us, so say that instead of misreading it.
   */
  private async refuseStranger(response: Dispatcher.ResponseData): Promise<void> {
    if (response.headers[ADMIN_HEADER] !== undefined) return;
    await response.body.dump().catch(() => {});
    const type = response.headers['content-type'];
    const what = `HTTP ${response.statusCode}${typeof type === 'string' ? `, ${type.split(';')[0]}` : ''}`;
    throw new CliError(
      `${this.target.url} (from ${this.target.source}) answered, but it is not a switchyard admin API (${what}); ` +
        'point --admin at the address in admin.listen (the proxy port serves your apps, not the API)',
      EXIT_UNREACHABLE,
    );
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
  const said = message ?? `the daemon answered HTTP ${status}`;
  // `instances must be …` names its field already: no `instances: instances must be …`.
  const text = field === undefined || said.startsWith(`${field} `) ? said : `${field}: ${said}`;
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
