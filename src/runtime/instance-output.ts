// The last lines an instance printed: why it failed is usually there (`/bin/sh: 1: nodee: not found`),
// so failure events, `up`'s log, the deploy view and the dashboard carry them.
import { readLogTail } from './log-files.js';

/** How many lines of output a failure carries. */
export const OUTPUT_LINES = 8;
const TAIL_BYTES = 4096;

/** The last non-empty lines of a log file (none when it cannot be read). */
export async function lastOutput(logFile: string, lines = OUTPUT_LINES): Promise<string[]> {
  const text = await readLogTail(logFile, TAIL_BYTES).catch(() => '');
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-lines);
}

/**
 * A one-line message with the last line of output, for reasons and event messages.
 * @example withLastLine('exited with code 127', ['/bin/sh: 1: nodee: not found']) // 'exited with code 127; last output: /bin/sh: 1: nodee: not found'
 */
export function withLastLine(message: string, output: readonly string[]): string {
  const last = output.at(-1);
  return last === undefined ? message : `${message}; last output: ${last.length > 200 ? `${last.slice(0, 197)}...` : last}`;
}
