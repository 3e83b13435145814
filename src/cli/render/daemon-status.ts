// The daemon in one line for `status`: version, generation, its processes and the table they route by.
import type { DaemonView } from '../../api/daemon-view.js';
import type { Palette } from './style.js';

/**
 * @example daemonStatus(p, view)
 * // switchyard 0.2.0, generation 3: keeper 4101, controller 4120, proxies 4118 4119 (table 42, in force everywhere); up 2h 5m
 */
export function daemonStatus(p: Palette, view: DaemonView): string {
  const of = (role: string) => view.processes.filter((x) => x.role === role);
  const proxies = of('proxy');
  const behind = proxies.filter((x) => (x.tableVersion ?? 0) < view.tableVersion || (x.tableVersion ?? 0) === 0);
  const table = behind.length === 0 ? `table ${view.tableVersion}, in force everywhere` : `table ${view.tableVersion}; ${behind.length} prox${behind.length === 1 ? 'y' : 'ies'} behind`;
  const keeper = of('keeper')[0];
  const parts = [
    `keeper ${keeper?.pid ?? '?'}`,
    `controller ${of('controller')[0]?.pid ?? 'restarting'}`,
    `prox${proxies.length === 1 ? 'y' : 'ies'} ${proxies.map((x) => x.pid).join(' ') || 'none'}`,
  ];
  const upgrade = view.upgrade?.state === 'in-progress' ? `; ${p.yellow(`upgrading to generation ${view.upgrade.generation}`)}` : view.upgrade?.state === 'failed' ? `; ${p.yellow(`last upgrade failed: ${view.upgrade.reason}`)}` : '';
  return `${p.bold(`switchyard ${view.version}`)}, generation ${view.generation}: ${parts.join(', ')} (${table}); up ${duration(keeper?.uptimeSeconds ?? 0)}${upgrade}`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
