// `switchyard history` as text: one row per deployment, and with --events each one's events below.
import type { DeploymentDetail, DeploymentView } from '../api-types.js';
import { eventLine } from './deployment.js';
import { stateColor, type Palette } from './style.js';
import { table } from './table.js';
import { dateTime, duration } from './time.js';

export function historyTable(p: Palette, deployments: DeploymentView[]): string {
  const rows = deployments.map((d) => [
    d.id,
    d.kind,
    d.strategy,
    `${d.from?.version ?? '-'} → ${d.to?.version ?? '?'}`,
    stateColor(p, d.state)(d.state),
    dateTime(d.createdAt),
    d.finishedAt === null ? `${duration(d.durationMs)}…` : duration(d.durationMs),
    d.reason ?? '',
  ]);
  return table(p, ['id', 'kind', 'strategy', 'from → to', 'state', 'created', 'duration', 'reason'], rows);
}

export function historyEvents(p: Palette, d: DeploymentDetail): string {
  const head = p.bold(`${d.kind === 'rollback' ? 'rollback' : 'deployment'} ${d.id}: ${d.from?.version ?? '-'} → ${d.to?.version ?? '?'}, ${d.state}`);
  const events = d.events.length === 0 ? ['  (no events)'] : d.events.map((e) => `  ${eventLine(e)}`);
  return [head, ...events].join('\n');
}
