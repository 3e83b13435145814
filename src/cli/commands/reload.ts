// `switchyard reload`: have the daemon re-read its config file; an invalid file changes nothing. Says
// which changes are in force now, which apply at the next deploy and which need a restart.
import { Command } from 'commander';
import { AdminClient, type AdminOptions } from '../admin-client.js';
import { withAdminOptions } from '../admin-options.js';
import type { ReloadSummary } from '../../api/wire.js';

export function reloadCommand(): Command {
  return withAdminOptions(new Command('reload'))
    .description('re-read the config file; an invalid file is reported and changes nothing')
    .action(async (options: AdminOptions) => {
      const answer = await AdminClient.acting(options).post<ReloadSummary>('/api/v1/reload');
      console.log(reloadLines(answer).join('\n'));
    });
}

export function reloadLines({ now = [], nextDeploy = [], restart = [] }: ReloadSummary): string[] {
  if (now.length + nextDeploy.length + restart.length === 0) return ['config reloaded: nothing changed'];
  const lines = ['config reloaded'];
  if (now.length > 0) lines.push(`  in effect now:       ${now.join(', ')}`);
  if (nextDeploy.length > 0) lines.push(`  at the next deploy:  ${nextDeploy.join(', ')}`);
  if (restart.length > 0) lines.push(`  after a restart:     ${restart.join(', ')} (\`switchyard up\` reads these only when it starts)`);
  return lines;
}
