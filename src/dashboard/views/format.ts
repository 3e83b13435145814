// How numbers and times read on the page: short, with units, the same everywhere.

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

/** Local wall-clock time, e.g. 14:02:31. */
export function formatTime(iso: string | null): string {
  if (iso === null) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '–' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** Date and time for history rows, e.g. "Jun 3, 14:02". */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '–' : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
}

export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

/** A 0-1 fraction as a percentage. */
export function formatFraction(fraction: number): string {
  return formatPercent(fraction * 100);
}

export function formatPercent(percent: number): string {
  if (!Number.isFinite(percent)) return '–';
  return percent === 0 || percent >= 10 ? `${Math.round(percent * 10) / 10}%` : `${percent.toFixed(2)}%`;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 100 ? String(Math.round(perSecond)) : String(Math.round(perSecond * 10) / 10);
}
