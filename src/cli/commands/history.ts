// `switchyard history SERVICE`: the service's deployments, newest first; --events adds what each one did.
import { Command, InvalidArgumentError } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import type { DeploymentDetail, DeploymentView } from '../api-types.js';
import { historyEvents, historyTable } from '../render/history.js';
import { palette, terminal } from '../render/style.js';

interface HistoryOptions extends AdminOptions {
  json?: boolean;
  events?: boolean;
  limit: number;
}

export function historyCommand(): Command {
  return withAdminOptions(new Command('history'))
    .description('deployments and their events')
    .argument('<service>', 'the service')
    .option('--limit <n>', 'how many deployments, newest first (1-500)', limit, 20)
    .option('--events', "also each deployment's events")
    .option('--json', 'print one JSON document')
    .action(async (service: string, options: HistoryOptions) => {
      const client = AdminClient.from(options);
      const name = encodeURIComponent(service);
      const { deployments } = await client.get<{ deployments: DeploymentView[] }>(`/api/v1/services/${name}/deployments?limit=${options.limit}`);
      const details = options.events ? await Promise.all(deployments.map((d) => client.get<DeploymentDetail>(`/api/v1/deployments/${d.id}`))) : undefined;
      if (options.json) {
        console.log(JSON.stringify({ deployments: details ?? deployments }, null, 2));
        return;
      }
      if (deployments.length === 0) {
        console.log(`${service} has no deployments yet`);
        return;
      }
      const p = palette(terminal().color);
      console.log(historyTable(p, deployments));
      for (const d of details ?? []) console.log(`\n${historyEvents(p, d)}`);
    });
}

function limit(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 500) throw new InvalidArgumentError('expected a whole number from 1 to 500');
  return n;
}
