// `switchyard up`: run the daemon in the foreground until SIGTERM/SIGINT; SIGHUP reloads the config.
// Its log is human lines on a terminal and JSON lines otherwise (or as --log-format says).
import { Command, Option } from 'commander';
import pino, { type Logger } from 'pino';
import { Daemon } from '../../daemon/daemon.js';
import { chooseLogFormat, humanLogStream } from '../log-format.js';
import { terminal } from '../render/style.js';

interface UpOptions {
  config: string;
  logFormat?: string;
}

export function upCommand(): Command {
  return new Command('up')
    .description('run the daemon in the foreground (proxy, admin API, each service)')
    .option('-c, --config <file>', 'config file', 'switchyard.yaml')
    .addOption(new Option('--log-format <format>', 'human lines or JSON lines (default: human on a terminal, else json)').choices(['human', 'json']))
    .action(async (options: UpOptions) => {
      await up(options.config, daemonLogger(options.logFormat));
    });
}

/** The daemon's logger on stderr, in the format the operator reads best. */
export function daemonLogger(chosen: string | undefined): Logger {
  if (chooseLogFormat(chosen, process.stderr) === 'json') return pino({ base: null }, pino.destination(2));
  return pino({ base: null }, humanLogStream(process.stderr, { color: terminal(process.stderr).color }));
}

export async function up(configFile: string, logger?: Logger): Promise<void> {
  const daemon = await Daemon.start({ configFile, logger });
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
