// The JSON Schema of switchyard.yaml, for editors (completion, hover help, red squiggles).
// Generated from the same zod schema the loader uses, on the input side: what users write.
import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * The config file's JSON Schema (draft 2020-12).
 * @example writeFileSync('schema/switchyard.schema.json', JSON.stringify(configJsonSchema(), null, 2));
 */
export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'switchyard.yaml',
    description:
      'Switchyard config: a reverse proxy and the services behind it, with their deploy policies. ' +
      'Durations are written 500ms, 10s, 5m; percentages 1%; sizes 16kb, 100mb. ${VAR} reads the environment.',
    ...rest,
  };
}
