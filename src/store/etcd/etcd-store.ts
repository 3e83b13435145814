// The cluster's Store: desired state in etcd under one prefix, read from a local mirror that a watch keeps
// current. A write changes the mirror at once (the caller sees it, as with SQLite) and goes to etcd as one
// fenced transaction; `flush` resolves once etcd committed it, and the controller awaits that before it
// acts on what it wrote (invariant 7) or answers a command.
import type { Etcd3 } from 'etcd3';
import type { DeploymentPatch, NewDeployment } from '../deployments.js';
import { StoreError } from '../errors.js';
import type { EventFilter } from '../events.js';
import type { InstanceFilter, InstancePatch, NewInstance } from '../instances.js';
import type { RollbackWindowEnd } from '../rollback-windows.js';
import { nowIso, toJson, type DeploymentRow, type EventRecord, type EventRow, type InstanceRow, type NewEvent, type ReleaseRow, type ReleaseSpec, type StepRow, eventFromRecord } from '../rows.js';
import type { StoredRouting, StoredStandby } from '../routing.js';
import type { Store } from '../state-store.js';
import type { StepPatch } from '../steps.js';
import { Subscribers, type EventListener } from '../subscribers.js';
import { createEtcdClient } from './etcd-client.js';
import { eventKey, keyOf, normalisePrefix, parseKey, type Folder } from './keys.js';
import { Mirror } from './mirror.js';
import { PrefixFeed, type FeedEntry, type FeedListener } from './prefix-feed.js';
import { WRITER_KEY, WriteQueue, type Fence, type WriteOp } from './write-queue.js';

export interface EtcdStoreOptions {
  /** The local member first. */
  endpoints: readonly string[];
  /** Everything the cluster keeps lives under it (`/switchyard/`). */
  prefix: string;
  /** This host's name: its events are written under it. */
  node: string;
  callTimeoutMs?: number;
  /** How often the watch is checked against etcd (a stalled stream is re-listed after about this long). */
  probeMs?: number;
  onError?: (err: unknown, during: string) => void;
  /** Hear every key that is not desired state (hosts' reports, the leader key), from the first listing on. */
  others?: FeedListener[];
}

type TableFolder = Exclude<Folder, 'events'>;

export class EtcdStore implements Store {
  readonly path: string;
  readonly client: Etcd3;
  readonly prefix: string;
  readonly node: string;
  readonly feed: PrefixFeed;
  readonly #mirror: Mirror;
  readonly #queue: WriteQueue;
  readonly #subscribers = new Subscribers();
  /** Writes made inside open transactions, innermost last; sent when the outermost one commits. */
  readonly #capture: WriteOp[][] = [];
  readonly #others: FeedListener[] = [];
  readonly #tableListeners: ((revision: number) => void)[] = [];
  /** The revision of the newest desired-state change the mirror holds (see `tablesRevision`). */
  #tablesRevision = 0;
  /** Host events (an agent's instance crashed…): written whoever leads, never fenced. */
  readonly #hostEvents: WriteQueue;
  #eventSequence = 0;
  #closed = false;

