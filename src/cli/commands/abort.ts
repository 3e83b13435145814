// `switchyard abort SERVICE`: stop the deployment; the daemon puts all traffic back on stable at once.
import { Command } from 'commander';
import type { AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import { steer } from '../steer.js';

export function abortCommand(): Command {
  return withAdminOptions(new Command('abort'))
    .description('stop the deployment in progress; all traffic goes back to the stable release')
    .argument('<service>', 'the service whose deployment to abort')
    .action(async (service: string, options: AdminOptions) => {
      const d = await steer(service, 'abort', options);
      const back = d.from ? `all traffic goes back to ${d.from.version}` : 'its instances stop';
      console.log(`${service}: aborting deployment ${d.id}: ${back} (\`switchyard history ${service}\` shows how it ended)`);
    });
}
