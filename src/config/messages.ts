// Turns zod's issues into sentences a person editing YAML can act on ("expected a list, got
// "web"") instead of zod's generic "Invalid input: expected array, received string".
import type { z } from 'zod';

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
};

/** How a value is named in a message: strings quoted, numbers as written, collections by kind. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function formatValue(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

/** The error map every config parse uses; schema-level messages still win over it. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      const got = describeValue(issue.input);
      // YAML reads `value: 1` and `enabled: yes`-style scalars as numbers and booleans.
      const quote = issue.expected === 'string' && typeof issue.input !== 'object' ? `; put it in quotes: "${got}"` : '';
      return `expected ${expected}, got ${got}${quote}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return `needs at least ${String(min)} item${min === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${String(min)} characters long`;
      return issue.inclusive === false ? `must be more than ${String(min)}` : `must be at least ${String(min)}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return `allows at most ${String(max)} items`;
      if (issue.origin === 'string') return `must be at most ${String(max)} characters long`;
      return issue.inclusive === false ? `must be less than ${String(max)}` : `must be at most ${String(max)}`;
    }
    case 'invalid_value': {
      if (issue.values.length === 1) return `must be ${formatValue(issue.values[0])}, got ${describeValue(issue.input)}`;
      return `must be one of ${issue.values.map(formatValue).join(', ')}; got ${describeValue(issue.input)}`;
    }
    case 'invalid_union':
      return `has the wrong form: got ${describeValue(issue.input)}`;
    case 'invalid_format':
      return `${describeValue(issue.input)} is not in the expected format`;
    default:
      return undefined;
  }
};