  private constructor(options: EtcdStoreOptions) {
    this.prefix = normalisePrefix(options.prefix);
    this.node = options.node;
    this.path = `etcd ${options.endpoints.join(',')} ${this.prefix}`;
    this.client = createEtcdClient(options);
    this.#mirror = new Mirror(this.path);
    this.#queue = new WriteQueue(this.client, this.prefix, {
      path: this.path,
      onRetry: (err) => options.onError?.(err, 'write (retrying)'),
      // The mirror took the dropped writes before etcd had them: list again, so nothing reads what never landed.
      onFenced: () => void this.feed.relist('deposed').catch((err: unknown) => options.onError?.(err, 'list after deposed')),
    });
    this.#others.push(...(options.others ?? []));
    this.#hostEvents = new WriteQueue(this.client, this.prefix, { path: this.path, onRetry: (err) => options.onError?.(err, 'host event (retrying)') });
    this.feed = new PrefixFeed(this.client, this.prefix, { reset: (e, r) => this.#reset(e, r), changes: (e, r) => this.#changes(e, r) }, { probeMs: options.probeMs, onError: options.onError });
  }

  /**
   * Connects, lists the prefix into the mirror and watches it. Throws SY_ERR_STATE_UNREACHABLE when no
   * member answers.
   * @example const store = await EtcdStore.open({ endpoints: ['http://127.0.0.1:2379'], prefix: '/switchyard/', node: 'h1' });
   */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(options);
    try {
      await store.feed.start();
    } catch (err) {
      store.close();
      throw new StoreError('SY_ERR_STATE_UNREACHABLE', store.path, `cannot reach etcd at ${options.endpoints.join(', ')}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return store;
  }

  /** The etcd revision the mirror holds everything up to (what a proxy's table is built from). */
  get revision(): number {
    return this.feed.revision;
  }

  /**
   * The revision of the newest desired-state change the mirror holds: the same number on every host that
   * holds the same desired state, however each got there (a watch, or a listing after a compaction or a
   * stall). `revision` is not: other hosts' reports move it too. A listing shows no deleted key, but every
   * fenced transaction (every leader write, deletions too) also writes the writer key, so its mod revision
   * stands for them.
   */
  get tablesRevision(): number {
    return this.#tablesRevision;
  }

  /** Hears that desired state changed (after the mirror has it), with `tablesRevision` as it is now. */
  onTablesChanged(listener: (revision: number) => void): void {
    this.#tableListeners.push(listener);
  }

  /** The revision of this writer's newest committed write (what proxies must reach to route by it). */
  get committedRevision(): number {
    return this.#queue.committedRevision;
  }

  // fencing

  /** Writes from now on hold only while the leader key keeps this create revision. */
  setFence(fence: Fence | null): void {
    this.#queue.setFence(fence);
  }

  /** Stops this store writing (leadership lost): pending writes are dropped, waiting flushes reject. */
  depose(why: string): void {
    this.#queue.depose(why);
  }

  /** Transactions etcd refused because their fence no longer held. */
  get refusedWrites(): number {
    return this.#queue.refused;
  }

  /** Lists the prefix afresh: a new leader sees every write of the one before before it writes. */
  catchUp(): Promise<void> {
    return this.feed.relist('catch-up');
  }

  // services

  ensureService(name: string): void {
    this.#write(() => this.#mirror.store.ensureService(name), () => [keyOf('services', name)]);
  }

  stableRelease(service: string): ReleaseRow | undefined {
    return this.#mirror.store.stableRelease(service);
  }

  setStableRelease(service: string, releaseId: number): void {
    this.#write(() => this.#mirror.store.setStableRelease(service, releaseId), () => [keyOf('services', service)]);
  }

  scaledInstances(service: string): number | null {
    return this.#mirror.store.scaledInstances(service);
  }

  setScaledInstances(service: string, count: number | null): void {
    this.#write(() => this.#mirror.store.setScaledInstances(service, count), () => [keyOf('services', service)]);
  }

  clearStableRelease(service: string): void {
    this.#write(() => this.#mirror.store.clearStableRelease(service), () => [keyOf('services', service)]);
  }

  listServices(): { name: string; stableReleaseId: number | null }[] {
    return this.#mirror.store.listServices();
  }

  setRouting(service: string, routing: StoredRouting): void {
    this.#write(() => this.#mirror.store.setRouting(service, routing), () => [keyOf('routing', service)]);
  }

  routing(service: string): StoredRouting | null {
    return this.#mirror.store.routing(service);
  }

  setStandby(service: string, standby: StoredStandby | null): void {
    this.#write(() => this.#mirror.store.setStandby(service, standby), () => [keyOf('routing', service)]);
  }

  standby(service: string): StoredStandby | null {
    return this.#mirror.store.standby(service);
  }

  // releases

  createRelease(service: string, version: string, spec: ReleaseSpec): ReleaseRow {
    return this.#write(
      () => this.#mirror.store.createRelease(service, version, spec),
      (row) => [keyOf('services', service), keyOf('releases', row.id)],
    );
  }

  release(id: number): ReleaseRow | undefined {
    return this.#mirror.store.release(id);
  }

  releases(service: string): ReleaseRow[] {
    return this.#mirror.store.releases(service);
  }

  latestReleaseByVersion(service: string, version: string): ReleaseRow | undefined {
    return this.#mirror.store.latestReleaseByVersion(service, version);
  }

  // rollback windows

  endRollbackWindow(service: string, releaseId: number, reason: string): boolean {
    return this.#write(() => this.#mirror.store.endRollbackWindow(service, releaseId, reason), (ended) => (ended ? [keyOf('rollback-windows', releaseId)] : []));
  }

  reopenRollbackWindow(releaseId: number): void {
    this.#write(() => this.#mirror.store.reopenRollbackWindow(releaseId), () => [keyOf('rollback-windows', releaseId)]);
  }

  rollbackWindowEnds(service: string): RollbackWindowEnd[] {
    return this.#mirror.store.rollbackWindowEnds(service);
  }

  // instances

  createInstance(row: NewInstance): InstanceRow {
    return this.#write(() => this.#mirror.store.createInstance(row), (created) => [keyOf('instances', created.id)]);
  }

  updateInstance(id: string, patch: InstancePatch): InstanceRow {
    return this.#write(() => this.#mirror.store.updateInstance(id, patch), () => [keyOf('instances', id)]);
  }

  instance(id: string): InstanceRow | undefined {
    return this.#mirror.store.instance(id);
  }

  instances(filter?: InstanceFilter): InstanceRow[] {
    return this.#mirror.store.instances(filter);
  }

  nextInstanceOrdinal(releaseId: number): number {
    return this.#mirror.store.nextInstanceOrdinal(releaseId);
  }

  // deployments and steps

  createDeployment(row: NewDeployment): DeploymentRow {
    return this.#write(() => this.#mirror.store.createDeployment(row), (created) => [keyOf('deployments', created.id)]);
  }

  updateDeployment(id: number, patch: DeploymentPatch): DeploymentRow {
    return this.#write(() => this.#mirror.store.updateDeployment(id, patch), () => [keyOf('deployments', id)]);
  }

  deployment(id: number): DeploymentRow | undefined {
    return this.#mirror.store.deployment(id);
  }

  deployments(service: string, limit?: number): DeploymentRow[] {
    return this.#mirror.store.deployments(service, limit);
  }

  activeDeployments(): DeploymentRow[] {
    return this.#mirror.store.activeDeployments();
  }

  saveSteps(deploymentId: number, steps: { kind: string; params: unknown }[]): void {
    this.#write(() => this.#mirror.store.saveSteps(deploymentId, steps), () => [keyOf('steps', deploymentId)]);
  }

  updateStep(deploymentId: number, index: number, patch: StepPatch): void {
    this.#write(() => this.#mirror.store.updateStep(deploymentId, index, patch), () => [keyOf('steps', deploymentId)]);
  }

  steps(deploymentId: number): StepRow[] {
    return this.#mirror.store.steps(deploymentId);
  }

  // events

  /** Goes to etcd; subscribers (and `events`) see it when the watch brings it back with its id. */
  addEvent(event: NewEvent): void {
    this.#assertWritable();
    const record = eventRecord(event);
    this.#send([{ key: eventKey(this.node, this.#nextEventSequence()), value: JSON.stringify(record) }]);
  }

  /** An event a host reports about itself (its instances): never fenced, so a follower's agent can write it. */
  addHostEvent(event: NewEvent): void {
    if (this.#closed) return;
    this.#hostEvents.enqueue([{ key: eventKey(this.node, this.#nextEventSequence()), value: JSON.stringify(eventRecord(event)) }]);
  }

  events(filter?: EventFilter): EventRow[] {
    return this.#mirror.store.events(filter);
  }

  subscribe(listener: EventListener): () => void {
    return this.#subscribers.add(listener);
  }

  // misc

  transaction<T>(fn: () => T): T {
    this.#assertWritable();
    this.#capture.push([]);
    let result: T;
    try {
      result = this.#mirror.store.transaction(fn);
    } catch (err) {
      this.#capture.pop();
      throw err;
    }
    this.#send(this.#capture.pop()!);
    return result;
  }

  flush(): Promise<void> {
    return this.#queue.flush();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscribers.clear();
    this.#queue.close();
    this.#hostEvents.close();
    void this.feed.close().finally(() => this.client.close());
    this.#mirror.close();
  }

  /** Applies a write to the mirror, then sends the keys it changed, whole, as etcd should hold them. */
  #write<T>(apply: () => T, keys: (result: T) => string[]): T {
    this.#assertWritable();
    const result = apply();
    this.#send(keys(result).map((key) => this.#opFor(key)));
    return result;
  }

  #opFor(key: string): WriteOp {
    const parsed = parseKey(key)!;
    const value = this.#mirror.value(parsed.folder as TableFolder, parsed.id);
    return { key, value: value === undefined ? null : JSON.stringify(value) };
  }

  #send(ops: WriteOp[]): void {
    if (this.#capture.length > 0) this.#capture.at(-1)!.push(...ops);
    else this.#queue.enqueue(ops);
  }

  #assertWritable(): void {
    if (this.#closed) throw new StoreError('SY_ERR_STATE_UNREACHABLE', this.path, 'the store is closed');
    const why = this.#queue.fencedWhy;
    if (why !== null) throw new StoreError('SY_ERR_FENCED', this.path, `this controller may no longer write the cluster's state: ${why}`);
  }

  /** Unique per node across restarts: never below the clock in microseconds, never below what etcd has. */
  #nextEventSequence(): number {
    this.#eventSequence = Math.max(this.#eventSequence + 1, Date.now() * 1000);
    return this.#eventSequence;
  }

  #reset(entries: FeedEntry[], revision: number): void {
    const listed = new Set<string>();
    const added: EventRow[] = [];
    const others: FeedEntry[] = [];
    const ids = eventIds(entries);
    let newest = 0;
    this.#mirror.atomically(() => {
      for (const entry of entries) {
        const parsed = parseKey(entry.key);
        if (entry.key === WRITER_KEY) newest = Math.max(newest, entry.modRevision);
        if (parsed === null) {
          others.push(entry);
          continue;
        }
        newest = Math.max(newest, entry.modRevision);
        listed.add(entry.key);
        this.#noteOwnSequence(parsed.folder, parsed.id);
        if (parsed.folder !== 'events' && this.#queue.isStale(entry.key, entry.modRevision)) continue;
        const row = this.#mirror.apply(parsed.folder, parsed.id, JSON.parse(entry.value!), ids.get(entry.key) ?? entry.createRevision);
        if (row !== null) added.push(eventFromRecord(row as unknown as EventRecord));
      }
      for (const key of this.#mirror.keys()) {
        if (listed.has(key) || this.#queue.isStale(key, revision)) continue;
        const parsed = parseKey(key)!;
        this.#mirror.apply(parsed.folder, parsed.id, null, revision);
      }
    });
    // Not max(): a restored etcd lists an older state, and that is what the mirror now holds.
    this.#tablesRevision = newest;
    for (const listener of this.#others) listener.reset(others, revision);
    for (const listener of this.#tableListeners) listener(newest);
    this.#publish(added);
  }

  #changes(entries: FeedEntry[], revision: number): void {
    const added: EventRow[] = [];
    const others: FeedEntry[] = [];
    const ids = eventIds(entries);
    // The newest desired-state change in this batch (see `tablesRevision`).
    let changed = 0;
    this.#mirror.atomically(() => {
      for (const entry of entries) {
        const parsed = parseKey(entry.key);
        if (entry.key === WRITER_KEY) changed = Math.max(changed, entry.modRevision);
        if (parsed === null) {
          others.push(entry);
          continue;
        }
        changed = Math.max(changed, entry.modRevision);
        // Events enter the mirror only from etcd (with their id), so no echo of them is ever stale.
        if (parsed.folder !== 'events' && this.#queue.isStale(entry.key, entry.modRevision)) continue;
        const value: unknown = entry.value === null ? null : JSON.parse(entry.value);
        const row = this.#mirror.apply(parsed.folder, parsed.id, value, ids.get(entry.key) ?? entry.createRevision);
        if (row !== null) added.push(eventFromRecord(row as unknown as EventRecord));
      }
    });
    if (others.length > 0) for (const listener of this.#others) listener.changes(others, revision);
    if (changed > 0) {
      this.#tablesRevision = Math.max(this.#tablesRevision, changed);
      for (const listener of this.#tableListeners) listener(this.#tablesRevision);
    }
    this.#publish(added);
  }

  #noteOwnSequence(folder: Folder, id: string): void {
    if (folder !== 'events' || !id.startsWith(`${this.node}/`)) return;
    this.#eventSequence = Math.max(this.#eventSequence, Number(id.slice(this.node.length + 1)) || 0);
  }

  #publish(events: EventRow[]): void {
    events.sort((a, b) => a.id - b.id);
    for (const event of events) this.#subscribers.publish(event);
  }
}

