// Each release has one colour for its whole life, chosen by its number (stable or new does not change
// it), so a promoted release keeps its colour and two releases side by side never share one.

/** How many release colours the theme defines (--c-r0 … --c-r7). */
export const RELEASE_COLOURS = 8;

/** The CSS class that sets --c-release for a release number; `rc-none` (grey) when it is unknown. */
export function releaseClass(number: number | null): string {
  return number === null ? 'rc-none' : `rc-${(((number - 1) % RELEASE_COLOURS) + RELEASE_COLOURS) % RELEASE_COLOURS}`;
}

/** The theme variable of a release's colour, for canvas drawing. */
export function releaseColourVar(number: number | null): string {
  return number === null ? '--c-other' : `--c-r${releaseClass(number).slice(3)}`;
}
