// After an upgrade the old generation serves what it holds, and each kept-alive connection's next
// request, until its drain deadline; then it closes what is left (WebSockets with 1001 and switchyard's
// reason, which the client sees; an SSE stream by ending the connection) and exits. That is the drain
// contract: a stream the old generation closed at its deadline is not a failure, but only with the
// evidence that it was that: an SSE stream whose answer had begun before the hand-over, cut within the
// moment the old generation reached its deadline and exited. A stream the old generation began after
// the hand-over (a kept-alive connection's next request) has a drain timeout of its own, so a cut of
// it is a failure. Pure.
import type { UpgradeRecord } from './daemon-faults.js';
import type { Failure } from './load/recorder.js';

/** An old generation's drain: it stopped accepting at about `servingAt` and its last process was gone at `exitedAt`. */
export interface Handover {
  generation: number;
  servingAt: number;
  exitedAt: number;
}

/** An SSE stream cut at an old generation's drain deadline, with the evidence (in the results JSON). */
export interface DeadlineCut {
  class: 'sse';
  generation: number;
  /** ms since load start: when its answer began, and when it was cut. */
  connectedAt: number;
  end: number;
  /** The earliest the deadline can have been (the bench saw the new generation serving a little after the hand-over began) and the old generation's exit. */
  deadlineFrom: number;
  exitedAt: number;
  pid: number | null;
}

/** The bench sees the new generation serving up to this long after the old one began to drain. */
export const HANDOVER_SEEN_SLACK_MS = 1000;
/** The old generation's exit is polled every 100 ms. */
export const EXIT_SEEN_SLACK_MS = 250;

export function handoversOf(upgrades: readonly UpgradeRecord[]): Handover[] {
  return upgrades.flatMap((u) => (u.servingAt !== null && u.oldExitedAt !== null ? [{ generation: u.from, servingAt: u.servingAt, exitedAt: u.oldExitedAt }] : []));
}

/**
 * The evidence that an SSE stream was closed by an old generation at its drain deadline, or null: open
 * before the bench saw the new generation serving (the hand-over comes first), and cut between the
 * earliest that deadline can have been and the old generation's exit.
 */
export function deadlineCut(f: Failure, handovers: readonly Handover[], drainMs: number): DeadlineCut | null {
  if (f.cls !== 'sse' || f.kind !== 'truncated' || f.connectedAt === null) return null;
  for (const h of handovers) {
    const deadlineFrom = h.servingAt + drainMs - HANDOVER_SEEN_SLACK_MS;
    if (f.connectedAt < h.servingAt && f.end >= deadlineFrom && f.end <= h.exitedAt + EXIT_SEEN_SLACK_MS) {
      return { class: 'sse', generation: h.generation, connectedAt: f.connectedAt, end: f.end, deadlineFrom, exitedAt: h.exitedAt, pid: f.pid };
    }
  }
  return null;
}