/** More events than one transaction can hold (etcd's --max-txn-ops is 128 by default). */
const EVENTS_PER_REVISION = 1000;

/**
 * Ids for the events among `entries`. Every key a transaction writes shares its revision, so an event's
 * id is its revision × 1000 plus its place among that transaction's events (by its writer's sequence):
 * unique, in order, and the same on every host whether it came by the watch or a re-list.
 */
function eventIds(entries: FeedEntry[]): Map<string, number> {
  const byRevision = new Map<number, { key: string; sequence: number }[]>();
  for (const entry of entries) {
    const parsed = parseKey(entry.key);
    if (parsed?.folder !== 'events' || entry.value === null) continue;
    const sequence = Number(parsed.id.slice(parsed.id.lastIndexOf('/') + 1));
    const group = byRevision.get(entry.createRevision) ?? [];
    group.push({ key: entry.key, sequence });
    byRevision.set(entry.createRevision, group);
  }
  const ids = new Map<string, number>();
  for (const [revision, group] of byRevision) {
    group.sort((a, b) => a.sequence - b.sequence);
    group.forEach(({ key }, place) => ids.set(key, revision * EVENTS_PER_REVISION + place));
  }
  return ids;
}

/** An event as etcd keeps it: the SQLite record without its id (etcd's revision gives it one). */
function eventRecord(event: NewEvent): Omit<EventRecord, 'id'> {
  return {
    time: nowIso(),
    service: event.service ?? null,
    deployment_id: event.deploymentId ?? null,
    instance_id: event.instanceId ?? null,
    type: event.type,
    message: event.message,
    data: event.data === undefined ? null : toJson(event.data),
  };
}
