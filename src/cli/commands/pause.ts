// `switchyard pause SERVICE`: hold a deployment before its next step, until `resume`.
import { Command } from 'commander';
import type { AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import { steer } from '../steer.js';

export function pauseCommand(): Command {
  return withAdminOptions(new Command('pause'))
    .description('hold the deployment in progress before its next step')
    .argument('<service>', 'the service whose deployment to pause')
    .action(async (service: string, options: AdminOptions) => {
      const d = await steer(service, 'pause', options);
      console.log(`${service}: deployment ${d.id} paused; \`switchyard resume ${service}\` goes on, \`switchyard abort ${service}\` rolls it back`);
    });
}
