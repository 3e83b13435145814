// How CLI commands reach a running daemon: the admin URL and token from flags, the environment or the
// config file, and one JSON request helper that maps failures to exit codes.
import { existsSync } from 'node:fs';
import { request } from 'undici';
import { loadConfig } from '../config/index.js';
import { EXIT_UNREACHABLE } from './exit-codes.js';

export interface AdminOptions {
  admin?: string;
  token?: string;
  config?: string;
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface AdminTarget {
  url: string;
  token: string | undefined;
}

/** --admin, else the config file's admin.listen, else the default; --token, else SWITCHYARD_TOKEN. */
export function adminTarget(options: AdminOptions): AdminTarget {
  let url = options.admin ?? process.env.SWITCHYARD_ADMIN;
  let token = options.token ?? process.env.SWITCHYARD_TOKEN;
  const file = options.config ?? 'switchyard.yaml';
  if ((url === undefined || token === undefined) && existsSync(file)) {
    try {
      const config = loadConfig(file);
      url ??= `http://${config.admin.listen}`;
      token ??= config.admin.token;
    } catch {
      // An unreadable config is not this command's business; fall back to the defaults.
    }
  }
  return { url: (url ?? 'http://127.0.0.1:8081').replace(/\/$/, ''), token };
}

export async function callAdmin(target: AdminTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await request(`${target.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 30_000,
    });
  } catch (err) {
    const reason = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
    throw new CliError(`cannot reach the switchyard daemon at ${target.url} (${reason}); is \`switchyard up\` running?`, EXIT_UNREACHABLE);
  }
  const text = await response.body.text();
  if (response.statusCode === 401) {
    throw new CliError(`the daemon at ${target.url} refused the token; pass --token or set SWITCHYARD_TOKEN`, EXIT_UNREACHABLE);
  }
  let json: unknown = text;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    // Not JSON (e.g. /metrics): hand back the text.
  }
  return { status: response.statusCode, json };
}

/** The message of an API error body, or a fallback. */
export function apiErrorMessage(json: unknown, fallback: string): string {
  if (typeof json === 'object' && json !== null && 'error' in json) {
    const error = (json as { error: { message?: string } }).error;
    if (error.message) return error.message;
  }
  return fallback;
}
