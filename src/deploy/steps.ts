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

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'hook':
      return `run the ${step.hook} hook`;
    case 'start':
      return `start ${step.count} ${step.release} instance${step.count === 1 ? '' : 's'} and wait until healthy`;
    case 'route': {
      const split = step.weights.mode === 'instances' ? 'by instance count' : `${100 - step.weights.target}/${step.weights.target} stable/target`;
      return `route: ${fmt(step.rotation.stable)} stable + ${fmt(step.rotation.target)} target in rotation, ${split}${step.preview ? ', target on preview header' : ''}`;
    }
    case 'stop':
      return `drain and stop ${step.count === 'all' ? 'all' : step.count} ${step.release} instance${step.count === 1 ? '' : 's'} out of rotation`;
    case 'pause':
      return step.durationMs === null ? `pause until promoted (${step.reason})` : `pause ${Math.round(step.durationMs / 1000)} s (${step.reason})`;
    case 'promote':
      return 'make the target the stable release';
    case 'standby':
      return `keep the old release ${Math.round(step.delayMs / 1000)} s for an instant rollback, then stop it`;
    case 'analysis':
      return step.durationMs === null
        ? `analyse the canary at ${step.weight}% until promoted`
        : `analyse the canary at ${step.weight}% for ${Math.round(step.durationMs / 1000)} s`;
  }
}

function fmt(count: RotationCount): string {
  return count === 'all' ? 'all' : String(count);
}
