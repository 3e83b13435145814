// `switchyard logs SERVICE [-f]`: the tail of each instance's output; -f polls every second and prints
// only new lines until Ctrl-C.
import { Command, InvalidArgumentError } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import type { LogsView } from '../api-types.js';
import { UnreachableError } from '../cli-error.js';
import { localLogs, localStateDir } from '../local-logs.js';
import type { InstanceLog } from '../../runtime/instance-logs.js';
import { newLogText } from '../follow/new-log-text.js';
import { sleep } from '../follow/sleep.js';

interface LogsOptions extends AdminOptions {
  instance?: string;
  follow?: boolean;
  bytes?: number;
}

export function logsCommand(): Command {
  return withAdminOptions(new Command('logs'))
    .description("the output of the service's instances (the latest eight); read from the state folder when no daemon runs")
    .argument('<service>', 'the service')
    .option('--instance <id>', 'only this instance, e.g. web-v3-1')
    .option('-f, --follow', 'keep printing new output until Ctrl-C')
    .option('--bytes <n>', 'how much of the end of each log (default 16384)', bytes)
    .action(async (service: string, options: LogsOptions) => {
      const source = new LogSource(service, options);
      // Without --instance, lines say whose they are, like `docker compose logs`.
      const printer = new LinePrinter(options.instance === undefined);
      const seen = new Map<string, string>();
      const stop = new AbortController();
      const onInterrupt = () => stop.abort();
      process.on('SIGINT', onInterrupt);
      try {
        do {
          const logs = await source.read(stop.signal).catch((err: unknown) => {
            if (stop.signal.aborted) return [];
            throw err;
          });
          for (const log of logs) {
            printer.write(log.instance, newLogText(seen.get(log.instance), log.text), options.follow === true);
            seen.set(log.instance, log.text);
          }
          if (options.follow) await sleep(1000, stop.signal);
        } while (options.follow && !stop.signal.aborted);
      } finally {
        process.off('SIGINT', onInterrupt);
        printer.flush();
      }
    });
}

/** The daemon's logs API; when no daemon answers, the log files in the config's state folder. */
class LogSource {
  private readonly client: AdminClient;
  private readonly path: string;
  private offline: string | undefined;

  constructor(
    private readonly service: string,
    private readonly options: LogsOptions,
  ) {
    this.client = AdminClient.from(options);
    const query = new URLSearchParams();
    if (options.instance !== undefined) query.set('instance', options.instance);
    if (options.bytes !== undefined) query.set('bytes', String(options.bytes));
    this.path = `/api/v1/services/${encodeURIComponent(service)}/logs?${query.toString()}`;
  }

  async read(signal: AbortSignal): Promise<InstanceLog[]> {
    if (this.offline === undefined) {
      try {
        return (await this.client.get<LogsView>(this.path, { signal })).logs;
      } catch (err) {
        const stateDir = err instanceof UnreachableError ? localStateDir(this.options.config) : undefined;
        if (stateDir === undefined) throw err;
        process.stderr.write(`switchyard: no daemon answers at ${this.client.target.url}; reading the log files in ${stateDir}\n`);
        this.offline = stateDir;
      }
    }
    return localLogs(this.offline, this.options.config, this.service, { instance: this.options.instance, bytes: this.options.bytes ?? 16384 });
  }
}

/** Prints text line by line with an optional instance prefix; while following, holds a partial last line. */
class LinePrinter {
  private readonly partial = new Map<string, string>();

  constructor(private readonly prefixed: boolean) {}

  write(instance: string, text: string, holdPartial: boolean): void {
    const all = (this.partial.get(instance) ?? '') + text;
    const cut = holdPartial ? all.lastIndexOf('\n') + 1 : all.length;
    this.partial.set(instance, all.slice(cut));
    const ready = all.slice(0, cut);
    if (ready === '') return;
    const lines = (ready.endsWith('\n') ? ready.slice(0, -1) : ready).split('\n');
    const prefix = this.prefixed ? `${instance} | ` : '';
    process.stdout.write(`${lines.map((line) => prefix + line).join('\n')}\n`);
  }

  flush(): void {
    for (const instance of this.partial.keys()) this.write(instance, '', false);
  }
}

function bytes(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new InvalidArgumentError('expected a whole number of bytes');
  return n;
}
