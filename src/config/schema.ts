// The config file's schema (switchyard.yaml) and the resolved types the rest of switchyard reads.
// Defaults live here and in the service and deploy schemas it includes, nowhere else.
import { z } from 'zod';
import { checkHostPort, isLoopbackHost, parseHostPort } from './address.js';
import { addressTypeError, count, duration, headerName, hostPort, nonEmpty, size } from './fields.js';
import { listenEntry } from './listen-schema.js';
import { serviceSchema } from './service-schema.js';


/** Request headers the proxy reads, rewrites or that describe the connection: not for the release header. */
const PROXY_MANAGED_HEADER =
  /^(host|content-length|transfer-encoding|connection|upgrade|expect|te|trailer|keep-alive|cookie|authorization|x-request-id|x-forwarded-.*|proxy-.*)$/;

const proxySchema = z
  .strictObject({
    listen: z
      .union([listenEntry, z.array(listenEntry).min(1)], {
        error: (issue) => (Array.isArray(issue.input) || typeof issue.input === 'object' ? undefined : addressTypeError(issue.input)),
      })
      .transform((listen) => (Array.isArray(listen) ? listen : [listen]))
      .prefault('127.0.0.1:8080')
      .describe('Where the proxy listens: host:port, a mapping with tls, or a list of them'),
    workers: z
      .union([z.literal('auto'), z.number().int().min(1).max(256)], { error: 'must be auto or a whole number from 1 to 256' })
      .default(1)
      .describe('Proxy worker processes serving the listeners: auto (one per CPU) or a number'),
    accessLog: z
      .strictObject({
        enabled: z.boolean().default(true),
        destination: nonEmpty
          .default('auto')
          .describe('auto (stdout when it is not a terminal, else access.log in the state folder), stdout, stderr or a file path'),
      })
      .prefault({}),
    dropServerHeader: z.boolean().default(false).describe("Remove the backend's Server header from responses"),
    releaseHeader: headerName
      .refine((name) => !PROXY_MANAGED_HEADER.test(name), {
        error: (issue) => `${String(issue.input)} is a header the proxy or HTTP itself manages; choose another name, e.g. x-switchyard-release`,
      })
      .prefault('x-switchyard-release')
      .describe('Request header telling the app which release and cohort it was routed as ("v2; cohort=canary"); removed from client requests'),
    limits: z
      .strictObject({
        headersTimeout: duration.prefault('30s').describe('Time for a client to send the request head'),
        requestTimeout: duration.prefault('300s').describe('Time to receive the whole request (0 = off)'),
        keepAliveTimeout: duration.prefault('5s').describe('Idle client keep-alive'),
        maxHeaderSize: size.prefault('16kb'),
        maxBodySize: size.prefault('100mb').describe('Larger request bodies get 413 (0 = unlimited)'),
        maxConnections: count(1).default(10000),
        maxUrlLength: size.prefault('8kb'),
        sendTimeout: duration
          .prefault('60s')
          .describe('A client that reads none of its response for this long is cut off (0 = off)'),
        maxWebSocketFrame: size
          .prefault('16mb')
          .describe('WebSocket frames larger than this close the socket with 1009 (0 = no limit)'),
      })
      .superRefine((limits, ctx) => {
        // Node's HTTP server refuses a headersTimeout longer than a non-zero requestTimeout.
        if (limits.requestTimeout > 0 && limits.headersTimeout > limits.requestTimeout) {
          ctx.addIssue({ code: 'custom', path: ['headersTimeout'], message: 'must not be longer than requestTimeout' });
        }
      })
      .prefault({}),
  })
  .prefault({})
  .describe('The reverse proxy clients connect to');

const adminSchema = z
  .strictObject({
    listen: hostPort().default('127.0.0.1:8081').describe('API, dashboard and /metrics'),
    token: z
      .string()
      .min(16, 'must be at least 16 characters: it guards the API that controls deployments')
      .optional()
      .describe('Bearer token for the admin API; use ${VAR} to read it from the environment'),
    tokenFile: nonEmpty.optional().describe('File holding the token (read by the daemon)'),
  })
  .superRefine((admin, ctx) => {
    if (admin.token !== undefined && admin.tokenFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tokenFile'], message: 'set token or tokenFile, not both' });
    }
    const host = hostOf(admin.listen);
    if (admin.token === undefined && admin.tokenFile === undefined && host !== undefined && !isLoopbackHost(host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message: `${admin.listen} is reachable from other machines, so set token or tokenFile: the admin API controls deployments`,
      });
    }
  })
  .prefault({})
  .describe('The admin API, dashboard and metrics');

