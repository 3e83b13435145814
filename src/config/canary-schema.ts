// The canary part of a service's deploy policy: the traffic steps, the requests always routed to
// the new release, and how clients stay on the release they were given.
import { z } from 'zod';
import type { HashKey } from './fields.js';
import { cookieName, count, hashKey, headerName, nonEmpty } from './fields.js';
import { describeValue } from './messages.js';
import { parseDuration } from './units.js';

/** A pause is a duration, or "indefinite" to wait for `switchyard promote`. */
const pause = z
  .union([z.string(), z.number()], { error: (issue) => `expected a duration or "indefinite", got ${describeValue(issue.input)}` })
  .transform((input, ctx): number | 'indefinite' => {
    if (input === 'indefinite') return input;
    const result = parseDuration(input);
    if (result.ok) return result.value;
    ctx.issues.push({ code: 'custom', message: `${result.message}, or "indefinite"`, input });
    return z.NEVER;
  });

const step = z
  .strictObject({
    weight: z.number().min(0).max(100).optional().describe('Percent of traffic to the new release'),
    pause: pause.optional().describe('How long to hold this step, or "indefinite" to wait for promote'),
    analysis: z.boolean().optional().describe('Judge the canary against the baseline during this step'),
  })
  .refine((s) => s.weight !== undefined || s.pause !== undefined || s.analysis !== undefined, {
    message: 'a step needs at least one of weight, pause or analysis',
  })
  .transform((s) => ({ weight: s.weight ?? null, pause: s.pause ?? null, analysis: s.analysis ?? null }));

export type RouteMatch =
  | { kind: 'equals'; value: string }
  | { kind: 'oneOf'; values: string[] }
  | { kind: 'regex'; pattern: string }
  | { kind: 'present' };

export interface RouteRule {
  source: 'header' | 'cookie' | 'query';
  name: string;
  match: RouteMatch;
}

const regex = z.string().superRefine((pattern, ctx) => {
  try {
    new RegExp(pattern);
  } catch (err) {
    const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /, '');
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(pattern)} is not a valid regular expression (${reason})` });
  }
});

const SOURCES = ['header', 'cookie', 'query'] as const;
const OPS = ['value', 'oneOf', 'regex', 'present'] as const;

const routeRule = z
  .strictObject({
    header: headerName.optional(),
    cookie: cookieName.optional(),
    query: nonEmpty.optional(),
    value: z.string().optional(),
    oneOf: z.array(z.string()).min(1).optional(),
    regex: regex.optional(),
    present: z.literal(true, 'present can only be true').optional(),
  })
  .superRefine((rule, ctx) => {
    if (SOURCES.filter((k) => rule[k] !== undefined).length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'a route rule needs exactly one of header, cookie or query' });
    }
    if (OPS.filter((k) => rule[k] !== undefined).length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'a route rule needs exactly one of value, oneOf, regex or present' });
    }
  })
  .transform((rule): RouteRule => {
    const source = SOURCES.find((k) => rule[k] !== undefined) ?? 'header';
    const name = rule[source] ?? '';
    if (rule.value !== undefined) return { source, name, match: { kind: 'equals', value: rule.value } };
    if (rule.oneOf !== undefined) return { source, name, match: { kind: 'oneOf', values: rule.oneOf } };
    if (rule.regex !== undefined) return { source, name, match: { kind: 'regex', pattern: rule.regex } };
    return { source, name, match: { kind: 'present' } };
  })
  .describe('Requests that always go to the new release, e.g. { header: x-canary, value: "1" }');

export interface CanarySticky {
  enabled: boolean;
  cookie: string;
  hashKey?: HashKey;
}

const DEFAULT_STICKY_COOKIE = 'sy-release';

const sticky = z
  .union(
    [
      z.boolean(),
      z.strictObject({ cookie: cookieName.default(DEFAULT_STICKY_COOKIE), hashKey: hashKey.optional() }),
    ],
    'expected true, false or { cookie, hashKey }',
  )
  .transform((s): CanarySticky => (typeof s === 'boolean' ? { enabled: s, cookie: DEFAULT_STICKY_COOKIE } : { enabled: true, ...s }))
  .describe('Keep each client on the release it was first given until the rollout ends');

export const canarySchema = z
  .strictObject({
    steps: z
      .array(step)
      .min(1, 'list at least one step')
      .prefault([
        { weight: 5, pause: '30s' },
        { weight: 25, pause: '1m' },
        { weight: 50, pause: '1m' },
      ])
      .describe('Traffic steps; after the last one the new release gets 100%'),
    route: z.array(routeRule).default([]),
    sticky: sticky.prefault(true),
    instances: z
      .union([count(1), z.literal('proportional')], 'expected a number of instances or "proportional"')
      .default('proportional')
      .describe('Canary instances: a fixed number, or in proportion to the traffic weight'),
    finalize: z.enum(['none', 'blue-green']).default('none').describe('How the last step completes'),
  })
  .prefault({});
