// What a proxy worker saw, gathered between two shipments (about a second) and shipped to the controller
// as plain data, which adds it into its own metrics (RequestMetrics.merge): canary analysis, /metrics and
// the dashboard see the sum of every worker. Each exchange is counted in exactly one batch.
import type { Endpoint } from '../proxy/endpoint.js';
import type { UpstreamFailure } from '../proxy/errors.js';
import type { Exchange } from '../proxy/exchange.js';
import type { ExchangeObserver } from '../proxy/proxy-context.js';
import { binOf } from './latency-bins.js';
import { bucketOf, LATENCY_BUCKETS } from './latency-histogram.js';
import type { LoopSample } from './loop-health.js';

/** One second of one series (a release of a service, or one instance). */
export interface SecondSample {
  second: number;
  requests: number;
  /** Upstream failures (connect, reset, timeout, protocol, other); not also counted in `codes`. */
  upstream: number;
  /** Flat [status, count, …] of the other outcomes; status 0 = no response. */
  codes: number[];
  /** Flat [latency bin, count, …] (latency-bins.ts). */
  bins: number[];
}

export interface ReleaseSample {
  service: string;
  release: string;
  seconds: SecondSample[];
  /** Flat [status, count, …] of every answer (switchyard_requests_total). */
  byCode: number[];
  /** Flat [kind, count, …] of upstream failures (switchyard_upstream_errors_total). */
  upstreamErrors: (string | number)[];
  /** Non-cumulative counts per Prometheus bucket (latency-histogram.ts), plus the sum in seconds. */
  latencyBuckets: number[];
  latencySumSeconds: number;
}

export interface InstanceSample {
  instance: string;
  seconds: SecondSample[];
}

export interface ObservationBatch {
  releases: ReleaseSample[];
  instances: InstanceSample[];
  /** The worker's event-loop delay and GC pauses over the same second. */
  loop?: LoopSample;
}

class SecondCounts {
  requests = 0;
  upstream = 0;
  readonly codes = new Map<number, number>();
  readonly bins = new Map<number, number>();

  constructor(readonly second: number) {}

  add(status: number, upstreamError: boolean, bin: number): void {
    this.requests++;
    if (upstreamError) this.upstream++;
    else this.codes.set(status, (this.codes.get(status) ?? 0) + 1);
    this.bins.set(bin, (this.bins.get(bin) ?? 0) + 1);
  }

  sample(): SecondSample {
    return { second: this.second, requests: this.requests, upstream: this.upstream, codes: flat(this.codes), bins: flat(this.bins) };
  }
}

/** Per-second counts of one series; usually one or two seconds between shipments. */
class SeriesSeconds {
  private readonly seconds: SecondCounts[] = [];

  /** `bin` is the latency's bin (latency-bins.ts). */
  add(second: number, status: number, upstreamError: boolean, bin: number): void {
    let last = this.seconds[this.seconds.length - 1];
    if (last === undefined || last.second !== second) this.seconds.push((last = new SecondCounts(second)));
    last.add(status, upstreamError, bin);
  }

  samples(): SecondSample[] {
    return this.seconds.map((s) => s.sample());
  }
}

class ReleaseCounts {
  readonly seconds = new SeriesSeconds();
  readonly byCode = new Map<number, number>();
  readonly upstreamErrors = new Map<string, number>();
  readonly buckets: number[] = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  sumSeconds = 0;

  constructor(
    readonly service: string,
    readonly release: string,
  ) {}

  sample(): ReleaseSample {
    return {
      service: this.service,
      release: this.release,
      seconds: this.seconds.samples(),
      byCode: flat(this.byCode),
      upstreamErrors: flatNamed(this.upstreamErrors),
      latencyBuckets: this.buckets,
      latencySumSeconds: this.sumSeconds,
    };
  }
}

