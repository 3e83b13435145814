// Instance log files: where they live, rotation by copy-then-truncate (the app holds an O_APPEND descriptor,
// so renaming the file would send its output into the rotated copy), and reading the tail or following it.
import { statSync } from 'node:fs';
import { copyFile, open, rename, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as delay } from 'node:timers/promises';

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_KEEP = 3;
const DEFAULT_CHECK_MS = 10_000;
const FOLLOW_POLL_MS = 200;
/** Most bytes one poll of followLog reads; a burst larger than this is delivered over several reads. */
const FOLLOW_CHUNK = 1024 * 1024;

/**
 * Where an instance writes its output.
 *
 * @example instanceLogPath('.switchyard', 'web', 3, 1) // '.switchyard/logs/web/3-1.log'
 */
export function instanceLogPath(stateDir: string, service: string, releaseNumber: number, ordinal: number): string {
  // Config validation restricts names already; this keeps a bad one from writing outside logs/.
  if (service === '' || service === '.' || service === '..' || /[/\\\0]/.test(service)) {
    throw new RangeError(`service name cannot be used in a path: ${JSON.stringify(service)}`);
  }
  return join(stateDir, 'logs', service, `${String(releaseNumber)}-${String(ordinal)}.log`);
}

/**
 * If `path` is larger than `maxBytes`: shifts `.1`…`.keep-1` up by one (dropping the oldest), copies the
 * file to `.1` and truncates it to zero, where the app's appends carry on. Returns whether it rotated.
 * Output written between the copy and the truncation is lost; that is the price of copy-then-truncate.
 *
 * @example await rotateIfLarge(instanceLogPath(state, 'web', 3, 1), 10 * 1024 * 1024, 3)
 */
export async function rotateIfLarge(path: string, maxBytes: number, keep: number): Promise<boolean> {
  const size = await sizeOf(path);
  if (size === undefined || size <= maxBytes) return false;
  for (let i = keep - 1; i >= 1; i--) await renameIfPresent(`${path}.${String(i)}`, `${path}.${String(i + 1)}`);
  if (keep >= 1) await copyFile(path, `${path}.1`); // libuv gives the copy the original's mode (0600)
  await truncate(path, 0);
  return true;
}

export interface LogRotatorOptions {
  /** How often to look at the files; default 10 s. */
  intervalMs?: number;
  /** Rotate files larger than this; default 10 MB. */
  maxBytes?: number;
  /** Rotated copies to keep; default 3. */
  keep?: number;
  /** A failed rotation is retried on the next check; this hears about it. Default: a process warning. */
  onError?: (path: string, err: unknown) => void;
}

/**
 * Rotates a changing set of log files in the background: checking starts with the first add(). Its timer
 * is unref'd, so it never keeps the daemon alive.
 *
 * @example
 * const rotator = new LogRotator();
 * rotator.add(logFile); // checked every 10 s from now on
 * rotator.stop();       // at shutdown
 */
export class LogRotator {
  readonly #paths = new Set<string>();
  readonly #intervalMs: number;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #onError: (path: string, err: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<string[]> | undefined;

  constructor(options: LogRotatorOptions = {}) {
    this.#intervalMs = options.intervalMs ?? DEFAULT_CHECK_MS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#keep = options.keep ?? DEFAULT_KEEP;
    this.#onError =
      options.onError ??
      ((path, err) => process.emitWarning(`log rotation of ${path} failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** Watches `path` from now on, and starts the timer if it is not running. */
  add(path: string): void {
    this.#paths.add(path);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.checkNow(), this.#intervalMs);
    this.#timer.unref();
  }

  delete(path: string): void {
    this.#paths.delete(path);
  }

  /** Stops the timer; a later add() starts it again. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Rotates every file above the limit now; returns the paths rotated. Overlapping calls share one pass. */
  checkNow(): Promise<string[]> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<string[]> {
    const rotated: string[] = [];
    for (const path of [...this.#paths]) {
      try {
        if (await rotateIfLarge(path, this.#maxBytes, this.#keep)) rotated.push(path);
      } catch (err) {
        this.#onError(path, err);
      }
    }
    return rotated;
  }
}

/**
 * The last `maxBytes` of a log as text; when the current file holds less (it was just rotated), the rest
 * comes from the end of `.1`. Missing files read as empty.
 *
 * @example const lastLines = (await readLogTail(logFile, 2000)).trimEnd().split('\n').slice(-5);
 */
export async function readLogTail(path: string, maxBytes: number): Promise<string> {
  let bytes = await readLast(path, maxBytes);
  if (bytes.length < maxBytes) bytes = Buffer.concat([await readLast(`${path}.1`, maxBytes - bytes.length), bytes]);
  return bytes.subarray(firstCharBoundary(bytes)).toString('utf8');
}

/**
 * Calls `onData` with whatever is appended to `path` after this call, polling its size every 200 ms, until
 * `signal` aborts (then it resolves). When rotation truncates the file, the unread end is taken from `.1`
 * and following restarts at offset 0.
 *
 * @example
 * const stop = new AbortController();
 * void followLog(logFile, (text) => res.write(text), stop.signal);
 */
export async function followLog(
  path: string,
  onData: (text: string) => void,
  signal: AbortSignal,
  { intervalMs = FOLLOW_POLL_MS }: { intervalMs?: number } = {},
): Promise<void> {
  // Read synchronously, so everything appended once this function has returned is delivered.
  let offset = sizeOfSync(path) ?? 0;
  let decoder = new StringDecoder('utf8');
  const emit = (text: string): void => {
    if (text !== '') onData(text);
  };
  while (!signal.aborted) {
    const size = await sizeOf(path);
    if (size === undefined) {
      offset = 0; // deleted: a file created under this name later is read from its start
    } else if (size < offset) {
      const rotatedSize = (await sizeOf(`${path}.1`)) ?? 0;
      if (rotatedSize >= offset) emit(decoder.write(await readRange(`${path}.1`, offset, rotatedSize)));
      emit(decoder.end());
      decoder = new StringDecoder('utf8');
      offset = 0;
    }
    let more = false;
    if (size !== undefined && size > offset) {
      const end = Math.min(size, offset + FOLLOW_CHUNK);
      const bytes = await readRange(path, offset, end);
      offset += bytes.length;
      more = bytes.length > 0 && offset < size;
      emit(decoder.write(bytes));
    }
    if (more) continue;
    try {
      await delay(intervalMs, undefined, { signal });
    } catch {
      break; // aborted
    }
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function sizeOfSync(path: string): number | undefined {
  return statSync(path, { throwIfNoEntry: false })?.size;
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The last `count` bytes of a file; empty when it does not exist. */
async function readLast(path: string, count: number): Promise<Buffer> {
  const size = await sizeOf(path);
  if (size === undefined || count <= 0) return Buffer.alloc(0);
  return readRange(path, Math.max(0, size - count), size);
}

/** Bytes [from, to) of a file; fewer if it shrank meanwhile. */
async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const buffer = Buffer.alloc(Math.max(0, to - from));
  let filled = 0;
  try {
    const handle = await open(path, 'r');
    try {
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, from + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return buffer.subarray(0, filled);
}

// A tail cut at a byte count may start inside a UTF-8 sequence; skip its continuation bytes (10xxxxxx).
function firstCharBoundary(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && i < 3 && ((bytes[i] ?? 0) & 0xc0) === 0x80) i++;
  return i;
}
