// `switchyard rollback SERVICE [--to V] [--force]`: back to the previous (or named) release, followed like a deploy.
// During a deployment the daemon aborts it instead; then its rolled-back end is what was asked for.
import { Command } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import type { DeploymentView } from '../api-types.js';
import { reportDeployment } from '../follow/report-deployment.js';

interface RollbackOptions extends AdminOptions {
  to?: string;
  force?: boolean;
  wait: boolean;
  json?: boolean;
}

export function rollbackCommand(): Command {
  return withAdminOptions(new Command('rollback'))
    .description('back to the previous (or named) release: instant while its instances are kept, else a fast deployment')
    .argument('<service>', 'the service to roll back')
    .option('--to <version>', 'the release to go back to (default: the one before the stable release)')
    .option('--force', 'go back even past a release whose rollback window ended (a hook marked endsRollbackWindow ran)')
    .option('--no-wait', 'return as soon as the rollback started')
    .option('--json', 'print one JSON document at the end: the rollback with its events')
    .action(async (service: string, options: RollbackOptions) => {
      const client = AdminClient.acting(options);
      const body = { ...(options.to === undefined ? {} : { to: options.to }), ...(options.force === true ? { force: true } : {}) };
      const started = await client.post<DeploymentView>(`/api/v1/services/${encodeURIComponent(service)}/rollback`, body);
      const success = started.kind === 'rollback' ? ['succeeded'] : ['rolled-back'];
      if (started.kind !== 'rollback' && options.json !== true) console.log(`deployment ${started.id} of ${service} was in progress: rolling it back`);
      process.exitCode = await reportDeployment(client, started, { json: options.json === true, wait: options.wait, success });
    });
}
