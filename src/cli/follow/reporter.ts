// What a follower tells its output as a deployment goes on: the live view, plain lines, or nothing (--json).
import type { DeploymentDetail, EventView, ServiceView } from '../api-types.js';

export interface Reporter {
  /** An authoritative snapshot, after every poll; `service` only when the reporter asked for it. */
  update(deployment: DeploymentDetail, service: ServiceView | undefined): void;
  /** An event of the deployment or of its service's instances: each once, in order. */
  event(event: EventView): void;
  /** Following is over (finished or interrupted): leave the screen tidy. */
  end(): void;
  /** Whether snapshots should carry the service view (traffic split, instance health). */
  readonly wantsService: boolean;
}

export const silentReporter: Reporter = { update: () => {}, event: () => {}, end: () => {}, wantsService: false };
