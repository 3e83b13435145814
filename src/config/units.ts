// Parses the human units config files are written in: durations (`10s`), percentages (`1%`)
// and byte sizes (`16kb`). Each parser returns a result instead of throwing, so the schema can
// turn a bad value into a problem with a line number.

export type UnitResult = { ok: true; value: number } | { ok: false; message: string };

/** Timers (setTimeout) overflow above 2^31-1 ms and fire at once, so longer durations are refused. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PERCENT = /^(\d+(?:\.\d+)?)%$/;
const SIZE = /^(\d+(?:\.\d+)?)(b|kb|mb|gb)?$/i;
const SIZE_UNIT: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;

/** JSON Schema patterns for editors; they accept what the parsers below accept. */
export const DURATION_PATTERN = '^(0|(\\d+(\\.\\d+)?(ms|h|m|s))+)$';
export const PERCENT_PATTERN = '^(0|\\d+(\\.\\d+)?%)$';
export const SIZE_PATTERN = '^\\d+(\\.\\d+)?([bB]|[kK][bB]|[mM][bB]|[gG][bB])?$';

const ok = (value: number): UnitResult => ({ ok: true, value });
const fail = (message: string): UnitResult => ({ ok: false, message });

/**
 * Parses a duration into milliseconds. Units may be combined, Go style.
 * @example parseDuration('1.5s') // { ok: true, value: 1500 }
 * @example parseDuration('1h30m') // { ok: true, value: 5_400_000 }
 */
export function parseDuration(input: string | number): UnitResult {
  // A bare number is ambiguous (seconds? milliseconds?), so only 0 may omit the unit.
  if (input === 0 || input === '0') return ok(0);
  if (typeof input === 'number' || BARE_NUMBER.test(input)) {
    return fail(`${String(input)} needs a unit; write e.g. ${String(input)}s or ${String(input)}ms`);
  }
  if (!DURATION.test(input)) return fail(`"${input}" is not a duration; use e.g. 500ms, 10s, 5m`);
  let ms = 0;
  for (const [, amount, unit] of input.matchAll(DURATION_PART)) {
    ms += Number(amount) * (UNIT_MS[unit ?? 'ms'] ?? 1);
  }
  if (ms > MAX_DURATION_MS) return fail(`"${input}" is too long; the most a timer allows is 596h`);
  return ok(Math.round(ms));
}

/**
 * Parses a percentage into a fraction. `max` is a fraction too (1 = 100%).
 * @example parsePercent('0.5%') // { ok: true, value: 0.005 }
 */
export function parsePercent(input: string | number, max = Infinity): UnitResult {
  if (input === 0 || input === '0') return ok(0);
  if (typeof input === 'number' || BARE_NUMBER.test(input)) {
    return fail(`${String(input)} needs a % sign; write ${String(input)}%`);
  }
  const match = PERCENT.exec(input);
  if (!match) return fail(`"${input}" is not a percentage; use e.g. 1%, 0.5%, 50%`);
  const fraction = Number(match[1]) / 100;
  if (fraction > max) return fail(`"${input}" is more than ${String(max * 100)}%`);
  return ok(fraction);
}

/**
 * Parses a byte size; a bare number means bytes and 1kb is 1024 bytes.
 * @example parseSize('16kb') // { ok: true, value: 16384 }
 */
export function parseSize(input: string | number): UnitResult {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input >= 0) return ok(input);
    return fail(`${String(input)} is not a size; use whole bytes or e.g. 16kb, 100mb`);
  }
  const match = SIZE.exec(input);
  if (!match) return fail(`"${input}" is not a size; use e.g. 512, 16kb, 100mb, 2gb`);
  const bytes = Number(match[1]) * (SIZE_UNIT[(match[2] ?? 'b').toLowerCase()] ?? 1);
  if (!Number.isSafeInteger(Math.round(bytes))) return fail(`"${input}" is too large`);
  return ok(Math.round(bytes));
}
