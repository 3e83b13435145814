#!/usr/bin/env node
// The switchyard command line: `up` runs the daemon; the other commands talk to it over the admin API.
// Each command lives in commands/; this file wires them up and turns errors into exit codes.
import { Command, CommanderError } from 'commander';
import { StartError } from '../daemon/start-error.js';
import { ConfigError } from '../config/index.js';
import { CliError } from './cli-error.js';
import { abortCommand } from './commands/abort.js';
import { acknowledgeCommand } from './commands/acknowledge.js';
import { deployCommand } from './commands/deploy.js';
import { historyCommand } from './commands/history.js';
import { logsCommand } from './commands/logs.js';
import { pauseCommand } from './commands/pause.js';
import { promoteCommand } from './commands/promote.js';
import { reloadCommand } from './commands/reload.js';
import { resumeCommand } from './commands/resume.js';
import { rollbackCommand } from './commands/rollback.js';
import { scaleCommand } from './commands/scale.js';
import { schemaCommand } from './commands/schema.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { upgradeCommand } from './commands/upgrade.js';
import { validateCommand } from './commands/validate.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './exit-codes.js';
import { SWITCHYARD_VERSION } from '../version.js';

const program = new Command()
  .name('switchyard')
  .description('Zero-downtime deployments: a reverse proxy and load balancer with a deployment controller.')
  .version(SWITCHYARD_VERSION, '-V, --version', 'print the version of switchyard')
  // `deploy --version v2` is the release's label: the program's own --version only stands before a command.
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

const commands = [
  upCommand,
  upgradeCommand,
  validateCommand,
  schemaCommand,
  reloadCommand,
  deployCommand,
  statusCommand,
  promoteCommand,
  pauseCommand,
  resumeCommand,
  abortCommand,
  rollbackCommand,
  scaleCommand,
  acknowledgeCommand,
  historyCommand,
  logsCommand,
];
// addCommand does not pass exitOverride and output settings on by itself.
for (const build of commands) program.addCommand(build().copyInheritedSettings(program));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has printed the problem (or the help) already.
    process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  } else if (err instanceof CliError) {
    console.error(`switchyard: ${err.message}`);
    process.exitCode = err.exitCode;
  } else if (err instanceof ConfigError) {
    console.error(err.message);
    process.exitCode = EXIT_USAGE;
  } else if (err instanceof StartError) {
    // Expected start-up failures (state folder, ports, token file, another daemon on the state): one
    // line, no stack; exit 2 when the setup is at fault (an address taken, the state in use).
    console.error(`switchyard: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    // Not an expected failure: keep the stack for the bug report.
    console.error(err);
    process.exitCode = EXIT_FAILED;
  }
}
