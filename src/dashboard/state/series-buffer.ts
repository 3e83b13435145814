// The last five minutes of one service's per-second series, grown by incremental polls
// (`?after=<last second>`) and trimmed at the front, in the column form the charts draw.
import type { ReleaseSeries, TimeseriesView } from '../api/types.js';

export const WINDOW_SECONDS = 300;

export type Measure = 'requests' | 'errorRate' | 'p50' | 'p99';
export const MEASURES: readonly Measure[] = ['requests', 'errorRate', 'p50', 'p99'];

export interface BufferedRelease {
  name: string;
  version: string;
  number: number | null;
  role: ReleaseSeries['role'];
  columns: Record<Measure, (number | null)[]>;
}

export class SeriesBuffer {
  seconds: number[] = [];
  releases: BufferedRelease[] = [];

  constructor(readonly service: string) {}

  /** The second the next poll should start after, or undefined before the first poll. */
  get lastSecond(): number | undefined {
    return this.seconds.at(-1);
  }

  /** Adds a poll's answer: new seconds at the end, new releases padded with gaps before they appeared. */
  merge(view: TimeseriesView): void {
    const last = this.lastSecond ?? -Infinity;
    const fresh = view.seconds.map((s, i) => [s, i] as const).filter(([s]) => s > last);
    const before = this.seconds.length;
    for (const incoming of view.releases) {
      let release = this.releases.find((r) => r.name === incoming.name);
      if (release === undefined) {
        release = { name: incoming.name, version: incoming.version, number: incoming.number, role: incoming.role, columns: emptyColumns(before) };
        this.releases.push(release);
      }
      release.version = incoming.version;
      release.number = incoming.number;
      release.role = incoming.role;
      for (const measure of MEASURES) {
        const column = release.columns[measure];
        for (const [, i] of fresh) column.push(incoming[measure][i] ?? gap(measure));
      }
    }
    for (const release of this.releases) {
      if (view.releases.some((r) => r.name === release.name)) continue;
      for (const measure of MEASURES) for (let k = 0; k < fresh.length; k++) release.columns[measure].push(gap(measure));
    }
    for (const [s] of fresh) this.seconds.push(s);
    this.trim();
    this.releases.sort((a, b) => (a.number ?? Infinity) - (b.number ?? Infinity) || a.name.localeCompare(b.name));
  }

  private trim(): void {
    const last = this.lastSecond;
    if (last === undefined) return;
    const drop = this.seconds.findIndex((s) => s > last - WINDOW_SECONDS);
    if (drop > 0) {
      this.seconds.splice(0, drop);
      for (const release of this.releases) for (const measure of MEASURES) release.columns[measure].splice(0, drop);
    }
    // A release with no request left in the window leaves the charts.
    this.releases = this.releases.filter((r) => r.columns.requests.some((n) => (n ?? 0) > 0));
  }
}

/** Requests are counted (a missing second is 0); rates and latencies of a missing second are a gap. */
function gap(measure: Measure): number | null {
  return measure === 'requests' ? 0 : null;
}

function emptyColumns(length: number): Record<Measure, (number | null)[]> {
  return {
    requests: Array.from({ length }, () => 0),
    errorRate: Array.from({ length }, () => null),
    p50: Array.from({ length }, () => null),
    p99: Array.from({ length }, () => null),
  };
}
