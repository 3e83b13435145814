// `switchyard schema`: the config file's JSON Schema, for editor completion and checks.
import { Command } from 'commander';
import { configJsonSchema } from '../../config/index.js';

export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of the config file (for editor completion and checks)')
    .action(() => {
      console.log(JSON.stringify(configJsonSchema(), null, 2));
    });
}
