// Entry point of a proxy worker process. The keeper starts it with an IPC channel and the listening
// sockets as inherited descriptors; everything else arrives as messages (see worker/proxy-worker.ts).
import pino from 'pino';
import type { ToWorker } from './ipc/messages.js';
import { ProxyWorker } from './worker/proxy-worker.js';

/** When the keeper is gone (killed), in-flight work gets this long before the worker exits. */
const ORPHAN_DRAIN_MS = 5000;

const worker = new ProxyWorker(
  pino({ base: { proxy: process.pid } }, pino.destination(2)),
  (message) => process.send?.(message),
  (code) => process.exit(code),
);
process.on('message', (message) => worker.handle(message as ToWorker));
process.on('disconnect', () => void worker.stop(ORPHAN_DRAIN_MS, 'handover'));
// Signals go to the keeper, which decides for every process (a terminal's Ctrl-C reaches the whole group).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const) process.on(signal, () => {});
