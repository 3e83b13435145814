// The deploy schedule: good releases cycling rolling, blue-green and canary, with the faults woven in,
// switchyard's own upgrade and a controller crash among them.
// Pure: `schedule(n)` is the same list every time, so a short run is the first items of a long one.

export type ScenarioKind =
  | 'rolling'
  /** A rolling deploy during which switchyard itself is upgraded (a new generation takes the sockets). */
  | 'rolling-upgrade'
  /** A switchyard upgrade on its own, between deploys: no deployment. */
  | 'upgrade'
  /** A rolling deploy whose controller process gets SIGKILL at a stop step (draining an old instance). */
  | 'controller-sigkill'
  | 'blue-green'
  | 'canary'
  /** A rollback right after a blue-green switch: the old fleet is still on standby, so it is one swap. */
  | 'rollback'
  /** A canary whose release answers 30% of requests with 500: the analysis must roll it back. */
  | 'canary-injected'
  /** A rolling deploy during which a serving instance gets SIGKILL. */
  | 'rolling-sigkill'
  /** A release whose health check never passes (HEALTHY=0): it must never get a request. */
  | 'never-healthy'
  /** A canary paused at its first step, then aborted: how fast is stable back at 100%? */
  | 'canary-abort';

export interface Scenario {
  /** 0-based position in the run. */
  index: number;
  kind: ScenarioKind;
  /** null for an upgrade on its own. */
  strategy: 'rolling' | 'blue-green' | 'canary' | null;
  /** The version label to deploy; null for a rollback (it goes back to the previous release) or an upgrade. */
  version: string | null;
  env: Record<string, string>;
  /** The final state the deployment must reach; `upgraded` for an upgrade on its own. */
  expect: 'succeeded' | 'rolled-back' | 'upgraded';
  /** True for the faults; false for good releases. */
  fault: boolean;
}

/**
 * One cycle; a run of n deploys is the first n items of this cycle repeated. The CI run (6) holds the
 * faults that must never reach a client: an upgrade mid-deploy, a failing canary, a never-healthy
 * release and a controller crash; the default run (7) adds an upgrade on its own.
 */
export const CYCLE: readonly ScenarioKind[] = [
  'rolling-upgrade',
  'blue-green',
  'rollback',
  'canary-injected',
  'never-healthy',
  'controller-sigkill',
  'upgrade',
  'canary',
  'rolling-sigkill',
  'blue-green',
  'canary-abort',
  'rolling',
];

const STRATEGY: Record<ScenarioKind, Scenario['strategy']> = {
  rolling: 'rolling',
  'rolling-upgrade': 'rolling',
  upgrade: null,
  'controller-sigkill': 'rolling',
  'blue-green': 'blue-green',
  canary: 'canary',
  rollback: 'blue-green',
  'canary-injected': 'canary',
  'rolling-sigkill': 'rolling',
  'never-healthy': 'rolling',
  'canary-abort': 'canary',
};

const ENV: Partial<Record<ScenarioKind, Record<string, string>>> = {
  'canary-injected': { FAILURE_RATE: '0.3' },
  'never-healthy': { HEALTHY: '0' },
};

const SUFFIX: Partial<Record<ScenarioKind, string>> = { 'canary-injected': '-bad', 'never-healthy': '-unhealthy' };
const ROLLED_BACK: readonly ScenarioKind[] = ['canary-injected', 'never-healthy', 'canary-abort'];

/**
 * The first `n` scenarios. Version labels count up from v2 (v1 is the release `up` starts with).
 * @example schedule(3).map((s) => s.kind) // ['rolling', 'blue-green', 'rollback']
 */
export function schedule(n: number): Scenario[] {
  const out: Scenario[] = [];
  for (let index = 0; index < n; index++) {
    const kind = CYCLE[index % CYCLE.length]!;
    out.push({
      index,
      kind,
      strategy: STRATEGY[kind],
      version: kind === 'rollback' || kind === 'upgrade' ? null : `v${index + 2}${SUFFIX[kind] ?? ''}`,
      env: ENV[kind] ?? {},
      expect: kind === 'upgrade' ? 'upgraded' : ROLLED_BACK.includes(kind) ? 'rolled-back' : 'succeeded',
      fault: !['rolling', 'blue-green', 'canary'].includes(kind),
    });
  }
  return out;
}

/** "deploy 9: rolling-sigkill, v10 by rolling" */
export function describeScenario(s: Scenario): string {
  if (s.kind === 'upgrade') return `deploy ${s.index + 1}: a switchyard upgrade on its own (no deployment)`;
  const what = s.version === null ? 'rollback to the previous release' : `${s.version} by ${s.strategy}`;
  return `deploy ${s.index + 1}: ${s.kind === s.strategy ? '' : `${s.kind}, `}${what}`;
}
