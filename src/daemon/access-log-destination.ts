// Where the per-request access log goes. `auto` keeps it out of an operator's terminal (a file in the state
// folder) and on stdout for a service manager or container that collects it; anything else is as configured.
import { join } from 'node:path';
import type { Config } from '../config/index.js';

/**
 * @example accessLogDestination(config, process.stdout.isTTY === true) // '/srv/app/.switchyard/access.log' on a terminal
 */
export function accessLogDestination(config: Pick<Config, 'proxy' | 'state'>, stdoutIsTerminal: boolean): string {
  const { destination } = config.proxy.accessLog;
  if (destination !== 'auto') return destination;
  return stdoutIsTerminal ? join(config.state, 'access.log') : 'stdout';
}
