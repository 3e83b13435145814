// Per-second series of one service for the dashboard's charts: requests/s, error rate, p50 and p99 per
// release, read from the proxy's rolling windows, in columns (one array per measure) as charts want them.
import { WINDOW_SECONDS, type RollingWindow } from '../metrics/rolling-window.js';

/** Latest first-class facts about a release the series is labelled with (null when unknown). */
export interface ReleaseLabel {
  number: number | null;
  version: string;
  role: 'stable' | 'target' | 'other';
}

export interface ReleaseSeriesView extends ReleaseLabel {
  /** The release's name in the routing table and in metrics: the version, or `version#number`. */
  name: string;
  requests: number[];
  /** Errors / requests in percent; null for a second without requests. */
  errorRate: (number | null)[];
  p50: (number | null)[];
  p99: (number | null)[];
}

export interface TimeseriesView {
  service: string;
  /** Unix seconds of each point; the last is the last complete second. */
  seconds: number[];
  releases: ReleaseSeriesView[];
}

export interface TimeseriesRequest {
  /** The last complete second. */
  to: number;
  /** How many seconds back (at most the window). */
  seconds: number;
  /** Only the seconds after this one (incremental polling). */
  after?: number;
}

/**
 * Columns for every release that saw a request in the window, oldest release name first.
 *
 * @example
 * timeseriesView('web', metrics.series.get('web'), { to: now - 1, seconds: 300 }, isError, labelOf)
 */
export function timeseriesView(
  service: string,
  windows: ReadonlyMap<string, { window: RollingWindow }> | undefined,
  request: TimeseriesRequest,
  isError: (status: number) => boolean,
  labelOf: (name: string) => ReleaseLabel,
): TimeseriesView {
  const span = Math.min(Math.max(Math.floor(request.seconds), 1), WINDOW_SECONDS);
  let from = request.to - span + 1;
  if (request.after !== undefined && request.after + 1 > from) from = request.after + 1;
  const seconds: number[] = [];
  for (let s = from; s <= request.to; s++) seconds.push(s);
  const releases: ReleaseSeriesView[] = [];
  for (const [name, { window }] of windows ?? []) {
    // A release is listed while the window holds any request of it, so full and incremental answers agree.
    if (window.lastSecond <= request.to - WINDOW_SECONDS) continue;
    const points = window.series(from, request.to, isError);
    releases.push({
      name,
      ...labelOf(name),
      requests: points.map((p) => p.requests),
      errorRate: points.map((p) => (p.requests === 0 ? null : round((p.errors / p.requests) * 100, 2))),
      p50: points.map((p) => finiteOrNull(p.p50)),
      p99: points.map((p) => finiteOrNull(p.p99)),
    });
  }
  releases.sort((a, b) => (a.number ?? Infinity) - (b.number ?? Infinity) || a.name.localeCompare(b.name));
  return { service, seconds, releases };
}

/** Requests per second of one instance over the last `seconds` complete seconds. */
export function requestRate(window: RollingWindow | undefined, to: number, seconds = 5): number {
  if (window === undefined) return 0;
  return round(window.totals(to - seconds + 1, to, () => false).requests / seconds, 1);
}

function finiteOrNull(ms: number): number | null {
  return Number.isFinite(ms) ? round(ms, 2) : null;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
