// Reusable field types for the config schema: durations, percentages, sizes, addresses and names.
// Each parses what users write (`10s`) into what code uses (10000) and says plainly what is wrong.
import { z } from 'zod';
import { checkHostPattern, checkHostPort } from './address.js';
import type { UnitResult } from './units.js';
import {
  DURATION_PATTERN,
  PERCENT_PATTERN,
  SIZE_PATTERN,
  parseDuration,
  parsePercent,
  parseSize,
} from './units.js';
import { describeValue } from './messages.js';

/**
 * A unit field accepts a string or a number (so `interval: 5` reaches the parser and gets
 * "needs a unit" rather than "expected a string"); `meta` narrows what the JSON schema offers.
 */
function unitField(
  what: string,
  parse: (input: string | number) => UnitResult,
  pattern: string,
  numberMeta: Record<string, unknown>,
) {
  return z
    .union([z.string().meta({ pattern }), z.number().meta(numberMeta)], {
      error: (issue) => `expected ${what}, got ${describeValue(issue.input)}`,
    })
    .describe(`${what[0]?.toUpperCase() ?? ''}${what.slice(1)}`)
    .transform((input, ctx) => {
      const result = parse(input);
      if (result.ok) return result.value;
      ctx.issues.push({ code: 'custom', message: result.message, input });
      return z.NEVER;
    });
}

// Defaults below are written with .prefault('10s'): the default goes through the same parsing as
// user input, reads like the YAML, and shows as "10s" in the JSON schema.

/** Milliseconds, written `500ms`, `10s`, `5m`, `1h`, `1.5s`, `1m30s` or `0`. */
export const duration = unitField('a duration such as 10s', parseDuration, DURATION_PATTERN, { const: 0 });

/** A duration that must be more than zero, for intervals and timeouts where 0 makes no sense. */
export const positiveDuration = duration.refine((ms) => ms > 0, 'must be more than 0');

/** A fraction, written `1%`, `0.5%` or `150%`. */
export const percent = unitField('a percentage such as 1%', (v) => parsePercent(v), PERCENT_PATTERN, { const: 0 });

/** A fraction of a whole, written `0%` to `100%`. */
export const share = unitField('a percentage such as 20%', (v) => parsePercent(v, 1), PERCENT_PATTERN, { const: 0 });

/** Bytes, written `512`, `16kb`, `100mb` or `2gb` (1kb = 1024 bytes). */
export const size = unitField('a size such as 16kb', parseSize, SIZE_PATTERN, { type: 'integer', minimum: 0 });

/** `host:port` with an IPv4 address, a host name or a bracketed IPv6 address. */
export function hostPort({ allowPortZero = true } = {}) {
  return z
    .string({ error: (issue) => addressTypeError(issue.input) })
    .superRefine((text, ctx) => {
      const problem = checkHostPort(text, { allowPortZero });
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** Why a non-string is not an address; YAML reads `listen: 8080` as a number. */
export function addressTypeError(input: unknown): string {
  if (typeof input !== 'number') return `expected host:port, got ${describeValue(input)}`;
  const port = String(input);
  return `${port} needs a host; write 127.0.0.1:${port} (this machine only) or 0.0.0.0:${port} (all interfaces)`;
}

/** An exact host name or a `*.example.com` wildcard, lowercased as host matching is. */
export const hostPattern = z
  .string()
  .superRefine((text, ctx) => {
    const problem = checkHostPattern(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((text) => text.toLowerCase());

// RFC 9110 token characters: what header and cookie names may contain.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A cookie name. */
export const cookieName = z
  .string()
  .regex(TOKEN, { error: (issue) => `${describeValue(issue.input)} is not a cookie name; use letters, digits and -_.` });

/** An HTTP header name, lowercased because header names are case-insensitive. */
export const headerName = z
  .string()
  .regex(TOKEN, { error: (issue) => `${describeValue(issue.input)} is not a header name; use letters, digits and -` })
  .transform((name) => name.toLowerCase());

/** A URL path such as `/healthz`. */
export const urlPath = z.string().startsWith('/', { error: (issue) => `${describeValue(issue.input)} must start with /` });

/** Text that may not be empty, such as a command or a file path. */
export const nonEmpty = z.string().min(1, 'must not be empty');

/** A whole number of at least `min`. */
export const count = (min: number) => z.int().min(min);

/** Which requests hash to the same instance; written `{ header: x-user-id }`, `{ cookie: sid }` or `{ ip: true }`. */
export type HashKey = { kind: 'header'; name: string } | { kind: 'cookie'; name: string } | { kind: 'ip' };

export const hashKey = z
  .strictObject({
    header: headerName.optional(),
    cookie: cookieName.optional(),
    ip: z.literal(true, 'ip can only be true; leave it out to hash by header or cookie').optional(),
  })
  .meta({ minProperties: 1, maxProperties: 1 })
  .superRefine((key, ctx) => {
    const set = [key.header, key.cookie, key.ip].filter((v) => v !== undefined).length;
    if (set !== 1) ctx.addIssue({ code: 'custom', message: 'set exactly one of header, cookie or ip' });
  })
  .transform((key): HashKey => {
    if (key.header !== undefined) return { kind: 'header', name: key.header };
    if (key.cookie !== undefined) return { kind: 'cookie', name: key.cookie };
    return { kind: 'ip' };
  })
  .describe('What hash balancing keys on: { header: NAME }, { cookie: NAME } or { ip: true }');
