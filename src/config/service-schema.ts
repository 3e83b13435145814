// The schema of one service: how its requests are matched, how its instances run and are
// health-checked, how traffic is balanced, and (in deploy-schema.ts) how new releases roll out.
import { z } from 'zod';
import { deploySchema } from './deploy-schema.js';
import type { HashKey } from './fields.js';
import {
  cookieName,
  count,
  duration,
  hashKey,
  hostPattern,
  hostPort,
  nonEmpty,
  positiveDuration,
  share,
  urlPath,
} from './fields.js';

const matchSchema = z
  .strictObject({
    hosts: z
      .array(hostPattern)
      .min(1, 'list at least one host, or leave hosts out to match every host')
      .optional()
      .describe('Host names this service answers (exact, or *.example.com); absent = every host'),
    pathPrefix: urlPath.default('/').describe('Requests whose path starts with this go to the service'),
    stripPrefix: z.boolean().default(false).describe('Remove pathPrefix before forwarding'),
  })
  .prefault({})
  .describe('Which requests belong to this service');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'is not an environment variable name');
// Numbers and booleans are allowed because YAML reads `WORKERS: 4` as a number; the process gets text.
const envValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const runSchema = z
  .strictObject({
    command: z
      .union([nonEmpty, z.array(nonEmpty).min(1)], 'expected a command line or a list of arguments')
      .describe('The command that starts one instance; $PORT and $HOST are set for it'),
    cwd: nonEmpty.optional().describe('Working directory ({version} is the release label); default: the config file directory'),
    env: z.record(envName, envValue).default({}).describe('Extra environment ({version} is the release label)'),
    version: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a label like v1 or 2024.06.1 (letters, digits, . _ -)')
      .describe('The release `up` starts when there is no state yet'),
  })
  .describe('Switchyard starts the instances itself');

const healthSchema = z
  .strictObject({
    path: urlPath.optional().describe('HTTP path to GET; absent = a TCP connect check'),
    interval: positiveDuration.prefault('1s'),
    timeout: positiveDuration.prefault('2s'),
    healthyThreshold: count(1).default(1).describe('Passing checks before an instance gets traffic'),
    unhealthyThreshold: count(1).default(3).describe('Failing checks before an instance loses traffic'),
    startTimeout: positiveDuration.prefault('60s').describe('How long a new instance may take to become healthy'),
    slowStart: duration.prefault('0').describe('Ramp a new instance up over this long (0 = off)'),
  })
  .prefault({})
  .describe('Active health checks');

const outlierSchema = z
  .strictObject({
    consecutiveFailures: count(1).default(5),
    baseEjectionTime: positiveDuration.prefault('30s'),
    maxEjectionTime: positiveDuration.prefault('300s'),
    maxEjectionPercent: share.prefault('50%').describe('Never eject more than this share of instances'),
  })
  .superRefine((o, ctx) => {
    if (o.maxEjectionTime < o.baseEjectionTime) {
      ctx.addIssue({ code: 'custom', path: ['maxEjectionTime'], message: 'must not be shorter than baseEjectionTime' });
    }
  })
  .prefault({})
  .describe('Passive outlier detection: eject instances that keep failing real requests');

const stickySchema = z
  .strictObject({
    cookie: cookieName.describe('Cookie that pins a client to an instance'),
    ttl: positiveDuration.optional().describe('Cookie lifetime; absent = a session cookie'),
  })
  .describe('Session affinity to one instance');

const timeoutsSchema = z
  .strictObject({
    connect: positiveDuration.prefault('2s'),
    response: duration.prefault('60s').describe('Time to the first response byte (0 = off)'),
    idle: duration.prefault('60s').describe('Idle time on a proxied connection (0 = off)'),
    keepAlive: duration.prefault('4s').describe("Upstream idle keep-alive; keep it below the app's (often 5s)"),
  })
  .prefault({})
  .describe('Upstream timeouts');

export const upstreamTlsSchema = z
  .union([
    z.literal(true),
    z.strictObject({
      ca: nonEmpty.optional().describe("PEM file of the CAs that sign the instances' certificates; default: the system's"),
      serverName: nonEmpty.optional().describe('Name the certificate must carry; default: the host of the target address'),
    }),
  ])
  .transform((tls) => (tls === true ? {} : tls))
  .describe('Speak TLS to the instances (verified against ca and serverName); absent = plain HTTP');

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

export const serviceSchema = z
  .strictObject({
    match: matchSchema,
    run: runSchema.optional(),
    targets: z
      .array(hostPort({ allowPortZero: false }))
      .min(1, 'list at least one host:port')
      .optional()
      .describe('Instances that run elsewhere, as host:port'),
    instances: count(1).default(1).describe('How many instances of the release to run (run services); per host with placement: perHost'),
    placement: z
      .enum(['spread', 'perHost'])
      .default('spread')
      .describe('In a cluster: spread = instances in all, over the live hosts; perHost = instances on every live host (counted at each deploy and scale)'),
    health: healthSchema,
    outlier: outlierSchema,
    balance: z.enum(['round-robin', 'least-connections', 'random-two', 'hash']).default('round-robin'),
    hashKey: hashKey.optional(),
    sticky: stickySchema.optional(),
    timeouts: timeoutsSchema,
    redirect: z.literal('https', 'can only be https').optional().describe('Requests that arrive over plain http get 308 to https'),
    upstreamTls: upstreamTlsSchema.optional(),
    retries: z.int().min(0).max(10).default(2).describe('Retries on another instance, only when safe'),
    retryBudget: z
      .strictObject({
        ratio: share.prefault('20%').describe('Retries allowed as a share of requests (retries of refused connections are not counted: no app saw them)'),
        minPerSecond: count(0).default(5).describe('Retries always allowed per second'),
      })
      .prefault({}),
    drain: z
      .strictObject({ timeout: duration.prefault('30s').describe('How long in-flight requests may finish') })
      .prefault({}),
    stop: z
      .strictObject({
        signal: z.enum(SIGNALS).default('SIGTERM'),
        timeout: duration.prefault('10s').describe('Time between the signal and SIGKILL'),
      })
      .prefault({}),
    deploy: deploySchema,
  })
  .superRefine((service, ctx) => {
    const how = 'run (switchyard starts the instances) or targets (instances run elsewhere)';
    if (service.run && service.targets) {
      ctx.addIssue({ code: 'custom', message: `a service needs either ${how}, not both` });
    } else if (!service.run && !service.targets) {
      ctx.addIssue({ code: 'custom', message: `a service needs either ${how}` });
    }
  })
  .transform((service) => ({
    ...service,
    // Hashing without a key still needs something stable per client: its address.
    hashKey: service.hashKey ?? (service.balance === 'hash' ? ({ kind: 'ip' } satisfies HashKey) : undefined),
  }));
