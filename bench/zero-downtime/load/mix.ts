// The load mix, started against one URL: paced keep-alive GETs, paced 1 MB uploads, slow requests,
// SSE streams and WebSocket echo sessions, all bounded by time and count, all counted per class.
import { Pool } from 'undici';
import { getWorker, slowWorker, uploadWorker, type Worker } from './http-clients.js';
import { RunGate } from './pacing.js';
import { PhaseClock } from './phases.js';
import { Recorder } from './recorder.js';
import { sseWorker } from './sse.js';
import { wsWorker } from './websocket.js';

export interface MixOptions {
  /** Total GET rate (requests/s), spread over `getWorkers` keep-alive connections. */
  getRate: number;
  getWorkers: number;
  /** Uploads per second in total, over `uploadWorkers` connections; each is `uploadBytes` long. */
  uploadRate: number;
  uploadWorkers: number;
  uploadBytes: number;
  slowWorkers: number;
  slowMs: readonly [number, number];
  sseWorkers: number;
  sseSeconds: readonly [number, number];
  wsWorkers: number;
  wsSessionMs: readonly [number, number];
  wsMessageMs: number;
  /** Per-request limit beyond a request's own expected length. */
  graceMs: number;
  /** Hard bounds: the load ends by itself after this long or this many requests and sessions. */
  maxDurationMs: number;
  maxRequests: number;
}

export const MIX_DEFAULTS: Omit<MixOptions, 'maxDurationMs'> = {
  getRate: 300,
  getWorkers: 6,
  uploadRate: 4,
  uploadWorkers: 2,
  uploadBytes: 1024 * 1024,
  slowWorkers: 4,
  slowMs: [2000, 5000],
  sseWorkers: 3,
  sseSeconds: [2, 4],
  wsWorkers: 3,
  wsSessionMs: [2000, 8000],
  wsMessageMs: 100,
  graceMs: 10_000,
  maxRequests: 5_000_000,
};

export class LoadMix {
  readonly phases: PhaseClock;
  readonly rec: Recorder;
  private readonly gate: RunGate;
  private readonly pools: Pool[] = [];
  private readonly done: Promise<void>;

  private constructor(base: string, o: MixOptions) {
    this.phases = new PhaseClock();
    this.rec = new Recorder(this.phases);
    this.gate = new RunGate(o.maxDurationMs, o.maxRequests);
    const worker = (connections: number): Worker => {
      const pool = new Pool(base, { connections, pipelining: 1 });
      this.pools.push(pool);
      return { gate: this.gate, rec: this.rec, pool };
    };
    const get = worker(o.getWorkers);
    const upload = worker(o.uploadWorkers);
    const slow = worker(o.slowWorkers);
    const sse = worker(o.sseWorkers);
    const body = Buffer.alloc(o.uploadBytes, 'switchyard ');
    const ws = { url: `${base.replace(/^http/, 'ws')}/ws`, minMs: o.wsSessionMs[0], maxMs: o.wsSessionMs[1], messageMs: o.wsMessageMs, graceMs: o.graceMs };
    const times = <T>(n: number, start: (i: number) => Promise<T>) => Array.from({ length: n }, (_, i) => start(i));
    this.done = Promise.all([
      ...times(o.getWorkers, () => getWorker(get, (1000 * o.getWorkers) / o.getRate, o.graceMs)),
      ...times(o.uploadWorkers, () => uploadWorker(upload, (1000 * o.uploadWorkers) / o.uploadRate, body, o.graceMs * 2)),
      ...times(o.slowWorkers, (i) => slowWorker(slow, i, o.slowMs[0], o.slowMs[1], o.graceMs)),
      ...times(o.sseWorkers, (i) => sseWorker(sse, i, o.sseSeconds[0], o.sseSeconds[1], o.graceMs)),
      ...times(o.wsWorkers, (i) => wsWorker(this.gate, this.rec, i, ws)),
    ]).then(() => undefined);
  }

  /** Starts every worker at once against `base` (http://127.0.0.1:PORT, no trailing slash). */
  static start(base: string, options: MixOptions): LoadMix {
    return new LoadMix(base.replace(/\/$/, ''), options);
  }

  /** No new requests or sessions; waits for those in flight (each bounded by its own timeout). */
  async stop(): Promise<void> {
    this.gate.stop();
    await this.done;
    await Promise.all(this.pools.map((p) => p.close()));
    this.phases.close();
  }
}
