// `switchyard validate`: check a config file and print every problem with its line; exit 2 if any.
// Warnings (a command's program not found) are printed too, and leave the exit code alone.
import { Command } from 'commander';
import { ConfigError, formatProblem, loadConfig } from '../../config/index.js';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { programWarnings } from '../program-warnings.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a config file and print every problem with its line')
    .option('-c, --config <file>', 'config file', 'switchyard.yaml')
    .option('--json', 'print one JSON document')
    .action((options: { config: string; json?: boolean }) => {
      process.exitCode = validate(options.config, options.json === true);
    });
}

export function validate(configFile: string, json: boolean): number {
  try {
    const config = loadConfig(configFile);
    const services = Object.keys(config.services);
    const warnings = programWarnings(config, configFile);
    if (json) {
      console.log(JSON.stringify(warnings.length === 0 ? { ok: true, services } : { ok: true, services, warnings }));
      return EXIT_OK;
    }
    for (const w of warnings) console.error(formatProblem(configFile, { path: '', line: w.line, message: `warning: ${w.path}: ${w.message}` }));
    console.log(`${configFile}: valid (${services.length} service${services.length === 1 ? '' : 's'}: ${services.join(', ')})${warnings.length === 0 ? '' : `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`}`);
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (json) console.log(JSON.stringify({ ok: false, problems: err.problems }));
    else console.error(err.message);
    return EXIT_USAGE;
  }
}
