// The one error loading a config throws. It carries every problem found, each with its place,
// so `switchyard validate` can print them all at once, one per line, like a compiler.

export type ConfigErrorCode =
  /** The file could not be read. */
  | 'SY_ERR_CONFIG_UNREADABLE'
  /** The file is not well-formed YAML. */
  | 'SY_ERR_CONFIG_SYNTAX'
  /** The YAML does not describe a valid config. */
  | 'SY_ERR_CONFIG_INVALID';

export interface ConfigProblem {
  /** Dotted path of the offending key, e.g. `services.web.health.interval`; empty for the file itself. */
  path: string;
  /** 1-based line in the config file, when known. */
  line?: number;
  message: string;
}

/**
 * @example
 * switchyard.yaml:14: services.web.health.interval: "1 sec" is not a duration; use e.g. 500ms, 10s, 5m
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(code: ConfigErrorCode, file: string, problems: readonly ConfigProblem[]) {
    super(problems.map((problem) => formatProblem(file, problem)).join('\n'));
    this.code = code;
    this.file = file;
    this.problems = problems;
  }

  /** One problem per line, without an "Error:" prefix, ready to print. */
  override toString(): string {
    return this.message;
  }
}

/** `FILE:LINE: PATH: MESSAGE`, leaving out the parts that are unknown. */
export function formatProblem(file: string, problem: ConfigProblem): string {
  const place = problem.line === undefined ? file : `${file}:${String(problem.line)}`;
  return problem.path === '' ? `${place}: ${problem.message}` : `${place}: ${problem.path}: ${problem.message}`;
}

/** Writes a path as people read it: `services.web.deploy.canary.steps[1].weight`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${String(segment)}]`;
    else if (typeof segment === 'string' && /^[\w-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}
