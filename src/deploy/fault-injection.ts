// A test hook for crash-safety tests: SWITCHYARD_FAULT_KILL_AT names a step ("route", "route#2" for
// the second route step, or a 0-based index like "3"); the daemon kills itself with SIGKILL just
// after that step was recorded as running and before it acts, as a power cut would.
import type { Step } from './steps.js';

const spec = process.env.SWITCHYARD_FAULT_KILL_AT;

export function killIfFaultPoint(step: Step, index: number, steps: readonly Step[]): void {
  if (spec === undefined || spec === '') return;
  if (/^\d+$/.test(spec)) {
    if (Number(spec) === index) process.kill(process.pid, 'SIGKILL');
    return;
  }
  const [kind, nth] = spec.split('#');
  if (step.kind !== kind) return;
  const occurrence = steps.slice(0, index + 1).filter((s) => s.kind === kind).length;
  if (occurrence === Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}
