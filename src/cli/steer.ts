// The commands that steer a running deployment (promote, pause, resume, abort): one POST, one line back.
import { AdminClient, type AdminOptions } from './admin-client.js';
import type { DeploymentView } from './api-types.js';

export type Verb = 'promote' | 'pause' | 'resume' | 'abort';

export async function steer(service: string, verb: Verb, options: AdminOptions, body: Record<string, unknown> = {}): Promise<DeploymentView> {
  const client = AdminClient.acting(options);
  return client.post<DeploymentView>(`/api/v1/services/${encodeURIComponent(service)}/${verb}`, body);
}
