// `switchyard up`: run the daemon in the foreground until SIGTERM/SIGINT; SIGHUP reloads the config.
// This process becomes the keeper; the controller and the proxy workers are its children.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import pino from 'pino';
import { Keeper } from '../../daemon/keeper/keeper.js';

export function upCommand(): Command {
  return new Command('up')
    .description('run the daemon in the foreground (proxy, admin API, each service)')
    .option('-c, --config <file>', 'config file', 'switchyard.yaml')
    .action(async (options: { config: string }) => {
      await up(options.config);
    });
}

/** The installed switchyard's version, as package.json says. */
export function switchyardVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function up(configFile: string): Promise<void> {
  const log = pino({ base: null }, pino.destination(2));
  const keeper = await Keeper.start({ configFile, log, version: switchyardVersion() });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now; app instances keep running for the next daemon to adopt');
      keeper.kill();
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'received signal');
    keeper.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => keeper.reload());
  // For service managers (systemd's ExecReload can send it): the same as `switchyard upgrade`.
  process.on('SIGUSR2', () => void keeper.upgrade());
}
