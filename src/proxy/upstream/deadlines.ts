// Timeouts of upstream connections without a timer per socket: one sweep for the whole process checks
// every open connection's deadline a few times a second. A request then only writes timestamps (no
// timer re-armed when a request is sent, its head arrives or the connection goes back to the pool, and
// none refreshed on every read), and a timeout fires no earlier than asked, at most two sweeps late.

/** How often deadlines are checked; also the resolution of the clock requests stamp activity with. */
export const SWEEP_MS = 100;

export interface HasDeadline {
  /** Called every sweep with performance.now(); the connection fails or closes itself when overdue. */
  checkDeadline(now: number): void;
}

const watched = new Set<HasDeadline>();
let timer: NodeJS.Timeout | null = null;
let coarse = performance.now();

/**
 * performance.now() as of the last sweep (or the last watch()): what activity is stamped with. It may lag
 * by up to SWEEP_MS, so a deadline is only overdue once SWEEP_MS past its limit.
 */
export function coarseNow(): number {
  return coarse;
}

function sweep(): void {
  coarse = performance.now();
  for (const connection of watched) connection.checkDeadline(coarse);
}

/** Starts checking a connection's deadlines (until unwatch); the sweep runs only while any are open. */
export function watch(connection: HasDeadline): void {
  watched.add(connection);
  coarse = performance.now();
  timer ??= setInterval(sweep, SWEEP_MS).unref();
}

export function unwatch(connection: HasDeadline): void {
  watched.delete(connection);
  if (watched.size === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

/** True once `limitMs` (0 = none) has passed since `since`, counting the clock's lag. */
export function overdue(now: number, since: number, limitMs: number): boolean {
  return limitMs > 0 && now - since >= limitMs + SWEEP_MS;
}
