// Environment interpolation in config values: `${VAR}`, `${VAR:-default}`, and `$${` for a
// literal `${`. It runs on parsed YAML string scalars, never on the raw text, so a variable's
// value can not change the file's structure and each problem keeps its line.
import type { Document } from 'yaml';
import { isMap, isScalar, isSeq } from 'yaml';

export type Env = Readonly<Record<string, string | undefined>>;

export type InterpolateResult = { ok: true; value: string } | { ok: false; message: string };

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Replaces every `${NAME}` in `text` with `env.NAME`. `${NAME:-fallback}` uses the fallback when
 * NAME is unset or empty, as in the shell.
 * @example interpolate('${HOST:-localhost}:8080', {}) // { ok: true, value: 'localhost:8080' }
 */
export function interpolate(text: string, env: Env): InterpolateResult {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('$', i);
    if (start === -1) break;
    out += text.slice(i, start);
    if (text.startsWith('$${', start)) {
      out += '${';
      i = start + 3;
      continue;
    }
    if (!text.startsWith('${', start)) {
      out += '$';
      i = start + 1;
      continue;
    }
    const end = text.indexOf('}', start);
    if (end === -1) return { ok: false, message: 'a "${" is never closed; write $${ for a literal ${' };
    const inner = text.slice(start + 2, end);
    const match = REFERENCE.exec(inner);
    if (!match?.[1]) {
      return { ok: false, message: `"\${${inner}}" is not a variable reference; use \${NAME} or \${NAME:-default}` };
    }
    const [, name, fallback] = match;
    const value = env[name];
    if (fallback !== undefined && (value === undefined || value === '')) out += fallback;
    else if (value !== undefined) out += value;
    else return { ok: false, message: `${name} is not set in the environment; set it or give a default: \${${name}:-value}` };
    i = end + 1;
  }
  return { ok: true, value: out + text.slice(i) };
}

export interface InterpolationProblem {
  path: PropertyKey[];
  /** Offset of the scalar in the source, for its line. */
  offset: number | undefined;
  message: string;
}

/**
 * Interpolates every string value in the document in place (keys are left alone) and returns
 * the values that could not be interpolated. Values stay strings: `${N}` never becomes a number.
 */
export function interpolateDocument(doc: Document, env: Env): InterpolationProblem[] {
  const problems: InterpolationProblem[] = [];
  const visit = (node: unknown, path: PropertyKey[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, index]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const result = interpolate(node.value, env);
      if (result.ok) node.value = result.value;
      else problems.push({ path, offset: node.range?.[0], message: result.message });
    }
  };
  visit(doc.contents, []);
  return problems;
}
