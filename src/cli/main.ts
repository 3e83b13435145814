#!/usr/bin/env node
// The switchyard command line: `up` runs the daemon; the other commands talk to it over the admin API.
import { Command, CommanderError } from 'commander';
import { configJsonSchema, ConfigError } from '../config/index.js';
import { adminTarget, apiErrorMessage, callAdmin, CliError, type AdminOptions } from './admin-client.js';
import { up } from './commands/up.js';
import { validate } from './commands/validate.js';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.js';

const program = new Command()
  .name('switchyard')
  .description('Zero-downtime deployments: a reverse proxy and load balancer with a deployment controller.')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

const adminOptions = (command: Command) =>
  command
    .option('--admin <url>', 'admin API URL (default: from the config file, else http://127.0.0.1:8081)')
    .option('--token <token>', 'admin API token (default: SWITCHYARD_TOKEN)')
    .option('-c, --config <file>', 'config file to read the admin address from', 'switchyard.yaml');

program
  .command('up')
  .description('run the daemon in the foreground (proxy, admin API, each service)')
  .option('-c, --config <file>', 'config file', 'switchyard.yaml')
  .action(async (options: { config: string }) => {
    await up(options.config);
  });

program
  .command('validate')
  .description('check a config file and print every problem with its line')
  .option('-c, --config <file>', 'config file', 'switchyard.yaml')
  .option('--json', 'print one JSON document')
  .action((options: { config: string; json?: boolean }) => {
    process.exitCode = validate(options.config, options.json === true);
  });

program
  .command('schema')
  .description('print the JSON Schema of the config file (for editor completion and checks)')
  .action(() => {
    console.log(JSON.stringify(configJsonSchema(), null, 2));
  });

adminOptions(program.command('reload'))
  .description('re-read the config file; an invalid file is reported and changes nothing')
  .action(async (options: AdminOptions) => {
    const { status, json } = await callAdmin(adminTarget(options), 'POST', '/api/v1/reload');
    if (status !== 200) throw new CliError(apiErrorMessage(json, `reload failed (HTTP ${status})`), EXIT_USAGE);
    const restart = (json as { needsRestart?: string[] }).needsRestart;
    console.log(restart ? `config reloaded; restart to apply changes to: ${restart.join(', ')}` : 'config reloaded');
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  } else if (err instanceof CliError) {
    console.error(`switchyard: ${err.message}`);
    process.exitCode = err.exitCode;
  } else if (err instanceof ConfigError) {
    console.error(err.message);
    process.exitCode = EXIT_USAGE;
  } else {
    console.error(err);
    process.exitCode = 1;
  }
}
