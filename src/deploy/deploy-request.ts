// Checks a deploy request (API body or CLI flags) field by field and resolves the release it asks for.
// Nothing is written until the request is valid, so a rejected deploy changes nothing.
import { existsSync } from 'node:fs';
import { checkHostPort, type DeployStrategy, type ServiceConfig } from '../config/index.js';
import type { ReleaseSpec } from '../store/index.js';
import { DeployError } from './errors.js';

export const VERSION_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables that make an interpreter or the dynamic linker run other code: an API caller may not set them. */
const LOADER_ENV =
  /^(LD_.*|DYLD_.*|NODE_OPTIONS|NODE_PATH|BASH_ENV|ENV|PATH|PYTHONPATH|PYTHONSTARTUP|PYTHONHOME|PERL5OPT|PERL5LIB|PERLLIB|RUBYOPT|RUBYLIB|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|SWITCHYARD_.*)$/i;
const STRATEGIES: readonly DeployStrategy[] = ['rolling', 'blue-green', 'canary'];

export interface DeployRequest {
  version: string;
  strategy?: DeployStrategy;
  env: Record<string, string>;
  targets?: string[];
}

/** Validates an untrusted body; every problem names its field. */
export function parseDeployRequest(body: unknown): DeployRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DeployError('invalid_field', 'the body must be a JSON object like {"version": "v2"}', 'body');
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!['version', 'strategy', 'env', 'targets'].includes(key)) throw new DeployError('invalid_field', `unknown field ${key}; expected version, strategy, env, targets`, key);
  }
  const { version, strategy, env, targets } = input;
  if (typeof version !== 'string' || !VERSION_LABEL.test(version)) {
    throw new DeployError('invalid_field', 'version must be a label like v2 or 2024.06.1 (letters, digits, . _ -, at most 64)', 'version');
  }
  if (strategy !== undefined && !STRATEGIES.includes(strategy as DeployStrategy)) {
    throw new DeployError('invalid_field', `strategy must be one of ${STRATEGIES.join(', ')}`, 'strategy');
  }
  const cleanEnv: Record<string, string> = {};
  if (env !== undefined) {
    if (typeof env !== 'object' || env === null || Array.isArray(env)) throw new DeployError('invalid_field', 'env must be an object of strings', 'env');
    for (const [key, value] of Object.entries(env)) {
      if (!ENV_NAME.test(key)) throw new DeployError('invalid_field', `${key} is not an environment variable name`, `env.${key}`);
      if (LOADER_ENV.test(key)) {
        throw new DeployError('invalid_field', `${key} changes how programs load code, so it cannot be set through the API; set it in the config's run.env`, `env.${key}`);
      }
      if (typeof value !== 'string') throw new DeployError('invalid_field', 'must be a string', `env.${key}`);
      cleanEnv[key] = value;
    }
  }
  let cleanTargets: string[] | undefined;
  if (targets !== undefined) {
    if (!Array.isArray(targets) || targets.length === 0) throw new DeployError('invalid_field', 'targets must be a non-empty list of host:port', 'targets');
    cleanTargets = targets.map((t: unknown, i) => {
      const problem = typeof t === 'string' ? checkHostPort(t, { allowPortZero: false }) : 'expected host:port';
      if (problem !== undefined) throw new DeployError('invalid_field', problem, `targets[${i}]`);
      return t as string;
    });
  }
  return { version, strategy: strategy as DeployStrategy | undefined, env: cleanEnv, targets: cleanTargets };
}

/** The release spec a request resolves to against the service's config ({version} substituted). */
export function releaseSpecFor(config: ServiceConfig, request: Pick<DeployRequest, 'version' | 'env' | 'targets'>): ReleaseSpec {
  if (config.targets !== undefined) {
    if (request.targets === undefined) throw new DeployError('invalid_field', 'this service runs elsewhere (targets); name the new instances with --target HOST:PORT', 'targets');
    if (Object.keys(request.env).length > 0) throw new DeployError('invalid_field', 'env applies to instances switchyard starts; this service has static targets', 'env');
    return { kind: 'static', targets: request.targets };
  }
  const run = config.run!;
  if (request.targets !== undefined) throw new DeployError('invalid_field', 'this service starts its own instances (run); targets are only for services with static targets', 'targets');
  const sub = (text: string) => text.replaceAll('{version}', request.version);
  const cwd = sub(run.cwd ?? process.cwd());
  if (!existsSync(cwd)) throw new DeployError('invalid_field', `the release directory ${cwd} does not exist`, 'version');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(run.env)) env[key] = sub(value);
  return {
    kind: 'process',
    command: typeof run.command === 'string' ? sub(run.command) : run.command.map(sub),
    cwd,
    env: { ...env, ...request.env },
  };
}

/**
 * How many instances a release should run: its targets, or the count (`scale`'s, else the config's),
 * times the live hosts when the service places that many on every host.
 */
export function instanceCount(config: ServiceConfig, spec: ReleaseSpec, scaled: number | undefined, hosts = 1): number {
  return spec.kind === 'static' ? spec.targets.length : processCount(config, scaled, hosts);
}

/** The instances of a service switchyard runs: the count, times the live hosts with placement perHost. */
export function processCount(config: ServiceConfig, scaled: number | undefined, hosts = 1): number {
  return (scaled ?? config.instances) * (config.placement === 'perHost' ? Math.max(1, hosts) : 1);
}
