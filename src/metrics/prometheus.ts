// Prometheus exposition with prom-client: our own counters are read at scrape time through custom
// collectors (the hot path never touches prom-client), plus gauges read from the routing table.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { EndpointReport } from '../proxy/data-plane.js';
import type { TableSpec } from '../proxy/routing-table.js';
import { LATENCY_BUCKETS } from './latency-histogram.js';
import { LOOP_BUCKETS, type LoopSeries } from './loop-health.js';
import type { RequestMetrics } from './request-metrics.js';

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}
type MetricType = 'counter' | 'gauge' | 'histogram';

/** A prom-client metric whose values are computed when scraped. */
function computed(name: string, help: string, type: MetricType, values: () => Sample[]) {
  return {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: () => Promise.resolve({ name, help, type, aggregator: 'sum' as const, values: values() }),
    reset: () => {},
  };
}

const PHASES = ['idle', 'pending', 'progressing', 'paused', 'rolling-back'] as const;

/** The deployment phase of each service, for switchyard_deployment_phase (idle when none runs). */
export type PhaseOf = () => Iterable<[service: string, phase: string]>;

/** The table in force and what the proxies report of each endpoint. */
export interface DataPlaneView {
  table(): TableSpec;
  endpoint(id: string): EndpointReport;
}

export function createMetricsRegistry(metrics: RequestMetrics, dataPlane: DataPlaneView, phases: PhaseOf): Registry {
  const registry = new Registry();
  // The standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes…), so common dashboards work.
  collectDefaultMetrics({ register: registry });
  const each = function* () {
    for (const [service, releases] of metrics.series) for (const [release, s] of releases) yield { service, release, s };
  };
  const register = (metric: ReturnType<typeof computed>) =>
    registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);

  register(
    computed('switchyard_requests_total', 'Requests answered, by status code', 'counter', () => {
      const out: Sample[] = [];
      for (const { service, release, s } of each()) {
        for (const [code, value] of s.byCode) out.push({ labels: { service, release, code }, value });
      }
      return out;
    }),
  );
  register(
    computed('switchyard_upstream_errors_total', 'Failed upstream exchanges, by kind', 'counter', () => {
      const out: Sample[] = [];
      for (const { service, release, s } of each()) {
        for (const [kind, value] of s.upstreamErrors) out.push({ labels: { service, release, kind }, value });
      }
      return out;
    }),
  );
  register(
    computed('switchyard_request_duration_seconds', 'Request duration through the proxy', 'histogram', () => {
      const out: Sample[] = [];
      for (const { service, release, s } of each()) {
        const h = s.latency;
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((le, i) => {
          cumulative += h.counts[i]!;
          out.push({ metricName: 'switchyard_request_duration_seconds_bucket', labels: { service, release, le }, value: cumulative });
        });
        out.push({ metricName: 'switchyard_request_duration_seconds_bucket', labels: { service, release, le: '+Inf' }, value: h.count });
        out.push({ metricName: 'switchyard_request_duration_seconds_sum', labels: { service, release }, value: h.sumSeconds });
        out.push({ metricName: 'switchyard_request_duration_seconds_count', labels: { service, release }, value: h.count });
      }
      return out;
    }),
  );
  const loopHistogram = (name: string, help: string, pick: (s: LoopSeries) => [ArrayLike<number>, number]) =>
    computed(name, help, 'histogram', () => {
      const out: Sample[] = [];
      for (const [process, series] of metrics.loops) {
        const [counts, sum] = pick(series);
        let cumulative = 0;
        LOOP_BUCKETS.forEach((le, i) => {
          cumulative += counts[i]!;
          out.push({ metricName: `${name}_bucket`, labels: { process, le }, value: cumulative });
        });
        cumulative += counts[LOOP_BUCKETS.length]!;
        out.push({ metricName: `${name}_bucket`, labels: { process, le: '+Inf' }, value: cumulative });
        out.push({ metricName: `${name}_sum`, labels: { process }, value: sum });
        out.push({ metricName: `${name}_count`, labels: { process }, value: cumulative });
      }
      return out;
    });
  register(
    loopHistogram('switchyard_event_loop_delay_seconds', 'How late the event loop ran its timers (stalls), per process', (s) => [s.delay, s.delaySumSeconds]),
  );
  register(loopHistogram('switchyard_gc_pause_seconds', 'Garbage-collection pauses, per process', (s) => [s.gc, s.gcSumSeconds]));
  register(
    computed('switchyard_inflight_requests', 'Requests and WebSockets in flight', 'gauge', () => {
      const out: Sample[] = [];
      for (const service of dataPlane.table().services) {
        for (const release of service.releases) {
          const value = release.endpoints.reduce((sum, e) => sum + dataPlane.endpoint(e.id).inFlight, 0);
          out.push({ labels: { service: service.name, release: release.name }, value });
        }
      }
      return out;
    }),
  );
  register(
    computed('switchyard_traffic_weight', "Percent of the service's unpinned traffic each release gets (0-100)", 'gauge', () => {
      const out: Sample[] = [];
      for (const service of dataPlane.table().services) {
        // Table weights are instance counts at rest and percentages during a split: always report the share.
        const total = service.releases.reduce((sum, r) => sum + Math.max(r.weight, 0), 0);
        for (const release of service.releases) {
          const share = total === 0 ? 0 : Math.round((Math.max(release.weight, 0) / total) * 10000) / 100;
          out.push({ labels: { service: service.name, release: release.name }, value: share });
        }
      }
      return out;
    }),
  );
  register(
    computed('switchyard_instance_healthy', '1 when the instance takes traffic (healthy, not ejected)', 'gauge', () => {
      const out: Sample[] = [];
      for (const service of dataPlane.table().services) {
        for (const release of service.releases) {
          for (const e of release.endpoints) {
            const available = e.healthy && !dataPlane.endpoint(e.id).ejected;
            out.push({ labels: { service: service.name, release: release.name, instance: e.id }, value: available ? 1 : 0 });
          }
        }
      }
      return out;
    }),
  );
  register(
    computed('switchyard_deployment_phase', '1 for the phase each service is in (idle when no deployment runs)', 'gauge', () => {
      const out: Sample[] = [];
      for (const [service, current] of phases()) {
        for (const phase of PHASES) out.push({ labels: { service, phase }, value: phase === current ? 1 : 0 });
      }
      return out;
    }),
  );
  return registry;
}
