// A service's phase in one word and a tone the badges colour by.
import type { DeploymentState, ServiceView } from '../api/types.js';
import { h } from './dom.js';

export type Tone = 'neutral' | 'info' | 'warn' | 'ok' | 'bad';

const TONES: Record<DeploymentState, Tone> = {
  pending: 'info',
  progressing: 'info',
  paused: 'warn',
  'rolling-back': 'bad',
  succeeded: 'ok',
  'rolled-back': 'bad',
  failed: 'bad',
};

export function toneOf(state: DeploymentState): Tone {
  return TONES[state];
}

export function badge(text: string, tone: Tone, extra: Record<string, string> = {}): HTMLElement {
  return h('span', { class: `badge badge-${tone}`, ...extra }, text);
}

/**
 * The deployment's state while one runs; after a failed or rolled-back one that nobody acknowledged
 * yet, how it ended (never "steady" right after a failure); else "steady".
 */
export function phaseBadge(service: ServiceView): HTMLElement {
  const d = service.deployment;
  const last = service.lastDeployment;
  if (d === null && last !== null && !last.acknowledged) return badge(`${last.strategy} · ${last.state}`, toneOf(last.state), { 'data-phase': last.state });
  if (d === null) return badge(service.standby ? 'standby' : 'steady', 'neutral', { 'data-phase': 'steady' });
  return badge(`${d.strategy} · ${d.state}`, toneOf(d.state), { 'data-phase': d.state });
}

export function stateBadge(state: DeploymentState): HTMLElement {
  return badge(state, toneOf(state), { 'data-state': state });
}
