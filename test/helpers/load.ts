// A bounded load generator for deployment tests: N concurrent workers send requests through the proxy
// until stopped (or a count or time limit is reached) and record every request's outcome, including
// the `version` that examples/node-app (or any app answering {"version": ...}) put in its JSON body.
import { Pool } from 'undici';

export interface LoadOptions {
  /** Base URL of the proxy, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Workers sending fast requests, one at a time each. */
  workers: number;
  /** Extra workers sending only slow requests (`?sleep=slowMs`), so long requests are always in flight. */
  slowWorkers?: number;
  slowMs?: number;
  /** Share (0-1) of the fast requests sent as POST with `postBody`; spread evenly, not at random. */
  postShare?: number;
  postBody?: string;
  path?: string;
  headers?: Record<string, string>;
  /** Pause between two requests of one worker (keeps a loaded machine responsive); 0 = back to back. */
  pauseMs?: number;
  /** Hard limits: the load stops by itself after this many requests or this long. */
  maxRequests?: number;
  maxDurationMs?: number;
  /** Per-request limit for the response head and body. */
  timeoutMs?: number;
  /** Every request on a new connection (Connection: close), as clients without keep-alive do. */
  newConnections?: boolean;
}

export interface Outcome {
  worker: number;
  method: 'GET' | 'POST';
  slow: boolean;
  /** Date.now() when the request was sent and when it ended. */
  start: number;
  end: number;
  status: number | null;
  /** The `version` field of the JSON body; null when there was none. */
  version: string | null;
  /** The `pid` field of the JSON body (examples/node-app sends it): which instance answered. */
  pid: number | null;
  /** Null for a good answer (200 with a version); else the kind of failure: an error code, `status 502`, `bad body`. */
  error: string | null;
  detail: string | null;
}

export interface LoadReport {
  outcomes: Outcome[];
  ok: number;
  failed: number;
  failures: Outcome[];
  /** Good answers per version. */
  versions: Record<string, number>;
  durationMs: number;
}

/**
 * Starts the load at once; `stop()` ends it, waits for the requests in flight, and reports.
 *
 * @example
 * const load = Load.start({ url: proxyUrl, workers: 8, slowWorkers: 2, slowMs: 3000, postShare: 0.2 });
 * // ... deploy ...
 * const report = await load.stop();
 * assert.equal(report.failed, 0, describeFailures(report));
 */
export class Load {
  readonly outcomes: Outcome[] = [];
  private stopped = false;
  private stopping: Promise<LoadReport> | null = null;
  private issued = 0;
  private readonly startedAt = Date.now();
  private readonly pool: Pool;
  private readonly done: Promise<void>;
  private readonly wakeUps = new Set<() => void>();

  private constructor(private readonly options: Required<Omit<LoadOptions, 'headers'>> & { headers: Record<string, string> }) {
    const total = options.workers + options.slowWorkers;
    this.pool = new Pool(options.url, {
      connections: total,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    const workers = Array.from({ length: total }, (_, i) => this.work(i, i >= options.workers));
    this.done = Promise.all(workers).then(() => undefined);
  }

  static start(options: LoadOptions): Load {
    return new Load({
      slowWorkers: 0,
      slowMs: 3000,
      postShare: 0,
      postBody: JSON.stringify({ hello: 'switchyard', padding: 'x'.repeat(512) }),
      path: '/',
      headers: {},
      pauseMs: 0,
      maxRequests: 50_000,
      maxDurationMs: 60_000,
      timeoutMs: 20_000,
      newConnections: false,
      ...options,
    });
  }

  /** Good answers so far from `version`. */
  count(version: string, filter: (o: Outcome) => boolean = () => true): number {
    return this.outcomes.filter((o) => o.error === null && o.version === version && filter(o)).length;
  }

  /** Ends the load: no new requests; those in flight finish (or time out). Safe to call again. */
  stop(): Promise<LoadReport> {
    this.stopping ??= (async () => {
      this.stopped = true;
      for (const wake of this.wakeUps) wake();
      await this.done;
      await this.pool.close();
      return this.report();
    })();
    return this.stopping;
  }

  report(): LoadReport {
    const outcomes = [...this.outcomes].sort((a, b) => a.start - b.start);
    const failures = outcomes.filter((o) => o.error !== null);
    const versions: Record<string, number> = {};
    for (const o of outcomes) if (o.error === null && o.version !== null) versions[o.version] = (versions[o.version] ?? 0) + 1;
    return { outcomes, ok: outcomes.length - failures.length, failed: failures.length, failures, versions, durationMs: Date.now() - this.startedAt };
  }

  private get running(): boolean {
    const { maxRequests, maxDurationMs } = this.options;
    return !this.stopped && this.issued < maxRequests && Date.now() - this.startedAt < maxDurationMs;
  }

  private async work(worker: number, slow: boolean): Promise<void> {
    const { postShare, pauseMs } = this.options;
    for (let i = 0; this.running; i++) {
      this.issued++;
      // Evenly spread POSTs: request i is a POST when the running share crosses a whole number.
      const post = !slow && Math.floor((i + 1) * postShare) > Math.floor(i * postShare);
      this.outcomes.push(await this.send(worker, slow, post));
      if (pauseMs > 0 && this.running) await this.pause(pauseMs);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeUps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeUps.add(wake);
    });
  }

  private async send(worker: number, slow: boolean, post: boolean): Promise<Outcome> {
    const { path, slowMs, postBody, headers } = this.options;
    const method = post ? 'POST' : 'GET';
    const start = Date.now();
    const outcome = (status: number | null, body: Body, error: string | null, detail: string | null): Outcome => ({
      worker,
      method,
      slow,
      start,
      end: Date.now(),
      status,
      version: body.version,
      pid: body.pid,
      error,
      detail,
    });
    const target = slow ? `${path}${path.includes('?') ? '&' : '?'}sleep=${slowMs}` : path;
    try {
      const res = await this.pool.request({
        path: target,
        method,
        headers: post ? { ...headers, 'content-type': 'application/json' } : headers,
        body: post ? postBody : undefined,
        reset: this.options.newConnections,
      });
      const text = await res.body.text();
      const body = parseBody(text);
      if (res.statusCode !== 200) return outcome(res.statusCode, body, `status ${res.statusCode}`, text.slice(0, 300));
      if (body.version === null) return outcome(res.statusCode, body, 'bad body', text.slice(0, 300));
      return outcome(res.statusCode, body, null, null);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const kind = typeof code === 'string' ? code : err instanceof Error ? err.name : 'error';
      return outcome(null, { version: null, pid: null }, kind, err instanceof Error ? err.message : String(err));
    }
  }
}

interface Body {
  version: string | null;
  pid: number | null;
}

function parseBody(text: string): Body {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null) {
      const { version, pid } = body as { version?: unknown; pid?: unknown };
      return { version: typeof version === 'string' ? version : null, pid: typeof pid === 'number' ? pid : null };
    }
  } catch {
    // Not JSON: nothing to read.
  }
  return { version: null, pid: null };
}

/** The first few failures in words, for an assertion message. */
export function describeFailures(report: LoadReport, limit = 8): string {
  const lines = report.failures
    .slice(0, limit)
    .map((o) => `${new Date(o.start).toISOString()} ${o.method}${o.slow ? ' (slow)' : ''}: ${o.error} ${o.detail ?? ''}`.trim());
  return `${report.failed} of ${report.outcomes.length} requests failed${lines.length ? `:\n${lines.join('\n')}` : ''}`;
}
