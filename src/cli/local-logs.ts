// `switchyard logs` without a running daemon: the config names the state folder, whose database names
// the instances and whose logs/ folder holds what they printed.
import { existsSync } from 'node:fs';
import { closest, loadConfig } from '../config/index.js';
import { readInstanceLogs, type InstanceLog } from '../runtime/instance-logs.js';
import { instancesForLogs, StoreError } from '../store/index.js';
import { CliError } from './cli-error.js';
import { EXIT_USAGE } from './exit-codes.js';

export interface LocalLogsOptions {
  instance?: string;
  bytes: number;
}

/** The state folder of the config the command would use (-c, else ./switchyard.yaml), if there is one. */
export function localStateDir(configFile: string | undefined): string | undefined {
  const file = configFile ?? 'switchyard.yaml';
  return existsSync(file) ? loadConfig(file).state : undefined;
}

/** Reads the latest instances' logs of a service straight from the state folder. */
export async function localLogs(stateDir: string, configFile: string | undefined, service: string, options: LocalLogsOptions): Promise<InstanceLog[]> {
  const services = Object.keys(loadConfig(configFile ?? 'switchyard.yaml').services);
  if (!services.includes(service)) {
    const guess = closest(service, services);
    throw new CliError(`no service named ${service}${guess === undefined ? '' : `; did you mean ${guess}?`}`, EXIT_USAGE);
  }
  let rows;
  try {
    rows = instancesForLogs(stateDir, service);
  } catch (err) {
    if (err instanceof StoreError) throw new CliError(err.message, EXIT_USAGE);
    throw err;
  }
  const wanted = rows.filter((row) => options.instance === undefined || row.id === options.instance);
  if (options.instance !== undefined && wanted.length === 0) throw new CliError(`${service} has no instance ${options.instance}`, EXIT_USAGE);
  return readInstanceLogs(stateDir, wanted, options.bytes);
}
