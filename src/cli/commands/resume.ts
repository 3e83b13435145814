// `switchyard resume SERVICE`: let a paused deployment go on.
import { Command } from 'commander';
import type { AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import { steer } from '../steer.js';

export function resumeCommand(): Command {
  return withAdminOptions(new Command('resume'))
    .description('continue a deployment held by pause')
    .argument('<service>', 'the service whose deployment to resume')
    .action(async (service: string, options: AdminOptions) => {
      const d = await steer(service, 'resume', options);
      console.log(`${service}: deployment ${d.id} resumed`);
    });
}
