// The daemon's durable state in one SQLite file: services, releases, instances, deployments with their
// steps, and the event history. Every write is committed and fsynced before the method returns (invariant 7).
// The single-host Store; EtcdStore keeps the same tables in memory as its mirror of etcd.
import type Database from 'better-sqlite3';
import { openDatabase } from './connection.js';
import { storeErrorFromIo } from './errors.js';
import type { DeploymentPatch, NewDeployment } from './deployments.js';
import { DeploymentTable } from './deployments.js';
import type { EventFilter } from './events.js';
import { EventTable } from './events.js';
import type { InstanceFilter, InstancePatch, NewInstance } from './instances.js';
import { InstanceTable } from './instances.js';
import { ReleaseTable } from './releases.js';
import { RollbackWindowTable, type RollbackWindowEnd } from './rollback-windows.js';
import type { DeploymentRow, EventRow, InstanceRow, NewEvent, ReleaseRow, ReleaseSpec, StepRow } from './rows.js';
import { RoutingTableRows, type StoredRouting, type StoredStandby } from './routing.js';
import { ServiceTable } from './services.js';
import type { StepPatch } from './steps.js';
import { StepTable } from './steps.js';
import type { Store } from './state-store.js';
import type { EventListener } from './subscribers.js';
import { Subscribers } from './subscribers.js';

/**
 * @example
 * const store = SqliteStore.open('./.switchyard');
 * const release = store.createRelease('web', 'v2', { kind: 'process', command: 'node server.js', cwd: '.', env: {} });
 * store.addEvent({ service: 'web', type: 'release.created', message: `release ${release.number} (v2)` });
 */
export class SqliteStore implements Store {
  /** Absolute path of the database file. */
  readonly path: string;
  readonly #db: Database.Database;
  readonly #services: ServiceTable;
  readonly #releases: ReleaseTable;
  readonly #instances: InstanceTable;
  readonly #deployments: DeploymentTable;
  readonly #steps: StepTable;
  readonly #routing: RoutingTableRows;
  readonly #events: EventTable;
  readonly #rollbackWindows: RollbackWindowTable;
  readonly #subscribers = new Subscribers();
  readonly #createRelease: Database.Transaction<(service: string, version: string, spec: ReleaseSpec) => ReleaseRow>;
  readonly #integrityCheck: Database.Statement<[], string>;

