// Short summaries of a service's releases: the traffic split and instance health, for the live view
// and for `status`.
import type { ReleaseView, ServiceView } from '../api-types.js';
import type { Palette } from './style.js';

/** `v2 (target) 25%`, with a bar when there is room for one. */
export function trafficLine(p: Palette, service: ServiceView, bars: boolean): string {
  const shares = service.releases.filter((r) => r.role !== 'other' || r.traffic > 0);
  if (shares.length === 0) return 'no release serves traffic';
  return shares.map((r) => `${releaseLabel(r)} ${p.bold(`${r.traffic}%`)}${bars ? ` ${bar(p, r.traffic)}` : ''}`).join('   ');
}

/** `v2 (target): 1 ready, 1 starting; 1 healthy; 1 in rotation`. */
export function healthLine(service: ServiceView): string {
  const parts = service.releases
    .filter((r) => r.instances.length > 0)
    .map((r) => `${releaseLabel(r)}: ${healthCounts(r)}`);
  return parts.length === 0 ? 'no instances' : parts.join('   ');
}

export function healthCounts(release: ReleaseView): string {
  const byState = new Map<string, number>();
  for (const i of release.instances) byState.set(i.state, (byState.get(i.state) ?? 0) + 1);
  const states = [...byState].map(([state, n]) => `${n} ${state}`).join(', ');
  const healthy = release.instances.filter((i) => i.healthy && !i.ejected).length;
  const inRotation = release.instances.filter((i) => i.inRotation).length;
  return `${states}; ${healthy}/${release.instances.length} healthy; ${inRotation} in rotation`;
}

export function releaseLabel(release: ReleaseView): string {
  return `${release.version}#${release.number} (${release.role})`;
}

function bar(p: Palette, percent: number): string {
  const filled = Math.round(percent / 10);
  return `${p.cyan('█'.repeat(filled))}${p.dim('░'.repeat(10 - filled))}`;
}
