// Rules that pin requests to a release before weights apply: header, cookie or query parameter
// (equals, one of, regex, present). The blue-green preview header and canary tester routes use them.
import type { IncomingMessage } from 'node:http';
import { readCookie } from './cookies.js';

export type ValueMatch =
  | { kind: 'equals'; value: string }
  | { kind: 'oneOf'; values: readonly string[] }
  | { kind: 'regex'; pattern: string }
  | { kind: 'present' };

export interface RouteRule {
  source: 'header' | 'cookie' | 'query';
  name: string;
  match: ValueMatch;
  /** The release the rule sends matching requests to. */
  release: string;
}

export interface CompiledRule {
  readonly release: string;
  test(req: IncomingMessage): boolean;
}

export function compileRule(rule: RouteRule): CompiledRule {
  const matches = compileValueMatch(rule.match);
  const read = valueReader(rule.source, rule.name.toLowerCase(), rule.name);
  return { release: rule.release, test: (req) => matches(read(req)) };
}

function compileValueMatch(match: ValueMatch): (value: string | undefined) => boolean {
  switch (match.kind) {
    case 'equals':
      return (v) => v === match.value;
    case 'oneOf': {
      const set = new Set(match.values);
      return (v) => v !== undefined && set.has(v);
    }
    case 'regex': {
      const re = new RegExp(match.pattern);
      return (v) => v !== undefined && re.test(v);
    }
    case 'present':
      return (v) => v !== undefined;
  }
}

function valueReader(
  source: RouteRule['source'],
  lowerName: string,
  name: string,
): (req: IncomingMessage) => string | undefined {
  switch (source) {
    case 'header':
      return (req) => {
        const value = req.headers[lowerName];
        return Array.isArray(value) ? value[0] : value;
      };
    case 'cookie':
      return (req) => readCookie(req.headers.cookie, name);
    case 'query':
      return (req) => readQuery(req.url ?? '', name);
  }
}

function readQuery(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined;
}
