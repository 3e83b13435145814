// `switchyard promote SERVICE [--full]`: end the pause step a deployment waits at, or skip every pause left.
import { Command } from 'commander';
import type { AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import { steer } from '../steer.js';

export function promoteCommand(): Command {
  return withAdminOptions(new Command('promote'))
    .description('advance a paused step, or with --full skip all remaining steps that wait')
    .argument('<service>', 'the service whose deployment to promote')
    .option('--full', 'skip every remaining pause')
    .action(async (service: string, options: AdminOptions & { full?: boolean }) => {
      const full = options.full === true;
      const d = await steer(service, 'promote', options, { full });
      console.log(`${service}: promoted deployment ${d.id}${full ? ', skipping all remaining pauses' : ''}; it goes on (\`switchyard status ${service}\`)`);
    });
}
