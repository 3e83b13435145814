// X-Request-Id for requests that arrive without one: UUID-shaped (8-4-4-4-12 hex), a random prefix drawn
// once per process and a counter, so a request pays for a string concatenation, not for random bytes.
import { randomBytes } from 'node:crypto';

const COUNTER_DIGITS = 12;
/** 48 bits of counter: a process would need years at 1M rps to wrap, and then it draws a new prefix. */
const COUNTER_LIMIT = 2 ** (4 * COUNTER_DIGITS);

let prefix = newPrefix();
let counter = 0;

/** 74 random bits laid out as `xxxxxxxx-xxxx-4xxx-yxxx-` (version 4 and RFC 4122 variant bits, like randomUUID). */
function newPrefix(): string {
  const hex = randomBytes(10).toString('hex');
  const variant = ((parseInt(hex[12]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(16, 19)}-`;
}

/**
 * A request id unique to this process's lifetime (and, by its random prefix, across processes).
 * @example nextRequestId() // '3f2a9c1e-7b4d-4e81-9a03-000000000001'
 */
export function nextRequestId(): string {
  if (++counter >= COUNTER_LIMIT) {
    prefix = newPrefix();
    counter = 1;
  }
  const digits = counter.toString(16);
  return prefix + '000000000000'.slice(digits.length) + digits;
}
