// `switchyard up`: run the daemon in the foreground until SIGTERM/SIGINT; SIGHUP reloads the config.
import { Command } from 'commander';
import { Daemon } from '../../daemon/daemon.js';

export function upCommand(): Command {
  return new Command('up')
    .description('run the daemon in the foreground (proxy, admin API, each service)')
    .option('-c, --config <file>', 'config file', 'switchyard.yaml')
    .action(async (options: { config: string }) => {
      await up(options.config);
    });
}

export async function up(configFile: string): Promise<void> {
  const daemon = await Daemon.start({ configFile });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      daemon.log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    daemon.log.info({ signal }, 'received signal');
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        daemon.log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => daemon.reload());
}
