// What the load saw, per client class: requests sent, succeeded and failed by kind, completions per
// second, latencies by phase, and which versions answered. Compact, so a 40-minute run stays small.
import type { PhaseClock, PhaseName } from './phases.js';

export const CLASSES = ['get', 'upload', 'slow', 'sse', 'ws'] as const;
export type ClientClass = (typeof CLASSES)[number];
/** Classes whose work is counted per message (Recorder.work) rather than per completion. */
const STREAMED: readonly ClientClass[] = ['sse', 'ws'];

/** How a request or session failed. `injected` and `killed` are counted apart, not as failures. */
export const FAILURE_KINDS = ['connection', '5xx', 'timeout', 'truncated', 'ws-close', 'bad-answer'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface Failure {
  cls: ClientClass;
  kind: FailureKind;
  /** Milliseconds since the load started: when it was sent and when it failed. */
  start: number;
  end: number;
  phase: PhaseName;
  /** The phase's label when it was sent (e.g. "deploy 3: rolling + SIGKILL"). */
  label: string;
  /** The app process that served it, when the answer said so (x-app-pid, at the start of the answer). */
  pid: number | null;
  /** When its response head or WebSocket handshake arrived (ms since load start); null if it never did. */
  connectedAt: number | null;
  detail: string;
}

/** A good answer: which version and process, and how long it took. */
export interface Success {
  version: string | null;
  pid: number | null;
  /** For WebSocket sessions: closed by switchyard at a drain deadline (1001 with its reason). */
  goingAway?: boolean;
}

export interface ClassTotals {
  sent: number;
  succeeded: number;
  failed: Record<FailureKind, number>;
  /** 500s the app was told to answer (FAILURE_RATE): expected from a bad canary, reported apart. */
  injected: number;
  /** WebSocket sessions ended by switchyard at a drain deadline (close 1001 with its reason). */
  goingAway: number;
}

interface VersionSeen {
  count: number;
  /** Send times (ms since load start) of the first and last answer from this version. */
  firstStart: number;
  lastStart: number;
  firstEnd: number;
}

const MAX_FAILURE_RECORDS = 50_000;

export class Recorder {
  readonly startedAt: number;
  readonly totals = new Map<ClientClass, ClassTotals>();
  /**
   * Per second since start: good completions per class, each spread over the seconds it lasted, so a
   * 5 s stream counts a fifth in each of its seconds and long sessions do not make throughput lumpy.
   */
  readonly perSecond: Record<ClientClass, number[]>;
  /**
   * Per second since start: work done per class, the throughput compared during deploys. Completions
   * for GETs, uploads and slow requests (spread as above); messages for streams and sessions (SSE
   * events received, WebSocket messages echoed), of which there are many more, so a few long sessions
   * do not make the comparison a matter of luck.
   */
  readonly workPerSecond: Record<ClientClass, number[]>;
  readonly failedPerSecond: number[] = [];
  readonly latencies = new Map<string, number[]>();
  readonly failures: Failure[] = [];
  failuresDropped = 0;
  readonly versions = new Map<string, VersionSeen>();
  readonly injectedByVersion = new Map<string, VersionSeen>();

  constructor(private readonly phases: PhaseClock) {
    this.startedAt = phases.startedAt;
    const perSecond = {} as Record<ClientClass, number[]>;
    const workPerSecond = {} as Record<ClientClass, number[]>;
    for (const cls of CLASSES) {
      this.totals.set(cls, { sent: 0, succeeded: 0, failed: emptyKinds(), injected: 0, goingAway: 0 });
      perSecond[cls] = [];
      workPerSecond[cls] = [];
    }
    this.perSecond = perSecond;
    this.workPerSecond = workPerSecond;
  }

  /** Milliseconds since the load started. */
  now(): number {
    return Date.now() - this.startedAt;
  }

  sent(cls: ClientClass): number {
    this.totalsOf(cls).sent++;
    return this.now();
  }

  ok(cls: ClientClass, start: number, answer: Success, latencyMs?: number): void {
    const end = this.now();
    const totals = this.totalsOf(cls);
    totals.succeeded++;
    if (answer.goingAway) totals.goingAway++;
    spreadOver(this.perSecond[cls], start, end);
    if (!STREAMED.includes(cls)) spreadOver(this.workPerSecond[cls], start, end);
    if (answer.version !== null) seen(this.versions, answer.version, start, end);
    if (latencyMs !== undefined) {
      const key = `${cls}:${this.phases.at(start).phase}`;
      let list = this.latencies.get(key);
      if (list === undefined) this.latencies.set(key, (list = []));
      list.push(latencyMs);
    }
  }

  /** `units` messages of a stream or session arrived now (SSE events, WebSocket echoes). */
  work(cls: ClientClass, units = 1): void {
    bump(this.workPerSecond[cls], Math.floor(this.now() / 1000), units);
  }

  injected(cls: ClientClass, start: number, version: string): void {
    this.totalsOf(cls).injected++;
    seen(this.injectedByVersion, version, start, this.now());
  }

  fail(cls: ClientClass, start: number, kind: FailureKind, detail: string, pid: number | null = null, connectedAt: number | null = null): void {
    const end = this.now();
    this.totalsOf(cls).failed[kind]++;
    bump(this.failedPerSecond, Math.floor(end / 1000));
    const { phase, label } = this.phases.at(start);
    if (this.failures.length < MAX_FAILURE_RECORDS) this.failures.push({ cls, kind, start, end, phase, label, pid, connectedAt, detail: detail.slice(0, 300) });
    else this.failuresDropped++;
  }

  /** Latencies (ms) of good answers of `cls` sent during `phase`. */
  latenciesOf(cls: ClientClass, phase: PhaseName): number[] {
    return this.latencies.get(`${cls}:${phase}`) ?? [];
  }

  private totalsOf(cls: ClientClass): ClassTotals {
    return this.totals.get(cls)!;
  }
}

export function emptyKinds(): Record<FailureKind, number> {
  return { connection: 0, '5xx': 0, timeout: 0, truncated: 0, 'ws-close': 0, 'bad-answer': 0 };
}

/** Adds one completion to the seconds from `startMs` to `endMs`, in proportion to the time in each. */
export function spreadOver(list: number[], startMs: number, endMs: number): void {
  const first = Math.floor(startMs / 1000);
  const last = Math.floor(endMs / 1000);
  if (last <= first) return bump(list, last);
  const length = endMs - startMs;
  for (let s = first; s <= last; s++) {
    const overlap = Math.min(endMs, (s + 1) * 1000) - Math.max(startMs, s * 1000);
    if (overlap > 0) bump(list, s, overlap / length);
  }
}

function bump(list: number[], index: number, by = 1): void {
  while (list.length <= index) list.push(0);
  list[index] = (list[index] ?? 0) + by;
}

function seen(map: Map<string, VersionSeen>, version: string, start: number, end: number): void {
  const entry = map.get(version);
  if (entry === undefined) map.set(version, { count: 1, firstStart: start, lastStart: start, firstEnd: end });
  else {
    entry.count++;
    entry.firstStart = Math.min(entry.firstStart, start);
    entry.lastStart = Math.max(entry.lastStart, start);
    entry.firstEnd = Math.min(entry.firstEnd, end);
  }
}

/** Sorts an error thrown by a client into a failure kind; `gotHead` says whether the response had begun. */
export function errorKind(err: unknown, gotHead: boolean): FailureKind {
  const code = (err as { code?: unknown }).code;
  const name = err instanceof Error ? err.name : '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || name === 'TimeoutError' || code === 'ETIMEDOUT') return 'timeout';
  return gotHead ? 'truncated' : 'connection';
}

/** One line for an error: its code and message. */
export function errorText(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
