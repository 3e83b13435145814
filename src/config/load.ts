// Loads switchyard.yaml: YAML with line numbers, environment interpolation, schema validation,
// and relative paths made absolute. Either returns a complete Config or throws one ConfigError
// listing every problem in the file.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { ConfigProblem } from './errors.js';
import { ConfigError, formatPath } from './errors.js';
import type { Env } from './interpolate.js';
import { interpolateDocument } from './interpolate.js';
import { explainIssues } from './issues.js';
import type { Position } from './locate.js';
import { positionOf } from './locate.js';
import { configErrorMap } from './messages.js';
import type { Config } from './schema.js';
import { configSchema } from './schema.js';

// The yaml library words a few errors for programmers; these say what to change in the file.
const SYNTAX_MESSAGES: Partial<Record<string, string>> = {
  MULTIPLE_DOCS: 'the config must be one YAML document; remove the extra ---',
  DUPLICATE_KEY: 'this key is already set in the same mapping',
};

/**
 * Reads and validates a config file.
 * @example const config = loadConfig('switchyard.yaml');
 * @throws ConfigError with code SY_ERR_CONFIG_UNREADABLE, _SYNTAX or _INVALID
 */
export function loadConfig(file: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError('SY_ERR_CONFIG_UNREADABLE', file, [{ path: '', message: `cannot read the config: ${reason}` }]);
  }
  return parseConfig(text, file, env);
}

/**
 * Validates config text. `file` names the source in messages and anchors relative paths.
 * @example parseConfig('services: { web: { targets: [127.0.0.1:3000] } }', '/etc/switchyard.yaml', {})
 */
export function parseConfig(text: string, file: string, env: Env = process.env): Config {
  const lines = new LineCounter();
  // merge: YAML `<<: *defaults` lets services share settings.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => ({
      path: '',
      line: lines.linePos(error.pos[0]).line,
      message: SYNTAX_MESSAGES[error.code] ?? error.message,
    }));
    throw new ConfigError('SY_ERR_CONFIG_SYNTAX', file, problems);
  }
  const problems: Array<ConfigProblem & { col?: number }> = [];
  const add = (path: string, message: string, at: Position | undefined): void => {
    problems.push(at ? { path, line: at.line, message, col: at.col } : { path, message });
  };
  const failed = new Set<string>();
  for (const problem of interpolateDocument(doc, env)) {
    const path = formatPath(problem.path);
    failed.add(path);
    add(path, problem.message, problem.offset === undefined ? undefined : lines.linePos(problem.offset));
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Alias bombs, unknown aliases, bad merge keys: the YAML is not data we can read.
    throw new ConfigError('SY_ERR_CONFIG_SYNTAX', file, [{ path: '', line: 1, message: `cannot read the YAML: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  if (data === null || data === undefined) {
    throw new ConfigError('SY_ERR_CONFIG_INVALID', file, [{ path: '', line: 1, message: 'the config is empty; it needs at least services' }]);
  }
  const result = configSchema.safeParse(data, { error: configErrorMap, reportInput: true });
  if (!result.success) {
    for (const problem of explainIssues(result.error.issues, configSchema)) {
      const path = formatPath(problem.path);
      // A value that could not be interpolated already has its problem; its raw text is no news.
      if (!failed.has(path)) add(path, problem.message, positionOf(doc, lines, problem.path));
    }
  }
  if (problems.length > 0 || !result.success) {
    throw new ConfigError('SY_ERR_CONFIG_INVALID', file, inFileOrder(problems));
  }
  return resolvePaths(result.data, dirname(resolve(file)));
}

// In the order they appear in the file, once each, like a compiler's diagnostics.
function inFileOrder(problems: ReadonlyArray<ConfigProblem & { col?: number }>): ConfigProblem[] {
  const sorted = [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  const unique = new Map(sorted.map(({ col: _col, ...p }) => [`${String(p.line)} ${p.path} ${p.message}`, p]));
  return [...unique.values()];
}

// Paths in the file mean "relative to this file", wherever the daemon was started from.
function resolvePaths(config: Config, dir: string): Config {
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(dir, path));
  const destination = config.proxy.accessLog.destination;
  const services = Object.fromEntries(
    Object.entries(config.services).map(([name, service]) => {
      const run = service.run ? { ...service.run, cwd: at(service.run.cwd ?? '.') } : undefined;
      const ca = service.upstreamTls?.ca;
      const upstreamTls = ca === undefined ? service.upstreamTls : { ...service.upstreamTls, ca: at(ca) };
      return [name, { ...service, run, upstreamTls }];
    }),
  );
  const listen = config.proxy.listen.map((listener) => {
    const { tls } = listener;
    if (tls === undefined) return listener;
    const certificates = tls.certificates.map((c) => ({ cert: at(c.cert), key: at(c.key), ocsp: c.ocsp === undefined ? undefined : at(c.ocsp) }));
    const directoryCa = tls.acme?.directoryCa;
    const acme = tls.acme && directoryCa !== undefined ? { ...tls.acme, directoryCa: at(directoryCa) } : tls.acme;
    return { ...listener, tls: { ...tls, certificates, acme } };
  });
  return {
    ...config,
    proxy: {
      ...config.proxy,
      listen,
      accessLog: {
        ...config.proxy.accessLog,
        destination: destination === 'stdout' || destination === 'stderr' || destination === 'auto' ? destination : at(destination),
      },
    },
    admin: config.admin.tokenFile === undefined ? config.admin : { ...config.admin, tokenFile: at(config.admin.tokenFile) },
    state: at(config.state),
    services,
  };
}
