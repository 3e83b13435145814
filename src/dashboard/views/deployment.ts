// One deployment in full: its steps as a timeline (done, current, to come), each analysis verdict with
// its numbers, and the hooks it ran with their output.
import type { DeploymentDetail, EventView, StepView, VerdictView } from '../api/types.js';
import { h } from './dom.js';
import { formatDuration, formatFraction, formatMs, formatTime } from './format.js';
import { badge, stateBadge, type Tone } from './phase.js';

const STEP_MARKS: Record<string, { mark: string; label: string }> = {
  done: { mark: '✓', label: 'done' },
  running: { mark: '●', label: 'current' },
  pending: { mark: '', label: 'to come' },
  failed: { mark: '✕', label: 'failed' },
  skipped: { mark: '–', label: 'skipped' },
  undone: { mark: '↺', label: 'undone' },
};

const OUTCOME_TONES: Record<string, Tone> = { pass: 'ok', fail: 'bad', inconclusive: 'warn' };

export function deploymentView(d: DeploymentDetail, following: boolean, onFollow: () => void): HTMLElement {
  return h(
    'div',
    { class: 'deployment', 'data-deployment': String(d.id), 'data-state': d.state },
    h(
      'div',
      { class: 'dep-head' },
      h('h3', null, `${d.kind === 'rollback' ? 'Rollback' : 'Deployment'} #${d.id}`),
      stateBadge(d.state),
      h('span', { class: 'muted' }, `${d.strategy} · ${d.from?.version ?? '∅'} → ${d.to?.version ?? '?'} · ${formatTime(d.createdAt)} · ${formatDuration(d.durationMs)}`),
      following ? null : h('button', { type: 'button', class: 'btn btn-quiet', 'data-focus': 'follow', onclick: onFollow }, 'Show current'),
    ),
    d.reason === null ? null : h('p', { class: 'reason' }, d.reason),
    timeline(d.steps, d.currentStep),
    verdicts(d.verdicts ?? []),
    hooks(d.events),
  );
}

function timeline(steps: readonly StepView[], current: number): HTMLElement {
  return h(
    'ol',
    { class: 'timeline', 'aria-label': 'Steps' },
    steps.map((step) => {
      const state = step.state === 'pending' && step.index === current ? 'running' : step.state;
      const mark = STEP_MARKS[state] ?? { mark: '', label: state };
      const when = step.startedAt === null ? '' : step.finishedAt === null ? `since ${formatTime(step.startedAt)}` : formatTime(step.finishedAt);
      return h(
        'li',
        { class: `step step-${state}`, 'aria-current': state === 'running' ? 'step' : null, 'data-step-state': state },
        h('span', { class: 'step-mark', 'aria-hidden': 'true' }, mark.mark),
        h(
          'div',
          { class: 'step-body' },
          h('span', { class: 'step-text' }, step.description),
          h('span', { class: 'sr-only' }, ` (${mark.label})`),
          h('span', { class: 'step-meta muted' }, [step.detail, when].filter(Boolean).join(' · ')),
        ),
      );
    }),
  );
}

function verdicts(list: readonly VerdictView[]): HTMLElement | null {
  const withNumbers = list.filter((v) => v.verdict !== null);
  if (withNumbers.length === 0) return null;
  const newest = [...withNumbers].reverse();
  return h(
    'section',
    { class: 'verdicts', 'aria-label': 'Analysis verdicts' },
    h('h4', null, 'Analysis'),
    verdictCard(newest[0]!),
    newest.length > 1
      ? h('details', { class: 'older', 'data-key': 'older-verdicts' }, h('summary', { 'data-focus': 'older-verdicts' }, `${newest.length - 1} earlier verdict${newest.length === 2 ? '' : 's'}`), newest.slice(1).map(verdictCard))
      : null,
  );
}

function verdictCard(v: VerdictView): HTMLElement {
  const verdict = v.verdict!;
  const row = (name: string, s: typeof verdict.canary) =>
    h('tr', null, h('th', { scope: 'row' }, name), [s.requests, s.errors, formatFraction(s.errorRate), formatMs(s.p50Ms), formatMs(s.p99Ms)].map((x) => h('td', { class: 'num' }, String(x))));
  return h(
    'article',
    { class: `verdict verdict-${verdict.outcome}`, 'data-outcome': verdict.outcome },
    h('header', null, badge(verdict.outcome, OUTCOME_TONES[verdict.outcome] ?? 'neutral'), h('span', { class: 'muted' }, formatTime(v.time))),
    h('p', { class: 'verdict-summary' }, verdict.summary),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'stats' },
        h('thead', null, h('tr', null, ['', 'requests', 'errors', 'error rate', 'p50', 'p99'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, row('canary', verdict.canary), row('baseline', verdict.baseline)),
      ),
    ),
    verdict.checks.length === 0
      ? null
      : h(
          'ul',
          { class: 'checks' },
          verdict.checks.map((c) => h('li', null, badge(c.outcome, OUTCOME_TONES[c.outcome] ?? 'neutral'), h('strong', null, ` ${c.name}`), ` ${c.detail}`)),
        ),
  );
}

interface HookRun {
  name: string;
  state: 'running' | 'passed' | 'failed';
  message: string;
  output: string;
  time: string;
}

function hooks(events: readonly EventView[]): HTMLElement | null {
  const runs: HookRun[] = [];
  for (const e of events) {
    const [, name, outcome] = e.type.split('.');
    if (!e.type.startsWith('hook.') || name === undefined) continue;
    if (outcome === 'started') {
      runs.push({ name, state: 'running', message: e.message, output: '', time: e.time });
      continue;
    }
    const run = runs.findLast((r) => r.name === name && r.state === 'running');
    const output = typeof (e.data as { output?: unknown } | null)?.output === 'string' ? (e.data as { output: string }).output : '';
    const finished: HookRun = { name, state: outcome === 'passed' ? 'passed' : 'failed', message: e.message, output, time: e.time };
    if (run) Object.assign(run, finished);
    else runs.push(finished);
  }
  if (runs.length === 0) return null;
  return h(
    'section',
    { class: 'hooks', 'aria-label': 'Hooks' },
    h('h4', null, 'Hooks'),
    runs.map((r) =>
      h(
        'details',
        { class: 'hook', 'data-hook': r.name, 'data-key': `hook:${r.name}:${r.time}` },
        h(
          'summary',
          { 'data-focus': `hook:${r.name}:${r.time}` },
          badge(r.state, r.state === 'passed' ? 'ok' : r.state === 'failed' ? 'bad' : 'info'),
          h('strong', null, ` ${r.name}`),
          h('span', { class: 'muted' }, ` ${formatTime(r.time)} · ${r.message}`),
        ),
        h('pre', { class: 'output' }, r.output === '' ? '(no output)' : r.output),
      ),
    ),
  );
}
