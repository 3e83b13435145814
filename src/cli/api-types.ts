// The shapes the admin API answers with, as the CLI reads them: the API's own view types, as JSON.
import type { deploymentView, eventView, serviceView } from '../api/views.js';

export type ServiceView = ReturnType<typeof serviceView>;
export type ReleaseView = ServiceView['releases'][number];
export type InstanceView = ReleaseView['instances'][number];
export type DeploymentView = ReturnType<typeof deploymentView>;
export type StepView = DeploymentView['steps'][number];
export type EventView = ReturnType<typeof eventView>;

/** GET /api/v1/deployments/:id: the view plus every event of the deployment. */
export interface DeploymentDetail extends DeploymentView {
  events: EventView[];
}

export interface LogsView {
  logs: { instance: string; state: string; text: string }[];
}

/** Deployment states after which nothing changes any more. */
export const FINAL_STATES: ReadonlySet<string> = new Set(['succeeded', 'rolled-back', 'failed']);
export type { CertificateView } from '../certificates/certificate-manager.js';
