// Command-line flags of `npm run bench:proxy` and their defaults, in one place.
import { parseArgs } from 'node:util';
import type { AccessLogMode } from './configs.js';
import type { LoadTool } from './load.js';
import { TARGET_NAMES, type TargetName } from './targets.js';

export interface BenchOptions {
  /** Seconds per measured run. */
  durationS: number;
  connections: number;
  /** wrk threads (autocannon ignores this). */
  threads: number;
  rounds: number;
  /** Seconds of unmeasured load per target before round 1, so JITs and pools are warm. */
  warmupS: number;
  targets: TargetName[];
  profile: boolean;
  switchyardCli: string;
  /** Forces a load generator; undefined picks wrk when installed. */
  loadTool: LoadTool | undefined;
  accessLog: AccessLogMode;
  /** Requests/s of the fixed-rate runs; undefined: half of switchyard's median full-load rps. */
  rate: number | undefined;
  /** Keep-alive clients held open for the memory figure; 0 skips it. */
  idleClients: number;
  help: boolean;
}

export const DEFAULTS = {
  durationS: 10,
  connections: 50,
  threads: 2,
  rounds: 3,
  warmupS: 3,
  switchyardCli: 'dist/cli/main.js',
  idleClients: 10_000,
} as const;

/** `--quick`: enough to smoke-test the harness, not to quote numbers from. */
const QUICK = { durationS: 3, rounds: 1, warmupS: 1, idleClients: 1000 } as const;

export const USAGE = `usage: npm run bench:proxy -- [flags]
  --duration <s>        seconds per measured run (default ${DEFAULTS.durationS})
  --connections <n>     concurrent connections (default ${DEFAULTS.connections})
  --threads <n>         wrk threads (default ${DEFAULTS.threads})
  --rounds <n>          interleaved rounds over all targets; medians are reported (default ${DEFAULTS.rounds})
  --warmup <s>          unmeasured load per target before round 1 (default ${DEFAULTS.warmupS})
  --quick               ${QUICK.durationS} s runs, ${QUICK.rounds} round, ${QUICK.warmupS} s warm-up (explicit flags still win)
  --targets <list>      comma-separated subset of ${TARGET_NAMES.join(',')} (default all)
  --profile             run switchyard under --cpu-prof and print its top 25 self-time functions
  --switchyard-cli <p>  switchyard entry point (default ${DEFAULTS.switchyardCli})
  --load-tool <t>       wrk or autocannon (default wrk when installed)
  --access-log <mode>   off (default), file (switchyard and nginx log each request to a file) or
                        default (switchyard's default config: JSON access log to stdout; nginx as file)
  --rate <rps>          rate of the fixed-rate runs (default half of switchyard's median full-load rps)
  --idle-clients <n>    keep-alive clients held open for the memory figure, 0 to skip (default ${DEFAULTS.idleClients})`;

/**
 * Parses argv (without node and script).
 * @example parseOptions(['--quick', '--targets', 'direct,nginx'])
 */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      targets: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'switchyard-cli': { type: 'string' },
      'load-tool': { type: 'string' },
      'access-log': { type: 'string' },
      rate: { type: 'string' },
      'idle-clients': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const base = values.quick ? { ...DEFAULTS, ...QUICK } : DEFAULTS;
  return {
    durationS: positiveInt('--duration', values.duration, base.durationS),
    connections: positiveInt('--connections', values.connections, base.connections),
    threads: positiveInt('--threads', values.threads, base.threads),
    rounds: positiveInt('--rounds', values.rounds, base.rounds),
    warmupS: nonNegativeInt('--warmup', values.warmup, base.warmupS),
    targets: targetList(values.targets),
    profile: values.profile,
    switchyardCli: values['switchyard-cli'] ?? base.switchyardCli,
    loadTool: loadTool(values['load-tool']),
    accessLog: accessLogMode(values['access-log']),
    rate: values.rate === undefined ? undefined : positiveInt('--rate', values.rate, 1),
    idleClients: nonNegativeInt('--idle-clients', values['idle-clients'], base.idleClients),
    help: values.help,
  };
}

function positiveInt(flag: string, raw: string | undefined, fallback: number): number {
  const value = nonNegativeInt(flag, raw, fallback);
  if (value === 0) throw new Error(`${flag}: must be at least 1`);
  return value;
}

function nonNegativeInt(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${flag}: "${raw}" is not a whole number; e.g. ${flag} ${fallback}`);
  return Number(raw);
}

function loadTool(raw: string | undefined): LoadTool | undefined {
  if (raw === undefined || raw === 'wrk' || raw === 'autocannon') return raw;
  throw new Error(`--load-tool: "${raw}" is not wrk or autocannon`);
}

function accessLogMode(raw: string | undefined): AccessLogMode {
  if (raw === undefined || raw === 'off' || raw === 'file' || raw === 'default') return raw ?? 'off';
  throw new Error(`--access-log: "${raw}" is not off, file or default`);
}

function targetList(raw: string | undefined): TargetName[] {
  if (raw === undefined) return [...TARGET_NAMES];
  const names = raw.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(TARGET_NAMES as readonly string[]).includes(name)) {
      throw new Error(`--targets: unknown target "${name}"; choose from ${TARGET_NAMES.join(', ')}`);
    }
  }
  return names as TargetName[];
}
