// What a reload changed and when each change takes effect: at once (routing, health checks, balancing),
// at the next deployment (how instances are started and deployed), or only after a restart (listeners,
// the state folder). Pure: two configs in, three lists of config paths out.
import type { ReloadSummary } from '../api/wire.js';
import type { Config, ServiceConfig } from '../config/index.js';

export type { ReloadSummary };

// Service settings read when a release or an instance is started, not by what runs now.
const AT_NEXT_DEPLOY: ReadonlySet<string> = new Set(['run', 'instances', 'placement', 'timeouts', 'deploy']);

/**
 * @example reloadSummary(before, after) // { now: ['services.web.balance'], nextDeploy: ['services.web.run'], restart: [] }
 */
export function reloadSummary(before: Config, next: Config): ReloadSummary {
  const summary: ReloadSummary = { now: [], nextDeploy: [], restart: [] };
  for (const key of ['proxy', 'admin', 'state'] as const) {
    summary.restart.push(...changedPaths(before[key], next[key], key));
  }
  for (const [name, service] of Object.entries(next.services)) {
    const old = before.services[name];
    if (old === undefined) summary.now.push(`services.${name} (new: starting now)`);
    else serviceChanges(name, old, service, summary);
  }
  for (const name of Object.keys(before.services)) {
    if (next.services[name] !== undefined) continue;
    summary.now.push(`services.${name} (removed: no longer routed)`);
    summary.restart.push(`services.${name} (removed: its instances stop at the next restart)`);
  }
  return summary;
}

function serviceChanges(name: string, before: ServiceConfig, next: ServiceConfig, summary: ReloadSummary): void {
  const keys = new Set([...Object.keys(before), ...Object.keys(next)] as (keyof ServiceConfig)[]);
  for (const key of keys) {
    if (same(before[key], next[key])) continue;
    const path = `services.${name}.${key}`;
    if (key === 'targets') summary.now.push(`${path} (rolling out as a new release now)`);
    else if (AT_NEXT_DEPLOY.has(key)) summary.nextDeploy.push(path);
    else summary.now.push(path);
  }
}

/** `proxy.listen`, `proxy.limits`…: the changed keys one level down, or the key itself for a plain value. */
function changedPaths(before: unknown, next: unknown, path: string): string[] {
  if (same(before, next)) return [];
  if (!isObject(before) || !isObject(next)) return [path];
  const keys = new Set([...Object.keys(before), ...Object.keys(next)]);
  return [...keys].filter((key) => !same(before[key], next[key])).map((key) => `${path}.${key}`);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One line for the log and the event: `config reloaded: in effect now: …; at the next deploy: …`. */
export function reloadMessage(summary: ReloadSummary): string {
  const parts = [
    ['in effect now', summary.now],
    ['at the next deploy', summary.nextDeploy],
    ['after a restart', summary.restart],
  ] as const;
  const said = parts.filter(([, paths]) => paths.length > 0).map(([when, paths]) => `${when}: ${paths.join(', ')}`);
  return said.length === 0 ? 'config reloaded: nothing changed' : `config reloaded: ${said.join('; ')}`;
}
