// The config module's public face: load and validate switchyard.yaml, and the types it resolves to.
export { loadConfig, parseConfig } from './load.js';
export { ConfigError, formatProblem } from './errors.js';
export type { ConfigErrorCode, ConfigProblem } from './errors.js';
export { configJsonSchema } from './json-schema.js';
export { closest } from './did-you-mean.js';
export { lineFinder } from './locate.js';
export { checkHostPort, isLoopbackHost, parseHostPort } from './address.js';
export type { HostPort } from './address.js';
export { parseDuration, parsePercent, parseSize } from './units.js';
export type { UnitResult } from './units.js';
export type { Env } from './interpolate.js';
export type {
  AccessLogConfig,
  AcmeConfig,
  HstsConfig,
  ListenerConfig,
  ListenerTlsConfig,
  UpstreamTlsConfig,
  AdminConfig,
  ClusterConfig,
  AnalysisCheck,
  AnalysisConfig,
  BalanceAlgorithm,
  BlueGreenConfig,
  CanaryConfig,
  CanaryStep,
  CanarySticky,
  Config,
  ConfigInput,
  DeployConfig,
  DeployStrategy,
  DrainConfig,
  HashKey,
  HealthConfig,
  HookSpec,
  HooksConfig,
  LimitsConfig,
  MatchConfig,
  OutlierConfig,
  ProxyConfig,
  RetryBudgetConfig,
  RollingConfig,
  RouteMatch,
  RouteRule,
  RunConfig,
  ServiceConfig,
  StickyConfig,
  StopConfig,
  TimeoutsConfig,
} from './schema.js';
