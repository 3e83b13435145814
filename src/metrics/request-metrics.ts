// Counts what the proxy observes, per service and release: responses by status code, upstream errors by
// kind, latency. Lookups use the strings the table already holds, so recording allocates nothing.
import type { Endpoint } from '../proxy/endpoint.js';
import type { UpstreamFailure } from '../proxy/errors.js';
import type { Exchange } from '../proxy/exchange.js';
import type { Attempted, ExchangeObserver } from '../proxy/proxy-context.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { ObservationBatch } from './observations.js';
import { RollingWindow, WINDOW_SECONDS } from './rolling-window.js';

export class ReleaseSeries {
  /** The last minutes second by second, for canary analysis and the dashboard. */
  readonly window = new RollingWindow();
  /** Responses by status code (proxy errors included). */
  readonly byCode = new Map<number, number>();
  /** Upstream failures by kind (connect, reset, timeout, protocol, other). */
  readonly upstreamErrors = new Map<string, number>();
  readonly latency = new LatencyHistogram();
}

export class RequestMetrics implements ExchangeObserver {
  /** service → release → series. Requests that matched no service count under service "". */
  readonly series = new Map<string, Map<string, ReleaseSeries>>();
  /** Per instance (endpoint id), the same rolling window. */
  readonly instances = new Map<string, RollingWindow>();

  onExchangeEnd(exchange: Exchange): void {
    const series = this.seriesFor(exchange.service?.name ?? '', exchange.release?.name ?? '');
    const code = exchange.status;
    series.byCode.set(code, (series.byCode.get(code) ?? 0) + 1);
    series.latency.observe(exchange.durationMs);
    const failure = exchange.failure;
    const upstreamError = failure !== null && failure !== 'aborted';
    if (upstreamError) series.upstreamErrors.set(failure, (series.upstreamErrors.get(failure) ?? 0) + 1);
    const second = Math.floor(Date.now() / 1000);
    series.window.record(second, code, upstreamError, exchange.durationMs);
    const endpoint = exchange.endpoint;
    if (endpoint !== null) this.instanceWindow(endpoint.id).record(second, code, upstreamError, exchange.durationMs);
  }

  private instanceWindow(id: string): RollingWindow {
    let window = this.instances.get(id);
    if (window === undefined) this.instances.set(id, (window = new RollingWindow()));
    return window;
  }

  /** A failed attempt that was retried: an upstream error of the release and instance it hit. */
  onAttemptFailed(exchange: Attempted, endpoint: Endpoint, release: string, failure: UpstreamFailure): void {
    if (failure === 'aborted') return;
    const series = this.seriesFor(exchange.service?.name ?? '', release);
    series.upstreamErrors.set(failure, (series.upstreamErrors.get(failure) ?? 0) + 1);
    const second = Math.floor(Date.now() / 1000);
    const elapsed = performance.now() - exchange.startedAt;
    series.window.record(second, 0, true, elapsed);
    this.instanceWindow(endpoint.id).record(second, 0, true, elapsed);
  }

  /** Adds what a proxy worker saw (its batch since the last one). */
  merge(batch: ObservationBatch): void {
    for (const sample of batch.releases) {
      const series = this.seriesFor(sample.service, sample.release);
      for (let i = 0; i < sample.byCode.length; i += 2) series.byCode.set(sample.byCode[i]!, (series.byCode.get(sample.byCode[i]!) ?? 0) + sample.byCode[i + 1]!);
      for (let i = 0; i < sample.upstreamErrors.length; i += 2) {
        const kind = String(sample.upstreamErrors[i]);
        series.upstreamErrors.set(kind, (series.upstreamErrors.get(kind) ?? 0) + Number(sample.upstreamErrors[i + 1]));
      }
      series.latency.add(sample.latencyBuckets, sample.latencySumSeconds);
      for (const second of sample.seconds) series.window.add(second);
    }
    for (const sample of batch.instances) {
      const window = this.instanceWindow(sample.instance);
      for (const second of sample.seconds) window.add(second);
    }
  }

  /** Forgets instances that have seen no request for the whole window (they are long gone). */
  prune(nowSecond: number): void {
    for (const [id, window] of this.instances) {
      if (window.lastSecond < nowSecond - WINDOW_SECONDS) this.instances.delete(id);
    }
  }

  seriesFor(service: string, release: string): ReleaseSeries {
    let releases = this.series.get(service);
    if (releases === undefined) this.series.set(service, (releases = new Map<string, ReleaseSeries>()));
    let series = releases.get(release);
    if (series === undefined) releases.set(release, (series = new ReleaseSeries()));
    return series;
  }
}
