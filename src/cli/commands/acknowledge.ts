// `switchyard acknowledge SERVICE`: someone has seen the failed or rolled-back deployment; stop flagging it
// in `status` and on the dashboard (the same as the dashboard's Acknowledge button).
import { Command } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import type { LastDeploymentView } from '../api-types.js';

export function acknowledgeCommand(): Command {
  return withAdminOptions(new Command('acknowledge'))
    .description('clear the flag a failed or rolled-back deployment leaves on its service')
    .argument('<service>', 'the service whose last deployment was seen')
    .action(async (service: string, options: AdminOptions) => {
      const client = AdminClient.acting(options);
      const last = await client.post<LastDeploymentView>(`/api/v1/services/${encodeURIComponent(service)}/acknowledge`, {});
      console.log(`${service}: deployment ${last.id} (${last.state}) acknowledged`);
    });
}
