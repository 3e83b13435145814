// The run's timeline: which phase (warm-up, steady, deploy, between deploys) was current when, so
// every request and every second can be attributed to the phase it was sent in.
export type PhaseName = 'warmup' | 'steady' | 'deploy' | 'between' | 'drain';

export interface Phase {
  phase: PhaseName;
  /** Free text: "deploy 3: canary (FAILURE_RATE=0.3)". */
  label: string;
  /** Milliseconds since the load started; `to` is null while the phase lasts. */
  from: number;
  to: number | null;
}

export class PhaseClock {
  readonly phases: Phase[] = [];

  constructor(readonly startedAt: number = Date.now()) {
    this.enter('warmup', 'warm-up');
  }

  now(): number {
    return Date.now() - this.startedAt;
  }

  /** Ends the current phase and starts `phase` now. */
  enter(phase: PhaseName, label: string = phase): void {
    const at = this.now();
    const last = this.phases.at(-1);
    if (last !== undefined) last.to = at;
    this.phases.push({ phase, label, from: at, to: null });
  }

  /** The phase current at `ms` since the start (most lookups are recent, so search from the end). */
  at(ms: number): Phase {
    for (let i = this.phases.length - 1; i >= 0; i--) {
      const p = this.phases[i]!;
      if (p.from <= ms) return p;
    }
    return this.phases[0]!;
  }

  /** Closes the last phase (at the end of the run). */
  close(): void {
    const last = this.phases.at(-1);
    if (last !== undefined && last.to === null) last.to = this.now();
  }
}
