// A service's deploy policy: the strategy and its settings, canary analysis, hooks and deadline.
// Every part has defaults, so a service may leave `deploy` out entirely.
import { z } from 'zod';
import { canarySchema } from './canary-schema.js';
import { describeValue } from './messages.js';
import { count, duration, headerName, nonEmpty, percent, positiveDuration, share } from './fields.js';

const rolling = z
  .strictObject({
    maxSurge: count(0).default(1).describe('Extra instances started before old ones stop'),
    maxUnavailable: count(0).default(0).describe('Instances that may be missing during the rollout'),
  })
  .refine((r) => r.maxSurge + r.maxUnavailable > 0, {
    message: 'maxSurge and maxUnavailable cannot both be 0: no instance could ever be replaced',
  })
  .prefault({});

const blueGreen = z
  .strictObject({
    autoPromote: z.boolean().default(true).describe('Switch traffic once the new release is healthy'),
    previewHeader: headerName.prefault('x-switchyard-preview').describe('Requests with this header reach the new release early'),
    scaleDownDelay: duration.prefault('5m').describe('Keep the old release this long for an instant rollback'),
  })
  .prefault({});

export type AnalysisCheck =
  | { kind: 'http'; url: string; timeout: number }
  | { kind: 'command'; command: string; timeout: number };

const httpUrl = z.string().superRefine((text, ctx) => {
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an http(s) URL` });
  }
});

const check = z
  .strictObject({
    http: httpUrl.optional().describe('Passes when a GET answers 2xx'),
    command: nonEmpty.optional().describe('Passes when the command exits 0'),
    timeout: positiveDuration.optional().describe('Default 5s for http, 30s for command'),
  })
  .refine((c) => (c.http === undefined) !== (c.command === undefined), {
    message: 'a check needs exactly one of http or command',
  })
  .transform((c): AnalysisCheck =>
    c.http !== undefined
      ? { kind: 'http', url: c.http, timeout: c.timeout ?? 5_000 }
      : { kind: 'command', command: c.command ?? '', timeout: c.timeout ?? 30_000 },
  );

// Status classes and codes, e.g. "5xx" or "5xx,429".
const STATUS_LIST = /^\s*[1-5](?:xx|\d\d)\s*(?:,\s*[1-5](?:xx|\d\d)\s*)*$/i;

const analysis = z
  .strictObject({
    interval: positiveDuration.prefault('10s').describe('How often the canary is compared with the baseline'),
    minRequests: count(0).default(50).describe('Requests needed before a verdict'),
    maxErrorRate: share.optional().describe('Fail when the canary error rate is above this'),
    maxP99Latency: positiveDuration.optional().describe('Fail when the canary p99 latency is above this'),
    maxLatencyIncrease: percent
      .optional()
      .describe('Fail when the canary is slower than the baseline by more than this (Mann-Whitney U and the typical shift)'),
    latencyTolerance: duration
      .prefault('5ms')
      .describe('Latency differences smaller than this are noise (a cold process, a busy host), whatever the ratio'),
    maxErrorRateIncrease: percent.optional().describe('Fail when the canary error rate exceeds the baseline by more than this'),
    confidence: z.number().min(0.5).max(0.9999).default(0.98).describe('Statistical confidence a verdict needs'),
    failureLimit: count(1).default(1).describe('Failed intervals before rolling back'),
    inconclusiveLimit: count(1).default(6).describe('Inconclusive intervals before onInconclusive applies'),
    onInconclusive: z.enum(['pause', 'fail', 'pass']).default('pause'),
    errorStatuses: z
      .string()
      .regex(STATUS_LIST, 'must list status classes or codes, e.g. 5xx or 5xx,429')
      .transform((s) => s.replace(/\s+/g, '').toLowerCase())
      .prefault('5xx')
      .describe('Responses counted as errors'),
    checks: z.array(check).optional().describe('Extra checks run each interval: { http: URL } or { command: CMD }'),
  })
  .prefault({})
  .describe('Canary analysis: when to promote and when to roll back');

/** A hook as the code uses it: the command, and whether running it ends the rollback window. */
export interface HookSpec {
  run: string;
  endsRollbackWindow: boolean;
}

const hookObject = z.strictObject({
  run: nonEmpty.describe('The command, run by /bin/sh in the release folder'),
  endsRollbackWindow: z
    .boolean()
    .default(false)
    .describe('Once this hook ran for a release, rollback refuses to go back past it unless forced (e.g. a contract migration)'),
});

/** A hook: a command string, or { run, endsRollbackWindow }. */
const hook = z
  .union([nonEmpty, hookObject], { error: (issue) => `expected a command or { run: COMMAND, endsRollbackWindow: true }, got ${describeValue(issue.input)}` })
  .transform((h): HookSpec => (typeof h === 'string' ? { run: h, endsRollbackWindow: false } : h));

const hooks = z
  .strictObject({
    preDeploy: hook.optional().describe('Runs before the new release starts; failure aborts'),
    postDeploy: hook.optional().describe('Runs after the new release serves all traffic and the old one stopped'),
    onRollback: z
      .union([nonEmpty, hookObject.omit({ endsRollbackWindow: true })], { error: (issue) => `expected a command or { run: COMMAND }, got ${describeValue(issue.input)}` })
      .transform((h): HookSpec => ({ run: typeof h === 'string' ? h : h.run, endsRollbackWindow: false }))
      .optional()
      .describe('Runs after a rollback'),
    timeout: positiveDuration.prefault('5m'),
  })
  .prefault({});

export const deploySchema = z
  .strictObject({
    strategy: z.enum(['rolling', 'blue-green', 'canary']).default('rolling'),
    rolling,
    blueGreen,
    canary: canarySchema,
    analysis,
    hooks,
    progressDeadline: positiveDuration.prefault('10m').describe('A deployment that makes no progress this long fails'),
  })
  .prefault({})
  .describe('How new releases roll out');
