// Command-line flags of `npm run bench:zero-downtime` and their defaults, in one place.
import { parseArgs } from 'node:util';

export const TARGETS = ['switchyard', 'naive', 'pm2', 'restart'] as const;
export type TargetName = (typeof TARGETS)[number];
/** The deploy cycle compares with an app restarted naively and `pm2 reload`. */
const DEPLOY_TARGETS: readonly TargetName[] = ['switchyard', 'naive', 'pm2'];
/** The upgrade run compares with today's daemon restart (SIGTERM + `up`) and `pm2 update`. */
const UPGRADE_TARGETS: readonly TargetName[] = ['switchyard', 'restart', 'pm2'];

export interface Options {
  /** Deployments in the switchyard cycle (faults included). */
  deploys: number;
  /** The upgrade run: this many switchyard upgrades in a row instead of the deploy cycle; null for the cycle. */
  upgrades: number | null;
  /** Restarts / reloads / updates for the baselines. */
  compareDeploys: number;
  targets: TargetName[];
  warmupS: number;
  /** Steady-state window before the first deploy and after the last. */
  steadyS: number;
  getRate: number;
  switchyardCli: string;
  /** Results file; default bench/results/zero-downtime-<timestamp>.json. */
  out: string | undefined;
  help: boolean;
}

export const DEFAULTS = { deploys: 7, warmupS: 3, steadyS: 10, getRate: 300, switchyardCli: 'dist/cli/main.js', maxCompareDeploys: 10 } as const;

export const USAGE = `usage: npm run bench:zero-downtime -- [flags]
  --deploys <n>          switchyard deployments, cycling rolling, blue-green, canary and the faults, switchyard
                         upgrades and a controller SIGKILL among them (default ${DEFAULTS.deploys})
  --upgrades <n>         instead of the deploy cycle: n switchyard upgrades in a row, beside today's restart
                         (SIGTERM + up) and pm2 update
  --compare-deploys <n>  restarts for the baselines (default: --deploys or --upgrades, at most ${DEFAULTS.maxCompareDeploys})
  --targets <list>       comma-separated subset of ${DEPLOY_TARGETS.join(',')}, or with --upgrades of ${UPGRADE_TARGETS.join(',')}
                         (default all of them)
  --no-compare           switchyard only (same as --targets switchyard)
  --warmup <s>           unmeasured load before the steady window (default ${DEFAULTS.warmupS})
  --steady <s>           steady-state window before the first and after the last deploy (default ${DEFAULTS.steadyS})
  --get-rate <n>         keep-alive GETs per second (default ${DEFAULTS.getRate})
  --switchyard-cli <p>   switchyard entry point (default ${DEFAULTS.switchyardCli})
  --out <file>           results JSON (default bench/results/zero-downtime-<timestamp>.json)`;

/**
 * Parses argv (without node and script).
 * @example parseOptions(['--deploys', '100']).compareDeploys // 10
 */
export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      deploys: { type: 'string' },
      upgrades: { type: 'string' },
      'compare-deploys': { type: 'string' },
      targets: { type: 'string' },
      'no-compare': { type: 'boolean', default: false },
      warmup: { type: 'string' },
      steady: { type: 'string' },
      'get-rate': { type: 'string' },
      'switchyard-cli': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const deploys = whole('--deploys', values.deploys, DEFAULTS.deploys, 1);
  const upgrades = values.upgrades === undefined ? null : whole('--upgrades', values.upgrades, 1, 1);
  if (upgrades !== null && values.deploys !== undefined) throw new Error('--upgrades and --deploys: choose one (the upgrade run has no deploys)');
  return {
    deploys,
    upgrades,
    compareDeploys: whole('--compare-deploys', values['compare-deploys'], Math.min(upgrades ?? deploys, DEFAULTS.maxCompareDeploys), 1),
    targets: values['no-compare'] ? ['switchyard'] : targetList(values.targets, upgrades === null ? DEPLOY_TARGETS : UPGRADE_TARGETS, upgrades === null ? '' : ' with --upgrades'),
    warmupS: whole('--warmup', values.warmup, DEFAULTS.warmupS, 0),
    steadyS: whole('--steady', values.steady, DEFAULTS.steadyS, 2),
    getRate: whole('--get-rate', values['get-rate'], DEFAULTS.getRate, 10),
    switchyardCli: values['switchyard-cli'] ?? DEFAULTS.switchyardCli,
    out: values.out,
    help: values.help,
  };
}

function whole(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${flag}: expected a whole number of at least ${min}, got "${raw}"`);
  return value;
}

function targetList(raw: string | undefined, allowed: readonly TargetName[], mode: string): TargetName[] {
  if (raw === undefined) return [...allowed];
  const names = raw.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!(allowed as readonly string[]).includes(name)) throw new Error(`--targets: unknown target "${name}"${mode}; choose from ${allowed.join(', ')}`);
  }
  return names as TargetName[];
}
