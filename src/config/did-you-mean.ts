// Suggestions for misspelt keys and values: "unknown key; did you mean `interval`?". Finds the
// keys allowed at a path by walking the zod schema the same way the data was walked.
import { z } from 'zod';

/**
 * Edit distance between two strings: insertions, deletions, substitutions and swaps of two neighbours
 * (`wbe` → `web` is one slip, not two).
 */
export function levenshtein(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (before[j - 2] ?? 0) + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// Case and separators are the commonest slips (`path_prefix`, `PathPrefix`), so they cost nothing.
const normalize = (word: string): string => word.toLowerCase().replace(/[-_\s]/g, '');

/**
 * The candidate closest to `word`, if any is close enough to be a likely typo.
 * @example closest('intervall', ['interval', 'timeout']) // 'interval'
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const target = normalize(word);
  const limit = Math.max(1, Math.floor(target.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = levenshtein(target, normalize(candidate));
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** The schemas a value at `path` is checked against: several when a union allows several forms. */
function schemasAt(root: z.core.$ZodType, path: readonly PropertyKey[]): z.core.$ZodType[] {
  let current = unwrap(root);
  for (const segment of path) {
    current = current.flatMap((schema) => {
      if (schema instanceof z.ZodObject) {
        const child = typeof segment === 'string' ? (schema.shape as Record<string, z.core.$ZodType>)[segment] : undefined;
        return child ? unwrap(child) : [];
      }
      if (schema instanceof z.ZodRecord) return unwrap(schema.valueType);
      if (schema instanceof z.ZodArray) return unwrap(schema.element);
      return [];
    });
  }
  return current;
}

/** Looks through wrappers to the schemas that describe the input's shape. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType[] {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodReadonly ||
    schema instanceof z.ZodCatch
  ) {
    return unwrap(schema.unwrap());
  }
  if (schema instanceof z.ZodPipe) return unwrap(schema.in);
  if (schema instanceof z.ZodLazy) return unwrap(schema.unwrap());
  if (schema instanceof z.ZodUnion) return schema.options.flatMap((option) => unwrap(option));
  return [schema];
}

/** The keys an object at `path` may have, in schema order. */
export function allowedKeys(root: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  const keys = schemasAt(root, path).flatMap((schema) => (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []));
  return [...new Set(keys)];
}

/**
 * A hint for an unknown key at `path`: a near spelling, the sub-object it belongs in, or the list
 * of allowed keys when the object is small enough to list.
 */
export function unknownKeyHint(root: z.core.$ZodType, path: readonly PropertyKey[], key: string): string {
  const keys = allowedKeys(root, path);
  const near = closest(key, keys);
  if (near !== undefined) return `did you mean \`${near}\`?`;
  const parent = keys.find((k) => allowedKeys(root, [...path, k]).includes(key));
  if (parent !== undefined) return `did you mean \`${parent}.${key}\`?`;
  if (keys.length > 0 && keys.length <= 12) return `expected one of ${keys.join(', ')}`;
  return '';
}
