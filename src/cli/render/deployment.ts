// Words and symbols for a deployment: its title, its plan, each step's mark, why it waits, how it ended.
import type { DeploymentView, EventView, StepView } from '../api-types.js';
import { stateColor, type Palette } from './style.js';
import { clock, duration } from './time.js';

/** `deployment 5: web v1 → v2 (release 4) by rolling` (a rollback says so). */
export function deploymentTitle(d: DeploymentView): string {
  const to = d.to ? `${d.to.version} (release ${d.to.number})` : '?';
  const move = d.from ? `${d.from.version} → ${to}` : to;
  return `${d.kind === 'rollback' ? 'rollback' : 'deployment'} ${d.id}: ${d.service} ${move} by ${d.strategy}`;
}

/** The plan, one numbered line per step. */
export function planLines(d: DeploymentView, indent = '  '): string[] {
  return d.steps.map((s) => `${indent}${s.index + 1}. ${s.description}`);
}

/** The running step, or undefined between steps. */
export function currentStep(d: DeploymentView): StepView | undefined {
  return d.steps.find((s) => s.state === 'running');
}

/**
 * True while the deployment holds at a pause step with no end: only `promote` moves it on. A user's
 * pause holds between steps instead, so the running step tells the two apart.
 */
export function waitsForPromote(d: DeploymentView): boolean {
  return d.state === 'paused' && currentStep(d)?.kind === 'pause';
}

/** What to do about a paused deployment, or undefined when it is not paused. */
export function pauseHint(d: DeploymentView): string | undefined {
  if (d.state !== 'paused') return undefined;
  if (waitsForPromote(d)) {
    return `deployment ${d.id} waits at a pause step: run \`switchyard promote ${d.service}\` to go on (or \`switchyard abort ${d.service}\`)`;
  }
  return `deployment ${d.id} is paused: run \`switchyard resume ${d.service}\` to go on`;
}

const MARKS: Record<string, string> = { done: '✔', running: '›', failed: '✖', undone: '↺', skipped: '–', pending: '○' };

/** One step as a task-list line: done, current (with the spinner frame), or still to come. */
export function stepLine(p: Palette, step: StepView, total: number, spinner?: string): string {
  const mark = step.state === 'running' && spinner !== undefined ? spinner : (MARKS[step.state] ?? '?');
  const paint = step.state === 'running' ? p.cyan : step.state === 'pending' || step.state === 'skipped' ? p.dim : stateColor(p, step.state);
  const number = `${step.index + 1}/${total}`.padStart(String(total).length * 2 + 1);
  const detail = step.detail ? p.dim(`  ${step.detail}`) : '';
  const took = step.startedAt && step.finishedAt ? p.dim(`  ${duration(Date.parse(step.finishedAt) - Date.parse(step.startedAt))}`) : '';
  return `${paint(mark)} ${number} ${step.state === 'pending' ? p.dim(step.description) : step.description}${detail}${took}`;
}

/** `deployment 5 succeeded in 12.3s: v2 is stable`. */
export function outcomeLine(d: DeploymentView): string {
  return `${d.kind === 'rollback' ? 'rollback' : 'deployment'} ${d.id} ${d.state} in ${duration(d.durationMs)}${d.reason ? `: ${d.reason}` : ''}`;
}

/** One event as a plain log line: time, type, message. */
export function eventLine(e: EventView): string {
  return `${clock(e.time)}  ${e.type.padEnd(22)}  ${e.message}`;
}

/** What the failing instance or hook printed last, indented under a heading; nothing while it has not failed. */
export function failureLines(d: DeploymentView, indent = '  '): string[] {
  const output = d.failureOutput ?? [];
  if (output.length === 0 || !['rolling-back', 'rolled-back', 'failed'].includes(d.state)) return [];
  return [`${indent}its last output:`, ...output.map((line) => `${indent}  | ${line}`)];
}
