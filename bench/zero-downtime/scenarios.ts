// The deploy schedule: good releases cycling rolling, blue-green and canary, with the faults woven in.
// Pure: `schedule(n)` is the same list every time, so a short run is the first items of a long one.

export type ScenarioKind =
  | 'rolling'
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
  strategy: 'rolling' | 'blue-green' | 'canary';
  /** The version label to deploy; null for a rollback (it goes back to the previous release). */
  version: string | null;
  env: Record<string, string>;
  /** The final state the deployment must reach. */
  expect: 'succeeded' | 'rolled-back';
  /** True for the faults; false for good releases. */
  fault: boolean;
}

/**
 * One cycle; a run of n deploys is the first n items of this cycle repeated. The default short run
 * (5) holds both faults that must never reach a client: a failing canary and a never-healthy release.
 */
export const CYCLE: readonly ScenarioKind[] = [
  'rolling',
  'blue-green',
  'rollback',
  'canary-injected',
  'never-healthy',
  'canary',
  'rolling-sigkill',
  'blue-green',
  'canary-abort',
  'canary',
];

const STRATEGY: Record<ScenarioKind, Scenario['strategy']> = {
  rolling: 'rolling',
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
      version: kind === 'rollback' ? null : `v${index + 2}${SUFFIX[kind] ?? ''}`,
      env: ENV[kind] ?? {},
      expect: kind === 'canary-injected' || kind === 'never-healthy' || kind === 'canary-abort' ? 'rolled-back' : 'succeeded',
      fault: !['rolling', 'blue-green', 'canary'].includes(kind),
    });
  }
  return out;
}

/** "3 rolling-sigkill v5 (rolling)" */
export function describeScenario(s: Scenario): string {
  const what = s.version === null ? 'rollback to the previous release' : `${s.version} by ${s.strategy}`;
  return `deploy ${s.index + 1}: ${s.kind === s.strategy ? '' : `${s.kind}, `}${what}`;
}