  private constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.path = path;
    this.#services = new ServiceTable(db, path);
    this.#releases = new ReleaseTable(db);
    this.#instances = new InstanceTable(db, path);
    this.#deployments = new DeploymentTable(db, path);
    this.#steps = new StepTable(db, path);
    this.#routing = new RoutingTableRows(db);
    this.#events = new EventTable(db);
    this.#rollbackWindows = new RollbackWindowTable(db);
    this.#createRelease = db.transaction((service: string, version: string, spec: ReleaseSpec) => {
      this.#services.ensure(service);
      return this.#releases.create(service, version, spec);
    });
    this.#integrityCheck = db.prepare<[], string>('PRAGMA integrity_check').pluck();
  }

  /**
   * Opens `<stateDir>/state.db`, creating the directory (0700) and file (0600) if missing and upgrading an older
   * schema. Throws StoreError: SY_ERR_STATE_UNWRITABLE, SY_ERR_STATE_TOO_NEW or SY_ERR_STATE_CORRUPT.
   */
  static open(stateDir: string): SqliteStore {
    const { db, path } = openDatabase(stateDir);
    return new SqliteStore(db, path);
  }

  /** A store over a database already open and migrated (the etcd mirror keeps these tables in memory). */
  static attach(db: Database.Database, path: string): SqliteStore {
    return new SqliteStore(db, path);
  }

  // services

  /** Records the service if it is new; a no-op otherwise. */
  ensureService(name: string): void {
    this.#write(() => this.#services.ensure(name));
  }

  stableRelease(service: string): ReleaseRow | undefined {
    const id = this.#services.stableReleaseId(service);
    return id === undefined ? undefined : this.#releases.byId(id);
  }

  /** The release must belong to the service (else SY_ERR_STATE_NOT_FOUND). */
  setStableRelease(service: string, releaseId: number): void {
    this.#write(() => this.#services.setStable(service, releaseId));
  }

  /** The instance count `scale` set for a service (kept across restarts), or null for the config's. */
  scaledInstances(service: string): number | null {
    return this.#services.scaledInstances(service);
  }

  setScaledInstances(service: string, count: number | null): void {
    this.#write(() => this.#services.setScaledInstances(service, count));
  }

  /** Forgets the stable release (undoing a first deployment's promote). */
  clearStableRelease(service: string): void {
    this.#write(() => this.#services.clearStable(service));
  }

  /** By name. */
  listServices(): { name: string; stableReleaseId: number | null }[] {
    return this.#services.list();
  }

  /** The service's traffic split by instance id, as last published (written before it goes out). */
  setRouting(service: string, routing: StoredRouting): void {
    this.#write(() => this.#routing.setRouting(service, routing));
  }

  routing(service: string): StoredRouting | null {
    return this.#routing.routing(service);
  }

  setStandby(service: string, standby: StoredStandby | null): void {
    this.#write(() => this.#routing.setStandby(service, standby));
  }

  standby(service: string): StoredStandby | null {
    return this.#routing.standby(service);
  }

  // releases

  /** Adds the service's next release (numbered from 1), recording the service too if it is new. */
  createRelease(service: string, version: string, spec: ReleaseSpec): ReleaseRow {
    return this.#write(() => this.#createRelease.immediate(service, version, spec));
  }

  release(id: number): ReleaseRow | undefined {
    return this.#releases.byId(id);
  }

  /** Newest first. */
  releases(service: string): ReleaseRow[] {
    return this.#releases.forService(service);
  }

  /** The highest-numbered release with this version label. */
  latestReleaseByVersion(service: string, version: string): ReleaseRow | undefined {
    return this.#releases.latestByVersion(service, version);
  }

  // rollback windows

  /**
   * Records that going back past this release needs force (a hook marked endsRollbackWindow started for
   * it). True when this call recorded it; false when it was recorded before (the first reason stays).
   */
  endRollbackWindow(service: string, releaseId: number, reason: string): boolean {
    return this.#write(() => this.#rollbackWindows.end(service, releaseId, reason));
  }

  /** Forgets an end recorded by `endRollbackWindow` (its hook failed: it is taken to have changed nothing). */
  reopenRollbackWindow(releaseId: number): void {
    this.#write(() => this.#rollbackWindows.reopen(releaseId));
  }

  /** The releases past which a rollback needs force, newest first. */
  rollbackWindowEnds(service: string): RollbackWindowEnd[] {
    return this.#rollbackWindows.forService(service);
  }

  // instances

  createInstance(row: NewInstance): InstanceRow {
    return this.#write(() => this.#instances.create(row));
  }

  /** Changes only the fields present in `patch` (null clears address or pid); bumps updatedAt. */
  updateInstance(id: string, patch: InstancePatch): InstanceRow {
    return this.#write(() => this.#instances.update(id, patch));
  }

  instance(id: string): InstanceRow | undefined {
    return this.#instances.byId(id);
  }

  /** All instances matching every given criterion, by release then ordinal. */
  instances(filter?: InstanceFilter): InstanceRow[] {
    return this.#instances.list(filter);
  }

  /** Max ordinal + 1 among the service's releases with this release's version label, starting at 1. */
  nextInstanceOrdinal(releaseId: number): number {
    return this.#instances.nextOrdinal(releaseId);
  }

  // deployments and steps

  createDeployment(row: NewDeployment): DeploymentRow {
    return this.#write(() => this.#deployments.create(row));
  }

  /** Changes only the fields present in `patch`; bumps updatedAt. */
  updateDeployment(id: number, patch: DeploymentPatch): DeploymentRow {
    return this.#write(() => this.#deployments.update(id, patch));
  }

  deployment(id: number): DeploymentRow | undefined {
    return this.#deployments.byId(id);
  }

  /** Newest first; all of them unless `limit` is given. */
  deployments(service: string, limit?: number): DeploymentRow[] {
    return this.#deployments.forService(service, limit);
  }

  /** Deployments pending, progressing, paused or rolling back, oldest first. */
  activeDeployments(): DeploymentRow[] {
    return this.#deployments.active();
  }

  /** Replaces the deployment's plan; all steps pending, indexed from 0. */
  saveSteps(deploymentId: number, steps: { kind: string; params: unknown }[]): void {
    this.#write(() => this.#steps.save(deploymentId, steps));
  }

  updateStep(deploymentId: number, index: number, patch: StepPatch): void {
    this.#write(() => this.#steps.update(deploymentId, index, patch));
  }

  /** In plan order. */
  steps(deploymentId: number): StepRow[] {
    return this.#steps.list(deploymentId);
  }

  // events

  /**
   * Stores the event, then tells subscribers synchronously (inside `transaction`, after its commit).
   * @example
   * store.addEvent({ service: 'web', deploymentId: 7, type: 'step.done', message: 'shifted 25% to v2', data: { weight: 25 } });
   */
  addEvent(event: NewEvent): EventRow {
    const row = this.#write(() => this.#events.add(event));
    this.#subscribers.publish(row);
    return row;
  }

  /** Oldest first: those after `afterId`, or else the last `limit` (default 500). */
  events(filter?: EventFilter): EventRow[] {
    return this.#events.list(filter);
  }

  /** Calls `listener` with every event added from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    return this.#subscribers.add(listener);
  }

  // misc

  /**
   * Runs `fn` as one transaction: all its writes commit together, or none if it throws (then rethrown).
   * Nests (as a savepoint). `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    const run = this.#db.transaction(fn);
    // IMMEDIATE: take the write lock up front rather than fail to upgrade a read lock halfway.
    return this.#write(() => this.#subscribers.within(() => run.immediate()));
  }

  /** Every write is committed and fsynced before it returns: nothing waits. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** 'ok', or SQLite's list of problems, one per line. */
  integrityCheck(): string {
    return this.#integrityCheck.all().join('\n');
  }

  /** Closes the database; the store cannot be used afterwards. Safe to call twice. */
  close(): void {
    this.#subscribers.clear();
    this.#db.close();
  }

  /** Turns "disk full" or "read-only" from SQLite into a StoreError naming the database. */
  #write<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeErrorFromIo(this.path, err) ?? err;
    }
  }
}
