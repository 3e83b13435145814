// Every exit path of a bench ends its children by PID: a normal return, a thrown error, Ctrl-C or
// SIGTERM. The first reason to stop decides the exit code; targets register their clean-up here; temp
// dirs are removed at the end. Shared by bench:proxy, bench:zero-downtime and bench:slow-readers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllNow, stopAll } from './proxy/processes.js';

const tempDirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
const killers: (() => void)[] = [];
let exitCode: number | undefined;
let stopped: Promise<void> | undefined;

/** True once Ctrl-C, SIGTERM or the end began the shutdown: no new deploys start. */
export const stopping = (): boolean => exitCode !== undefined;

/** Registers a clean-up for every exit path; the returned function runs it once and unregisters it. */
export function track(cleanup: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> =>
    (done ??= cleanup().finally(() => {
      const at = cleanups.indexOf(once);
      if (at >= 0) cleanups.splice(at, 1);
    }));
  cleanups.push(once);
  return once;
}

/** A synchronous last resort run when the process exits (SIGKILL by PID of what is not our child). */
export function onExitKill(kill: () => void): void {
  killers.push(kill);
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

async function shutdown(code: number): Promise<never> {
  exitCode ??= code;
  stopped ??= (async () => {
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined);
    await stopAll();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  })();
  await stopped;
  process.exit(exitCode);
}

/** Runs `main`, then shuts down with its exit code (1 on a thrown error), whatever happens meanwhile. */
export function runMain(main: () => Promise<number>): void {
  process.on('exit', () => {
    killAllNow();
    for (const kill of killers) kill();
  });
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping child processes`);
      void shutdown(code);
    });
  }
  main().then(
    (code) => shutdown(code),
    (err: unknown) => {
      if (exitCode === undefined) console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      return shutdown(1);
    },
  );
}
