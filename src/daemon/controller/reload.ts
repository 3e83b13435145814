// A reload as every control plane does it: read the file again (an invalid one changes nothing), say
// what changed and by when, and hand the new settings to the proxy workers and the keeper. Each plane
// then applies what is its own (its controller, the services it runs).
import type { Logger } from 'pino';
import type { ReloadSummary } from '../../api/wire.js';
import { ConfigError, loadConfig, type Config } from '../../config/index.js';
import type { FromController } from '../ipc/messages.js';
import { reloadSummary } from '../reload-summary.js';
import type { WorkerFleet } from './worker-fleet.js';
import { workerSettings } from './worker-settings.js';

export interface ReloadSource {
  configFile: string;
  env?: NodeJS.ProcessEnv;
  send: (message: FromController) => void;
}

export function reloadConfig(before: Config, source: ReloadSource, fleet: WorkerFleet, log: Logger): { next: Config; summary: ReloadSummary } | { problems: string } {
  let next: Config;
  try {
    next = loadConfig(source.configFile, source.env);
  } catch (err) {
    const problems = err instanceof ConfigError ? err.message : String(err);
    log.error({ problems }, 'reload refused: the config is invalid; the running config stays');
    return { problems };
  }
  fleet.updateSettings(workerSettings(next));
  source.send({ t: 'config', config: next });
  return { next, summary: reloadSummary(before, next) };
}