/** A service (or host) name: also what the admin API accepts in a path before it looks anything up. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

function serviceNameLike(what: string) {
  return z.string().regex(NAME_PATTERN, {
    error: (issue) => `${JSON.stringify(issue.input)} is not a valid ${what} name: use lowercase letters, digits and -, at most 63 long`,
  });
}

const serviceName = serviceNameLike('service');

const etcdUrl = z
  .string()
  .regex(/^https?:\/\/[^/\s]+:\d+\/?$/, { error: (issue) => `${JSON.stringify(issue.input)} is not an etcd client URL; write it as http://HOST:2379` });

const clusterSchema = z
  .strictObject({
    etcd: z.array(etcdUrl).min(1, 'list at least one etcd member, this host\'s own first').describe("etcd client URLs, this host's own member first"),
    node: serviceNameLike('node').describe('This host\'s name in the cluster, unique among its hosts'),
    address: nonEmpty.describe("The address other hosts' proxies reach this host's instances at (instances listen on it)"),
    prefix: nonEmpty.default('/switchyard/').describe('Where the cluster keeps its state in etcd'),
    leaseTtl: duration
      .prefault('3s')
      .refine((ms) => ms >= 2000 && ms % 1000 === 0, 'must be whole seconds, at least 2s (etcd\'s minimum lease)')
      .describe('A dead host (or controller leader) is noticed within about this long'),
    preferLocal: z.boolean().default(false).describe("Route to this host's own instances while a release has a healthy one here"),
  })
  .optional()
  .describe('Run as one host of several sharing desired state in etcd (absent: one host, SQLite)');


export const configSchema = z
  .strictObject({
    proxy: proxySchema,
    admin: adminSchema,
    state: nonEmpty.default('./.switchyard').describe('Directory for the SQLite state and instance logs'),
    cluster: clusterSchema,
    services: z
      .record(serviceName, serviceSchema)
      .refine((services) => Object.keys(services).length > 0, 'define at least one service')
      .describe('The apps behind the proxy, by name'),
  })
  .superRefine((config, ctx) => {
    const admin = config.admin.listen;
    if (config.proxy.listen.some((l) => l.address === admin) && hostOf(admin) !== undefined && !admin.endsWith(':0')) {
      ctx.addIssue({ code: 'custom', path: ['admin', 'listen'], message: `${admin} is also a proxy listen address` });
    }
    if (config.services && Object.values(config.services).some((s) => s.redirect !== undefined) && !config.proxy.listen.some((l) => l.tls)) {
      ctx.addIssue({ code: 'custom', path: ['proxy', 'listen'], message: 'a service redirects to https, so one listener needs tls' });
    }
    if (config.cluster) {
      // A follower forwards commands to the leader's admin API at the leader's cluster address.
      const adminHost = hostOf(admin);
      const reachable = adminHost === undefined || ['0.0.0.0', '::', '[::]', config.cluster.address].includes(adminHost) || (isLoopbackHost(adminHost) && isLoopbackHost(config.cluster.address));
      if (!reachable) {
        ctx.addIssue({
          code: 'custom',
          path: ['admin', 'listen'],
          message: `${admin} cannot be reached from the other hosts, which forward commands to the leader's admin API at its cluster address (${config.cluster.address}); listen on ${config.cluster.address}:PORT or 0.0.0.0:PORT, with a token`,
        });
      }
    }
    if (config.cluster && config.services) {
      for (const [name, service] of Object.entries(config.services)) {
        if (service.targets) ctx.addIssue({ code: 'custom', path: ['services', name, 'targets'], message: 'static targets are not supported in cluster mode yet; use run' });
      }
    }
    // Two services matching the same host and prefix would make routing depend on file order.
    const owners = new Map<string, string>();
    for (const [name, service] of Object.entries(config.services)) {
      for (const host of service.match.hosts ?? ['every host']) {
        const key = `${host} ${service.match.pathPrefix}`;
        const owner = owners.get(key);
        if (owner === undefined) owners.set(key, name);
        else {
          ctx.addIssue({
            code: 'custom',
            path: ['services', name, 'match'],
            message: `${owner} already matches ${host} with pathPrefix ${service.match.pathPrefix}`,
          });
        }
      }
    }
  });

// Cross-field checks run even when a field had a problem, so they skip invalid addresses.
function hostOf(listen: string): string | undefined {
  return checkHostPort(listen) === undefined ? parseHostPort(listen).host : undefined;
}

/** The config as written (durations as "10s"); what `switchyard.yaml` may contain. */
export type ConfigInput = z.input<typeof configSchema>;
/** The resolved config: defaults applied, durations in ms, percentages as fractions, sizes in bytes. */
export type Config = z.output<typeof configSchema>;
export type ProxyConfig = Config['proxy'];
export type { AcmeConfig, HstsConfig, ListenerConfig, ListenerTlsConfig } from './listen-schema.js';
export type LimitsConfig = ProxyConfig['limits'];
export type AccessLogConfig = ProxyConfig['accessLog'];
export type AdminConfig = Config['admin'];
export type ClusterConfig = NonNullable<Config['cluster']>;
export type ServiceConfig = Config['services'][string];
export type MatchConfig = ServiceConfig['match'];
export type RunConfig = NonNullable<ServiceConfig['run']>;
export type HealthConfig = ServiceConfig['health'];
export type OutlierConfig = ServiceConfig['outlier'];
export type BalanceAlgorithm = ServiceConfig['balance'];
export type StickyConfig = NonNullable<ServiceConfig['sticky']>;
export type TimeoutsConfig = ServiceConfig['timeouts'];
export type RetryBudgetConfig = ServiceConfig['retryBudget'];
export type DrainConfig = ServiceConfig['drain'];
export type UpstreamTlsConfig = NonNullable<ServiceConfig['upstreamTls']>;
export type StopConfig = ServiceConfig['stop'];
export type DeployConfig = ServiceConfig['deploy'];
export type DeployStrategy = DeployConfig['strategy'];
export type RollingConfig = DeployConfig['rolling'];
export type BlueGreenConfig = DeployConfig['blueGreen'];
export type CanaryConfig = DeployConfig['canary'];
export type CanaryStep = CanaryConfig['steps'][number];
export type AnalysisConfig = DeployConfig['analysis'];
export type HooksConfig = DeployConfig['hooks'];
export type { HashKey } from './fields.js';
export type { CanarySticky, RouteMatch, RouteRule } from './canary-schema.js';
export type { AnalysisCheck, HookSpec } from './deploy-schema.js';
