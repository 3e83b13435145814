// `switchyard up`: run the daemon in the foreground until SIGTERM/SIGINT; SIGHUP reloads the config,
// SIGUSR2 upgrades it. This process becomes the keeper; the controller and the proxy workers are its
// children. Its log (and theirs) is human lines on a terminal and JSON lines otherwise (--log-format).
import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import pino, { type Logger } from 'pino';
import { Keeper } from '../../daemon/keeper/keeper.js';
import { chooseLogFormat, humanLogStream } from '../log-format.js';
import { terminal } from '../render/style.js';
import { SWITCHYARD_VERSION } from '../../version.js';

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
      await up(options.config, options.logFormat);
    });
}

/** A stream for one process's JSON log lines, in the format the operator reads best (null: as they are). */
export function logSink(chosen: string | undefined): (() => Writable) | null {
  if (chooseLogFormat(chosen, process.stderr) === 'json') return null;
  return () => humanLogStream(process.stderr, { color: terminal(process.stderr).color });
}

export async function up(configFile: string, logFormat?: string): Promise<void> {
  const sink = logSink(logFormat);
  const log: Logger = sink === null ? pino({ base: null }, pino.destination(2)) : pino({ base: null }, sink());
  const keeper = await Keeper.start({ configFile, log, version: SWITCHYARD_VERSION, childLog: sink });
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
