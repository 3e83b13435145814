// `switchyard reload`: have the daemon re-read its config file; an invalid file changes nothing.
import { Command } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';

export function reloadCommand(): Command {
  return withAdminOptions(new Command('reload'))
    .description('re-read the config file; an invalid file is reported and changes nothing')
    .action(async (options: AdminOptions) => {
      const { needsRestart } = await AdminClient.acting(options).post<{ needsRestart?: string[] }>('/api/v1/reload');
      console.log(needsRestart ? `config reloaded; restart to apply changes to: ${needsRestart.join(', ')}` : 'config reloaded');
    });
}
