// The log API answers with the last N bytes of each instance's log; following needs only what was added
// since the previous answer, even after the window slid forward past old lines.

/** What `now` adds to `before`; all of `now` when the two no longer overlap. */
export function newLogText(before: string | undefined, now: string): string {
  if (before === undefined || now.startsWith(before)) return now.slice(before?.length ?? 0);
  // The window dropped `d` characters from the front: find the smallest `d` with before[d..] == now[..].
  const anchor = now.slice(0, 32);
  for (let d = before.indexOf(anchor, 1); d !== -1; d = before.indexOf(anchor, d + 1)) {
    if (now.startsWith(before.slice(d))) return now.slice(before.length - d);
  }
  return now;
}
