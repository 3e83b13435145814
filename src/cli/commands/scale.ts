// `switchyard scale SERVICE N`: run N instances of the stable release (scaling down drains first).
import { Command, InvalidArgumentError } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';

export function scaleCommand(): Command {
  return withAdminOptions(new Command('scale'))
    .description('change how many instances of the stable release run')
    .argument('<service>', 'the service to scale')
    .argument('<instances>', 'the number of instances', wholeNumber)
    .action(async (service: string, instances: number, options: AdminOptions) => {
      const client = AdminClient.acting(options);
      // The daemon answers once new instances are healthy or old ones drained: that may take a while.
      const result = await client.post<{ from: number; to: number }>(`/api/v1/services/${encodeURIComponent(service)}/scale`, { instances }, { timeoutMs: 10 * 60_000 });
      console.log(result.from === result.to ? `${service}: already ${result.to} instances` : `${service}: scaled from ${result.from} to ${result.to} instances`);
    });
}

function wholeNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}
