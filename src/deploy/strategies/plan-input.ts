// What every strategy planner gets: plain numbers and settings, no processes or sockets.
import type { DeployConfig } from '../../config/index.js';

export interface PlanInput {
  /** Instances the stable release runs now (0 for a first deployment). */
  stableCount: number;
  /** Instances the target release should end with. */
  targetCount: number;
  deploy: DeployConfig;
  /** Rollbacks and `promote --full` skip pauses. */
  skipPauses: boolean;
}
