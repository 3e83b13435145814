// The shapes the admin API answers with, as the CLI reads them: the one declaration in src/api/wire.ts.
import type { DeploymentDetail } from '../api/wire.js';

export type {
  DeploymentDetail,
  DeploymentView,
  EventView,
  InstanceView,
  LastDeploymentView,
  ReleaseView,
  ServiceView,
  StepView,
} from '../api/wire.js';

export interface LogsView {
  logs: { instance: string; state: string; text: string }[];
}

/** Deployment states after which nothing changes any more. */
export const FINAL_STATES: ReadonlySet<string> = new Set<DeploymentDetail['state']>(['succeeded', 'rolled-back', 'failed']);
export type { CertificateView } from '../certificates/certificate-manager.js';
