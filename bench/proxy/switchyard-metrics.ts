// Switchyard's own view of a load window, read from its /metrics before and after: how late its proxy
// workers' event loops ran (switchyard_event_loop_delay_seconds) and how long GC paused them.
import { request } from 'node:http';

/** Cumulative bucket counts by `le` (seconds; Infinity for +Inf), summed over every proxy worker. */
export interface HistogramSnapshot {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

export interface LoopSnapshot {
  delay: HistogramSnapshot;
  gc: HistogramSnapshot;
}

export interface LoopWindow {
  /** Loop-delay samples (one per 10 ms tick) in the window. */
  ticks: number;
  /** Upper bound of the bucket holding the 99th percentile of loop delay, in ms. */
  delayP99Ms: number;
  /** Upper bound of the highest non-empty delay bucket, in ms (Infinity past the last bound). */
  delayMaxMs: number;
  /** Loop-delay ticks later than 5 ms. */
  stallsOver5Ms: number;
  gcPauses: number;
  gcTotalMs: number;
  /** Upper bound of the highest non-empty GC pause bucket, in ms. */
  gcMaxMs: number;
}

/**
 * Sums a histogram family's series whose process label starts with `proxy-`.
 * @example parseHistogram(text, 'switchyard_gc_pause_seconds')
 */
export function parseHistogram(text: string, name: string): HistogramSnapshot {
  const snapshot: HistogramSnapshot = { buckets: new Map(), sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null || !/process="proxy-/.test(match[2]!)) continue;
    const value = Number(match[3]);
    if (match[1] === `${name}_bucket`) {
      const le = /le="([^"]+)"/.exec(match[2]!)?.[1];
      const bound = le === '+Inf' ? Infinity : Number(le);
      snapshot.buckets.set(bound, (snapshot.buckets.get(bound) ?? 0) + value);
    } else if (match[1] === `${name}_sum`) snapshot.sum += value;
    else if (match[1] === `${name}_count`) snapshot.count += value;
  }
  return snapshot;
}

export function parseLoopSnapshot(text: string): LoopSnapshot {
  return { delay: parseHistogram(text, 'switchyard_event_loop_delay_seconds'), gc: parseHistogram(text, 'switchyard_gc_pause_seconds') };
}

/** What happened between two snapshots. */
export function loopWindow(before: LoopSnapshot, after: LoopSnapshot): LoopWindow {
  const delay = difference(before.delay, after.delay);
  const gc = difference(before.gc, after.gc);
  return {
    ticks: delay.count,
    delayP99Ms: quantileBound(delay, 0.99) * 1000,
    delayMaxMs: maxBound(delay) * 1000,
    stallsOver5Ms: delay.count - (delay.buckets.get(0.005) ?? 0),
    gcPauses: gc.count,
    gcTotalMs: gc.sum * 1000,
    gcMaxMs: maxBound(gc) * 1000,
  };
}

function difference(a: HistogramSnapshot, b: HistogramSnapshot): HistogramSnapshot {
  const buckets = new Map<number, number>();
  for (const [le, count] of b.buckets) buckets.set(le, count - (a.buckets.get(le) ?? 0));
  return { buckets, sum: b.sum - a.sum, count: b.count - a.count };
}

function sortedBounds(h: HistogramSnapshot): number[] {
  return [...h.buckets.keys()].sort((x, y) => x - y);
}

function quantileBound(h: HistogramSnapshot, q: number): number {
  if (h.count <= 0) return 0;
  for (const le of sortedBounds(h)) if ((h.buckets.get(le) ?? 0) >= q * h.count) return le;
  return Infinity;
}

function maxBound(h: HistogramSnapshot): number {
  let previous = 0;
  let max = 0;
  for (const le of sortedBounds(h)) {
    const cumulative = h.buckets.get(le) ?? 0;
    if (cumulative > previous) max = le;
    previous = cumulative;
  }
  return max;
}

/** Reads switchyard's /metrics from its admin address. */
export function scrapeLoop(adminUrl: string): Promise<LoopSnapshot> {
  return new Promise((resolve, reject) => {
    const req = request(`${adminUrl}/metrics`, { agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve(parseLoopSnapshot(text)));
    });
    req.once('timeout', () => req.destroy(new Error('timeout reading /metrics')));
    req.once('error', reject);
    req.end();
  });
}
