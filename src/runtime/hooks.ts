// Deploy hooks (preDeploy, postDeploy, onRollback): a shell command run to completion in its own process
// group, under a timeout, with the end of its output kept for the deployment's events. A failing hook is a
// result (ok: false), never a throw.
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, spawnError } from './spawn-process.js';
import { killProcessGroup, stopProcessGroup } from './stop-process.js';

export interface HookOptions {
  /** For messages: `preDeploy`, `postDeploy`, `onRollback`. */
  name: string;
  /** Run by `/bin/sh -c`. */
  command: string;
  cwd: string;
  /** Set over the daemon's own environment, which is passed on without its SWITCHYARD_TOKEN* variables. */
  env: Record<string, string>;
  timeoutMs: number;
}

export interface HookResult {
  /** Exited 0 within the timeout. */
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** stdout and stderr interleaved; the last 64 KB, opening with "[… N bytes cut]" when longer. */
  output: string;
  durationMs: number;
}

const MAX_OUTPUT_BYTES = 64 * 1024;
/** Between SIGTERM and SIGKILL for a hook that overran its timeout. */
const KILL_GRACE_MS = 2_000;
/** How long the output pipes may stay open after the hook is gone (held by a process that left its group). */
const CLOSE_WAIT_MS = 2_000;

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/**
 * Runs a hook to completion. Background processes it leaves behind are killed when it exits; on timeout
 * the whole group gets SIGTERM, then SIGKILL 2 s later.
 *
 * @example
 * const r = await runHook({ name: 'preDeploy', command: 'npm run migrate:expand', cwd, env: {}, timeoutMs: 300_000 });
 * if (!r.ok) fail(`preDeploy failed (exit ${r.exitCode}):\n${r.output}`);
 */
export async function runHook(opts: HookOptions): Promise<HookResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const output = new OutputTail(MAX_OUTPUT_BYTES);
  const notStarted = (err: unknown): HookResult => ({
    ok: false,
    exitCode: null,
    signal: null,
    timedOut: false,
    output: `hook ${opts.name}: ${spawnError(opts.command, opts.cwd, err).message}`,
    durationMs: elapsed(),
  });

  let child: ChildProcess;
  try {
    // One pipe for both streams keeps their true order: the shell's first act is to point stderr at stdout.
    // (A newline, not ';', so the redirection runs before the rest of the script is even parsed.)
    child = spawn('/bin/sh', ['-c', `exec 2>&1\n${opts.command}`], {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      detached: true, // own process group, so a timeout kills the hook's children too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    return notStarted(err);
  }
  const spawned = new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk)); // only the shell's own early complaints

  const failure = await spawned;
  const pid = child.pid;
  if (failure !== undefined || pid === undefined) return notStarted(failure);

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, opts.timeoutMs, 'timeout');
  });
  const first = await Promise.race([exited, timeout]);
  clearTimeout(timer);

  const timedOut = first === 'timeout';
  try {
    if (timedOut) await stopProcessGroup(pid, 'SIGTERM', KILL_GRACE_MS, exited);
    else await killProcessGroup(pid);
  } catch (err) {
    output.note(`could not stop the hook's processes: ${err instanceof Error ? err.message : String(err)}`);
  }

  if ((await Promise.race([closed, delay(CLOSE_WAIT_MS)])) === 'elapsed') {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  const exit = timedOut ? await Promise.race([exited, delay(0)]) : first;
  const exitCode = exit === 'elapsed' ? null : exit.code;
  const signal = exit === 'elapsed' ? null : exit.signal;
  if (timedOut) output.note(`hook ${opts.name} timed out after ${String(opts.timeoutMs)} ms`);
  return { ok: !timedOut && exitCode === 0, exitCode, signal, timedOut, output: output.text(), durationMs: elapsed() };
}

// An unref'd timer, so a pending race never keeps the process alive.
function delay(ms: number): Promise<'elapsed'> {
  return new Promise((resolve) => setTimeout(resolve, ms, 'elapsed').unref());
}

/** The last `limit` bytes of a stream, plus how many were dropped before them. */
class OutputTail {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = 0;
  #notes: string[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    // Drop whole chunks while the rest still fills the limit; text() trims the final partial one.
    for (let head = this.#chunks[0]; head !== undefined && this.#size - head.length >= this.#limit; head = this.#chunks[0]) {
      this.#chunks.shift();
      this.#size -= head.length;
      this.#dropped += head.length;
    }
  }

  /** A line of our own, appended after the hook's output. */
  note(line: string): void {
    this.#notes.push(line);
  }

  text(): string {
    let bytes = Buffer.concat(this.#chunks);
    let cut = this.#dropped;
    if (bytes.length > this.#limit) {
      cut += bytes.length - this.#limit;
      bytes = bytes.subarray(bytes.length - this.#limit);
    }
    if (cut > 0) {
      // Do not start inside a UTF-8 sequence: skip its continuation bytes (10xxxxxx).
      let skip = 0;
      while (skip < 3 && skip < bytes.length && ((bytes[skip] ?? 0) & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
      cut += skip;
    }
    let text = (cut > 0 ? `[… ${String(cut)} bytes cut]\n` : '') + bytes.toString('utf8');
    for (const line of this.#notes) text += `${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
    return text;
  }
}
