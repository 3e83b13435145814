// The options every command that talks to the daemon shares: where it is and how to prove who we are.
import type { Command } from 'commander';

export function withAdminOptions(command: Command): Command {
  return command
    .option('--admin <url>', 'admin API URL (default: SWITCHYARD_ADMIN, the config file, else http://127.0.0.1:8081)')
    // No --token: a token on the command line is visible to every user in `ps`.
    .option('--token-file <file>', 'file holding the admin API token (default: SWITCHYARD_TOKEN, else the config file)')
    .option('-c, --config <file>', 'config file to read the admin address and token from (default: switchyard.yaml if it exists)');
}