/** The worker's observer: counts what each exchange ended as, until `take()` ships it. */
export class ObservationBuffer implements ExchangeObserver {
  private releases = new Map<string, Map<string, ReleaseCounts>>();
  private instances = new Map<string, SeriesSeconds>();
  // Consecutive requests nearly always hit the same release and often the same instance: the last
  // series of each is kept at hand, so most requests do no map lookup for them.
  private lastRelease: ReleaseCounts | null = null;
  private lastInstanceId: string | null = null;
  private lastInstance: SeriesSeconds | null = null;

  onExchangeEnd(exchange: Exchange): void {
    const counts = this.releaseCounts(exchange.service?.name ?? '', exchange.release?.name ?? '');
    const code = exchange.status;
    const ms = exchange.durationMs;
    counts.byCode.set(code, (counts.byCode.get(code) ?? 0) + 1);
    counts.buckets[bucketOf(ms)]!++;
    counts.sumSeconds += ms / 1000;
    const failure = exchange.failure;
    const upstreamError = failure !== null && failure !== 'aborted';
    if (upstreamError) counts.upstreamErrors.set(failure, (counts.upstreamErrors.get(failure) ?? 0) + 1);
    // The wall-clock second, as the controller's analysis windows count them.
    const second = Math.floor(Date.now() / 1000);
    const bin = binOf(ms);
    counts.seconds.add(second, code, upstreamError, bin);
    const endpoint = exchange.endpoint;
    if (endpoint !== null) this.instanceSeconds(endpoint.id).add(second, code, upstreamError, bin);
  }

  /** A failed attempt that was retried: an upstream error of the release and instance it hit. */
  onAttemptFailed(exchange: Exchange, endpoint: Endpoint, release: string, failure: UpstreamFailure): void {
    if (failure === 'aborted') return;
    const counts = this.releaseCounts(exchange.service?.name ?? '', release);
    counts.upstreamErrors.set(failure, (counts.upstreamErrors.get(failure) ?? 0) + 1);
    const second = Math.floor(Date.now() / 1000);
    const bin = binOf(performance.now() - exchange.startedAt);
    counts.seconds.add(second, 0, true, bin);
    this.instanceSeconds(endpoint.id).add(second, 0, true, bin);
  }

  /** Everything counted since the last call, and a fresh start. */
  take(): ObservationBatch {
    const releases: ReleaseSample[] = [];
    for (const byRelease of this.releases.values()) for (const counts of byRelease.values()) releases.push(counts.sample());
    const instances = [...this.instances].map(([instance, seconds]) => ({ instance, seconds: seconds.samples() }));
    this.releases = new Map();
    this.instances = new Map();
    this.lastRelease = null;
    this.lastInstanceId = null;
    this.lastInstance = null;
    return { releases, instances };
  }

  private releaseCounts(service: string, release: string): ReleaseCounts {
    const last = this.lastRelease;
    if (last !== null && last.release === release && last.service === service) return last;
    return (this.lastRelease = this.lookUpReleaseCounts(service, release));
  }

  private lookUpReleaseCounts(service: string, release: string): ReleaseCounts {
    let byRelease = this.releases.get(service);
    if (byRelease === undefined) this.releases.set(service, (byRelease = new Map<string, ReleaseCounts>()));
    let counts = byRelease.get(release);
    if (counts === undefined) byRelease.set(release, (counts = new ReleaseCounts(service, release)));
    return counts;
  }

  private instanceSeconds(id: string): SeriesSeconds {
    if (id === this.lastInstanceId && this.lastInstance !== null) return this.lastInstance;
    this.lastInstanceId = id;
    return (this.lastInstance = this.lookUpInstanceSeconds(id));
  }

  private lookUpInstanceSeconds(id: string): SeriesSeconds {
    let seconds = this.instances.get(id);
    if (seconds === undefined) this.instances.set(id, (seconds = new SeriesSeconds()));
    return seconds;
  }
}

function flat(map: Map<number, number>): number[] {
  const out: number[] = [];
  for (const [key, count] of map) out.push(key, count);
  return out;
}

function flatNamed(map: Map<string, number>): (string | number)[] {
  const out: (string | number)[] = [];
  for (const [key, count] of map) out.push(key, count);
  return out;
}
