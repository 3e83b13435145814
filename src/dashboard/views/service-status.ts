// The story of a service at a glance, under its name: what the deployment is doing now (step n of m,
// the new release's weight, the time left in the step, the latest verdict with its numbers) or, once it
// ended, how the last one ended and why. A failed or rolled-back deployment stays flagged here until a
// person acknowledges it or a newer deployment supersedes it.
import type { DeploymentView, LastDeploymentView, ServiceView, VerdictView } from '../api/types.js';
import { h, type Child } from './dom.js';
import { formatDuration, formatFraction, formatMs, formatPercent } from './format.js';
import { badge, stateBadge } from './phase.js';
import { releaseClass } from './release-colour.js';

/** What the strip shows, as text: the page rebuilds it only when this changes (the time left, say). */
export function serviceStatusSignature(service: ServiceView, now: number): string {
  const d = service.deployment;
  if (d !== null) return JSON.stringify([d.id, d.state, d.currentStep, d.steps.length, targetShare(service), timeLeft(d, now), latestVerdict(d)?.time]);
  const last = service.lastDeployment;
  return JSON.stringify([last?.id, last?.state, last?.acknowledged, last === null ? null : ago(last.finishedAt, now)]);
}

export function serviceStatus(service: ServiceView, now: number, onAcknowledge: () => void): HTMLElement {
  const d = service.deployment;
  if (d !== null) return running(service, d, now);
  const last = service.lastDeployment;
  if (last === null) return h('div', { class: 'status-strip', 'data-status': 'none' }, h('span', { class: 'muted' }, 'No deployment yet.'));
  return ended(last, now, onAcknowledge);
}

function running(service: ServiceView, d: DeploymentView, now: number): HTMLElement {
  const step = d.steps[d.currentStep];
  const share = targetShare(service);
  const left = timeLeft(d, now);
  const verdict = latestVerdict(d);
  const facts: Child[] = [
    d.to === null || share === null
      ? null
      : fact('weight', 'weight', h('span', { class: `ver ver-release ${releaseClass(d.to.number)}` }, d.to.version), ` gets ${formatPercent(share)} of traffic`),
    left === null ? null : fact('time-left', 'time left', left),
    verdict === null ? null : verdictFact(verdict),
  ];
  return h(
    'div',
    { class: 'status-strip status-running', 'data-status': 'running', role: 'status' },
    h(
      'p',
      { class: 'status-line' },
      stateBadge(d.state),
      h('strong', { 'data-step': `${d.currentStep + 1}/${d.steps.length}` }, step === undefined ? ` ${d.strategy} ${d.from?.version ?? '∅'} → ${d.to?.version ?? '?'}` : ` Step ${d.currentStep + 1} of ${d.steps.length}: `),
      step === undefined ? null : h('span', { class: 'status-step' }, step.description),
    ),
    h('div', { class: 'status-facts' }, facts),
  );
}

function ended(last: LastDeploymentView, now: number, onAcknowledge: () => void): HTMLElement {
  const bad = last.state === 'rolled-back' || last.state === 'failed';
  const what = `${last.kind === 'rollback' ? 'Rollback' : 'Deployment'} #${last.id} (${last.strategy} ${last.from?.version ?? '∅'} → ${last.to?.version ?? '?'})`;
  const when = last.finishedAt === null ? '' : ` ${ago(last.finishedAt, now)}`;
  const flagged = bad && !last.acknowledged;
  return h(
    'div',
    { class: `status-strip ${flagged ? 'status-flagged' : 'status-ended'}`, 'data-status': flagged ? 'flagged' : 'ended', 'data-state': last.state, role: flagged ? 'alert' : null },
    h('p', { class: 'status-line' }, stateBadge(last.state), h('strong', null, ` ${what} ${last.state.replace('-', ' ')}${when}`), bad && last.acknowledged ? h('span', { class: 'muted' }, ' · acknowledged') : null),
    last.reason === null ? null : h('p', { class: 'status-reason' }, last.reason),
    flagged && last.failureOutput.length > 0 ? h('pre', { class: 'output status-output', 'aria-label': 'Last output' }, last.failureOutput.join('\n')) : null,
    flagged ? h('button', { type: 'button', class: 'btn', 'data-action': 'acknowledge', 'data-focus': 'acknowledge', onclick: onAcknowledge }, 'Acknowledge') : null,
  );
}

function fact(key: string, label: string, ...value: Child[]): HTMLElement {
  return h('span', { class: 'status-fact', 'data-fact': key }, h('span', { class: 'fact-label' }, label), ' ', value);
}

/** `pass · canary 0.2% errors, p99 17 ms · baseline 0.1%, p99 16 ms`, with the summary on hover. */
function verdictFact(v: VerdictView): HTMLElement {
  const verdict = v.verdict!;
  const tone = verdict.outcome === 'pass' ? 'ok' : verdict.outcome === 'fail' ? 'bad' : 'warn';
  const side = (name: string, s: typeof verdict.canary) => `${name} ${formatFraction(s.errorRate)} errors (${s.errors}/${s.requests}), p99 ${formatMs(s.p99Ms)}`;
  return h(
    'span',
    { class: 'status-fact', 'data-fact': 'verdict', 'data-outcome': verdict.outcome, title: verdict.summary },
    h('span', { class: 'fact-label' }, 'last verdict'),
    ' ',
    badge(verdict.outcome, tone),
    ` ${side('canary', verdict.canary)} · ${side('baseline', verdict.baseline)}`,
    h('span', { class: 'status-summary muted' }, verdict.summary),
  );
}

/** The new release's share of traffic now, or null when it is not in the table. */
function targetShare(service: ServiceView): number | null {
  return service.releases.find((r) => r.role === 'target')?.traffic ?? null;
}

/** `0:42 of 1:00`, `waits for promote`, or null for a step that does not wait. */
function timeLeft(d: DeploymentView, now: number): string | null {
  const step = d.steps[d.currentStep];
  if (step === undefined || step.state !== 'running' || step.waitMs === undefined) return null;
  if (step.waitMs === null) return 'waits for promote';
  const started = step.startedAt === null ? now : Date.parse(step.startedAt);
  const left = Math.max(0, started + step.waitMs - now);
  return `${clock(left)} of ${clock(step.waitMs)}`;
}

function latestVerdict(d: DeploymentView): VerdictView | null {
  return d.verdicts.findLast((v) => v.verdict !== null) ?? null;
}

function clock(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function ago(iso: string | null, now: number): string {
  if (iso === null) return '';
  const ms = now - Date.parse(iso);
  return ms < 5000 ? 'just now' : `${formatDuration(ms)} ago`;
}
