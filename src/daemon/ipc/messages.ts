// The messages between switchyard's processes, all plain data over Node's IPC channels. The keeper sits
// in the middle: it relays the controller's tables and drains to every proxy worker, and the workers'
// acknowledgements and observations back, adding which worker spoke (DESIGN.md, "The process model").
import type { WorkerRoutingView } from '../../api/wire.js';
import type { Config } from '../../config/index.js';
import type { UpgradeStatus } from '../keeper/generations.js';
import type { ObservationBatch } from '../../metrics/observations.js';
import type { DrainReport } from '../../proxy/drain.js';
import type { ListenSpec } from '../../proxy/edge/listen-spec.js';
import type { TlsSnapshot } from '../../proxy/edge/tls-snapshot.js';
import type { ProxyLimits } from '../../proxy/proxy-context.js';
import type { ServerLimits } from '../../proxy/listener.js';
import type { TableSpec } from '../../proxy/routing-table.js';

/** A listening socket the keeper holds and hands down: where it listens, and its descriptor in the child. */
export interface InheritedListener {
  /** The address as the config writes it (`proxy.listen[].address`, `admin.listen`). */
  listen: string;
  address: string;
  port: number;
  fd: number;
}

/** What a proxy worker is built with; fixed for its life (a changed value applies to workers started later). */
export interface WorkerSettings {
  /** How each listener serves (plain, TLS, h2, redirects); the sockets come from the keeper. */
  listen: ListenSpec[];
  limits: ServerLimits & ProxyLimits & { maxUrlLength: number };
  dropServerHeader: boolean;
  releaseHeader: string;
  accessLog: { enabled: boolean; destination: string };
}

export interface WorkerInfo {
  index: number;
  pid: number;
  startedAt: number;
  /** The newest table version it acknowledged (0 = none yet). */
  tableVersion: number;
}

// ── controller → proxy workers (through the keeper) ──────────────────────────────────────────────
/** A routing table as data; the keeper keeps the newest for workers it starts later. */
export interface TableMessage {
  t: 'table';
  version: number;
  spec: TableSpec;
  settings: WorkerSettings;
}
/** The certificates and ACME challenges to serve; the keeper keeps the newest for workers it starts later. */
export interface TlsMessage {
  t: 'tls';
  snapshot: TlsSnapshot;
}
/** Drain an endpoint that left the table; each worker answers with `drained`. */
export interface DrainMessage {
  t: 'drain';
  id: number;
  endpoint: string;
  timeoutMs: number;
}

/**
 * These endpoints' host left the cluster (its lease ended) and is in no table any more: what is still in
 * flight to them will never be answered, so end it now (an idempotent request is tried elsewhere). No answer.
 */
export interface LostMessage {
  t: 'lost';
  endpoints: string[];
}

/** Describe the routing table you route by now; each worker answers with `described`. */
export interface DescribeMessage {
  t: 'describe';
  id: number;
}

// ── proxy worker → controller (the keeper fills in `worker`) ─────────────────────────────────────
export interface DescribedMessage {
  t: 'described';
  worker: number;
  id: number;
  table: WorkerRoutingView;
}
export interface AckMessage {
  t: 'ack';
  worker: number;
  version: number;
}
export interface DrainedMessage {
  t: 'drained';
  worker: number;
  id: number;
  report: DrainReport;
}
export interface EndpointState {
  id: string;
  inFlight: number;
  ejectedUntil: number;
}
export interface EjectionNote {
  service: string;
  endpoint: string;
  forMs: number;
}
/** Every second: what the worker saw since the last one, and the state of its endpoints. */
export interface ObservationsMessage {
  t: 'observations';
  worker: number;
  batch: ObservationBatch;
  endpoints: EndpointState[];
  ejections: EjectionNote[];
  /** Failed TLS handshakes per listener since the last report. */
  handshakeFailures: Record<string, number>;
}

// ── keeper ⇄ children ────────────────────────────────────────────────────────────────────────────
export interface WorkerStart {
  t: 'start';
  index: number;
  generation: number;
  listeners: InheritedListener[];
  /** The newest table, so a replacement serves at once even while no controller runs. */
  table: TableMessage | null;
  tls: TlsMessage | null;
}
export interface ControllerStart {
  t: 'start';
  generation: number;
  /** The newest config known to be valid (a broken file on disk never stops a restart). */
  config: Config;
  configFile: string;
  /** The admin API's socket. */
  admin: InheritedListener;
  /** The proxy's sockets (for status and logs; the workers serve them). */
  listeners: InheritedListener[];
  workers: WorkerInfo[];
  /** The newest table version the workers have, so the controller's next one is newer. */
  tableVersion: number;
  keeperPid: number;
  keeperStartedAt: number;
  version: string;
  /** The last upgrade this daemon started or was started by. */
  upgrade: UpgradeStatus | null;
}
/** The worker set changed (one started, exited or was replaced). */
export interface FleetMessage {
  t: 'fleet';
  workers: WorkerInfo[];
}
/**
 * Stop accepting, let in-flight work finish until the deadline, close what is left, exit. `handover`:
 * another process serves these sockets now, so idle connections stay open for the client's next request
 * (answered with Connection: close); `stop`: idle connections close at once.
 */
export interface WorkerStop {
  t: 'stop';
  drainMs: number;
  mode: 'handover' | 'stop';
}
/** Daemon stop: drain and stop every app instance, close the store, exit. */
export interface ControllerShutdown {
  t: 'shutdown';
}
/** An upgrade began, failed or succeeded. */
export interface UpgradeStatusMessage {
  t: 'upgrade-status';
  status: UpgradeStatus;
}
/** Another generation takes over: stop at once, write nothing more (the new controller adopts everything). */
export interface ControllerRetire {
  t: 'retire';
}
/** SIGHUP reached the keeper: re-read the config file. */
export interface ControllerReload {
  t: 'reload';
}

// ── controller → keeper ──────────────────────────────────────────────────────────────────────────
/** The controller serves: its first table is in force and the admin API listens. */
export interface ControllerReady {
  t: 'ready';
}
/** The controller cannot start (state folder, token file): the daemon cannot run. */
export interface ControllerFatal {
  t: 'fatal';
  message: string;
}
/** A reload was accepted: the config a restarted controller should use. */
export interface ConfigAccepted {
  t: 'config';
  config: Config;
}
/** A worker did not acknowledge or answer in time: stop it and start another. */
export interface ReplaceWorker {
  t: 'replace';
  worker: number;
  reason: string;
}
export interface UpgradeRequest {
  t: 'upgrade';
  id: number;
}
export interface UpgradeAnswer {
  t: 'upgrade-answer';
  id: number;
  ok: boolean;
  message: string;
  status: UpgradeStatus;
}

export type ToWorker = WorkerStart | TableMessage | TlsMessage | DrainMessage | LostMessage | DescribeMessage | WorkerStop;
export type FromWorker = Omit<AckMessage, 'worker'> | Omit<DrainedMessage, 'worker'> | Omit<ObservationsMessage, 'worker'> | Omit<DescribedMessage, 'worker'>;
export type WorkerReport = AckMessage | DrainedMessage | ObservationsMessage | DescribedMessage;
export type ToController =
  | ControllerStart
  | FleetMessage
  | WorkerReport
  | ControllerShutdown
  | ControllerRetire
  | ControllerReload
  | UpgradeAnswer
  | UpgradeStatusMessage;
export type FromController = TableMessage | TlsMessage | DrainMessage | LostMessage | DescribeMessage | ControllerReady | ControllerFatal | ConfigAccepted | ReplaceWorker | UpgradeRequest;
