// What every proxy worker is told of the config: where to listen, its limits, headers and access log.
import type { Config } from '../../config/index.js';
import { accessLogDestination } from '../access-log-destination.js';
import type { WorkerSettings } from '../ipc/messages.js';
import { listenSpecs } from '../listen-specs.js';

export function workerSettings(config: Config): WorkerSettings {
  const { limits, dropServerHeader, releaseHeader, accessLog } = config.proxy;
  // The keeper's stdout decides 'auto': a terminal gets the access log in the state folder, not on screen.
  const destination = accessLogDestination(config, process.stdout.isTTY === true);
  return { listen: listenSpecs(config), limits, dropServerHeader, releaseHeader, accessLog: { enabled: accessLog.enabled, destination } };
}
