// Entry point of the controller process. The keeper starts it with an IPC channel and the admin API's
// socket as an inherited descriptor, then sends `start` with the config; the controller loads the state,
// brings the services up, publishes tables to the proxy workers and says `ready`.
import pino from 'pino';
import { StartError } from './start-error.js';
import type { ControllerStart, FromController, ToController } from './ipc/messages.js';
import { ControlPlane } from './controller/control-plane.js';
import type { ClusterPlane } from '../cluster/cluster-plane.js';

const log = pino({ base: null }, pino.destination(2));
const send = (message: FromController) => process.send?.(message);

let plane: ControlPlane | ClusterPlane | null = null;

process.on('message', (raw) => {
  const message = raw as ToController;
  if (message.t === 'start') return void begin(message);
  plane?.handle(message);
});
// The keeper is gone: stop at once. App instances keep running; the next daemon adopts them.
process.on('disconnect', () => process.exit(0));
// Signals go to the keeper, which decides for every process (a terminal's Ctrl-C reaches the whole group).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const) process.on(signal, () => {});

async function begin(start: ControllerStart): Promise<void> {
  process.title = `switchyard controller (generation ${start.generation})`;
  try {
    const options = { config: start.config, configFile: start.configFile, log, start, send };
    // One host with SQLite, or one host of a cluster whose state is in etcd.
    // Imported only for a cluster: etcd's client (gRPC) is no start-up cost of the single-host default.
    plane = start.config.cluster ? await (await import('../cluster/cluster-plane.js')).ClusterPlane.create(options) : ControlPlane.create(options);
    await plane.run();
  } catch (err) {
    const message = err instanceof StartError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    send({ t: 'fatal', message });
    // An expected start-up failure is the keeper's one line to print; anything else keeps its stack here.
    if (!(err instanceof StartError)) log.error({ err }, 'the controller could not start');
    // Let the message reach the keeper before the channel closes.
    setTimeout(() => process.exit(1), 100);
    return;
  }
  send({ t: 'ready' });
}
