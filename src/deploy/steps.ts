// The steps a deployment is made of: plain data, written to the store before each is run. `target` is
// the release being deployed, `stable` the one serving before it.

export type ReleaseRole = 'target' | 'stable';

/** Instances in rotation per release; 'all' means every ready instance of that release. */
export type RotationCount = number | 'all';

export type Weights =
  /** Each instance in rotation gets an equal share (rolling). */
  | { mode: 'instances' }
  /** Fixed percentages per release (canary, blue-green switch); applies to unpinned traffic. */
  | { mode: 'percent'; target: number };

export type Step =
  | { kind: 'hook'; hook: 'preDeploy' | 'postDeploy' }
  /** Start instances of a release and wait until they are healthy; they are not in rotation yet. */
  | { kind: 'start'; release: ReleaseRole; count: number }
  /** Set the whole traffic split of the service in one table swap. */
  | {
      kind: 'route';
      rotation: { target: RotationCount; stable: RotationCount };
      weights: Weights;
      /** Target reachable only with the preview header (blue-green before the switch). */
      preview: boolean;
      /** Canary tester routes (canary.route) send matching requests to the target at any weight. */
      testers?: boolean;
    }
  /** Drain and stop instances of a release that are out of rotation. */
  | { kind: 'stop'; release: ReleaseRole; count: number | 'all' }
  /** Wait: a duration, or until `promote` when durationMs is null. */
  | { kind: 'pause'; durationMs: number | null; reason: string }
  /** The target becomes the service's stable release. */
  | { kind: 'promote' }
  /** Blue-green: keep the old fleet running out of rotation for a while, so a rollback is one swap. */
  | { kind: 'standby'; delayMs: number }
  /**
   * Canary analysis at the current weight: a verdict every interval (canary vs stable, same window)
   * for durationMs, or until promote when null; a failing verdict rolls back.
   */
  | { kind: 'analysis'; durationMs: number | null; weight: number };

/** The version labels a description names: `v2` reads better than "the target release". */
export interface StepNames {
  target: string;
  stable: string;
}

const UNNAMED: StepNames = { target: 'the new release', stable: 'the old release' };

/** The names for a deployment from `stable` to `target`; the release numbers tell apart two of one label. */
export function stepNames(target: { version: string; number: number } | null, stable: { version: string; number: number } | null): StepNames {
  if (target && stable && target.version === stable.version) {
    return { target: `${target.version} (release ${target.number})`, stable: `${stable.version} (release ${stable.number})` };
  }
  return { target: target?.version ?? UNNAMED.target, stable: stable?.version ?? UNNAMED.stable };
}

/**
 * What a step does, in words for the person watching the deployment.
 * @example describeStep({ kind: 'stop', release: 'stable', count: 1 }, { target: 'v2', stable: 'v1' }) // 'drain and stop 1 instance of v1'
 */
export function describeStep(step: Step, names: StepNames = UNNAMED): string {
  switch (step.kind) {
    case 'hook':
      return `run the ${step.hook} hook`;
    case 'start':
      return step.count === 1
        ? `start 1 instance of ${names[step.release]} and wait until it is healthy`
        : `start ${step.count} instances of ${names[step.release]} and wait until they are healthy`;
    case 'route':
      return describeRoute(step, names);
    case 'stop':
      return step.count === 'all' ? `drain and stop the remaining instances of ${names[step.release]}` : `drain and stop ${instances(step.count)} of ${names[step.release]}`;
    case 'pause':
      return step.durationMs === null ? `wait for \`switchyard promote\` (${step.reason})` : `wait ${duration(step.durationMs)} (${step.reason})`;
    case 'promote':
      return `make ${names.target} the stable release`;
    case 'standby':
      return `keep ${names.stable} running out of rotation for ${duration(step.delayMs)}, so a rollback is instant; then stop it`;
    case 'analysis': {
      const how = `comparing its errors and latency with ${names.stable}`;
      return step.durationMs === null
        ? `watch ${names.target} at ${step.weight}% of traffic until promoted, ${how}`
        : `watch ${names.target} at ${step.weight}% of traffic for ${duration(step.durationMs)}, ${how}`;
    }
  }
}

function describeRoute(step: Extract<Step, { kind: 'route' }>, names: StepNames): string {
  const { target, stable } = step.rotation;
  if (step.preview) return `let requests with the preview header reach ${names.target}; ${names.stable} keeps all other traffic`;
  if (step.weights.mode === 'percent') {
    const share = step.weights.target;
    const split = share >= 100 ? `send all traffic to ${names.target}` : share <= 0 ? `send all traffic to ${names.stable}` : `send ${share}% of traffic to ${names.target} and ${100 - share}% to ${names.stable}`;
    return step.testers ? `${split}; requests matching canary.route always reach ${names.target}` : split;
  }
  if (stable === 0) return `serve only from ${names.target}${target === 'all' ? '' : ` (${instances(target)})`}`;
  if (target === 0) return `serve only from ${names.stable}${stable === 'all' ? '' : ` (${instances(stable)})`}`;
  return `serve from ${count(target)} of ${names.target} and ${count(stable)} of ${names.stable}`;
}

function instances(n: number): string {
  return `${n} instance${n === 1 ? '' : 's'}`;
}

function count(n: RotationCount): string {
  return n === 'all' ? 'all instances' : instances(n);
}

/** `30 s`, `5 min`, `1 h 30 min`. */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  return min < 120 ? `${min} min` : `${Math.floor(min / 60)} h${min % 60 === 0 ? '' : ` ${min % 60} min`}`;
}
