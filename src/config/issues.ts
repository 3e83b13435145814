// Flattens zod's issue tree into one plain problem per mistake: one per unknown key, the telling
// branch of a union instead of "no form matched", and a suggestion for misspelt names.
import type { z } from 'zod';
import { closest, unknownKeyHint } from './did-you-mean.js';

export interface PathProblem {
  path: PropertyKey[];
  message: string;
}

/** Turns issues from `schema.safeParse` into problems; `schema` is used to suggest keys. */
export function explainIssues(issues: readonly z.core.$ZodIssue[], schema: z.core.$ZodType): PathProblem[] {
  return issues.flatMap((issue) => explain(issue, [], schema));
}

function explain(issue: z.core.$ZodIssue, prefix: PropertyKey[], schema: z.core.$ZodType): PathProblem[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const hint = unknownKeyHint(schema, path, key);
        return { path: [...path, key], message: hint ? `unknown key; ${hint}` : 'unknown key' };
      });
    case 'invalid_key':
      // The key is already the last path segment; its own issue says what is wrong with it.
      return issue.issues.map((inner) => ({ path, message: inner.message }));
    case 'invalid_union': {
      const telling = issue.errors.filter((branch) => !branch.every(isMismatchAtRoot));
      if (telling.length === 1) return (telling[0] ?? []).flatMap((inner) => explain(inner, path, schema));
      return [{ path, message: issue.message }];
    }
    case 'invalid_value': {
      const near = typeof issue.input === 'string' ? closest(issue.input, issue.values.map(String)) : undefined;
      return [{ path, message: near === undefined ? issue.message : `${issue.message}; did you mean \`${near}\`?` }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

// A union branch that failed only because the value had another type says nothing useful.
function isMismatchAtRoot(issue: z.core.$ZodIssue): boolean {
  if (issue.path.length === 0 && issue.code === 'invalid_union') return issue.errors.every((branch) => branch.every(isMismatchAtRoot));
  return issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value');
}
