// Memory of each proxy: resident set of its whole process tree when idle, then with many idle keep-alive
// clients (each made one request and keeps its connection), so the cost per connection can be read.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssByRole, type Role } from './cpu.js';
import type { Running, TargetName } from './targets.js';

export interface MemoryFigure {
  target: TargetName;
  idle: Record<Role, number>;
  /** Null when the clients could not all be connected (see `note`). */
  withClients: Record<Role, number> | null;
  clients: number;
  note: string | null;
}

/** Connections being opened at once, so the proxy's accept queue never overflows. */
const CONNECT_BATCH = 200;
/** Time for the proxy to settle (timers, lazy frees) before memory is read. */
const SETTLE_MS = 2000;

/** Measures one target: idle, then with `clients` idle keep-alive connections, which are closed again. */
export async function measureMemory(target: Running, clients: number): Promise<MemoryFigure | undefined> {
  const pid = target.proc?.pid;
  if (pid === undefined) return undefined;
  await sleep(SETTLE_MS);
  const idle = rssByRole(pid);
  if (clients === 0) return { target: target.name, idle, withClients: null, clients, note: null };
  const url = new URL(target.url);
  const sockets: Socket[] = [];
  let note: string | null = null;
  try {
    for (let opened = 0; opened < clients; opened += CONNECT_BATCH) {
      const batch = Math.min(CONNECT_BATCH, clients - opened);
      sockets.push(...(await Promise.all(Array.from({ length: batch }, () => oneRequest(url.hostname, Number(url.port))))));
    }
    await sleep(SETTLE_MS);
    const closedMeanwhile = sockets.filter((s) => s.destroyed).length;
    if (closedMeanwhile > 0) note = `${closedMeanwhile} of ${clients} idle connections were closed by the proxy`;
    return { target: target.name, idle, withClients: rssByRole(pid), clients, note };
  } catch (err) {
    note = `could not hold ${clients} clients: ${err instanceof Error ? err.message : String(err)}`;
    return { target: target.name, idle, withClients: null, clients, note };
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

/** Opens a connection, makes one keep-alive request, and resolves with the socket once the answer came. */
function oneRequest(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 10 s'));
    }, 10_000);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => socket.write(`GET / HTTP/1.1\r\nhost: ${host}\r\n\r\n`));
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('latin1');
      // The backend's body ends with a newline after its Content-Length-framed text.
      if (seen.includes('\r\n\r\n') && seen.endsWith('\n')) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(socket);
      }
    };
    socket.on('data', onData);
  });
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
const total = (r: Record<Role, number>): number => r.main + r.controller + r.worker;

/** One line per target: idle RSS (by process for switchyard), with clients, and per connection. */
export function formatMemory(figures: readonly MemoryFigure[]): string[] {
  return figures.map((f) => {
    const parts = f.idle.controller + f.idle.worker > 0 ? ` (keeper ${mb(f.idle.main)}, controller ${mb(f.idle.controller)}, workers ${mb(f.idle.worker)})` : '';
    let line = `${f.target}: RSS idle ${mb(total(f.idle))}${parts}`;
    if (f.withClients !== null) {
      const added = total(f.withClients) - total(f.idle);
      line += `; with ${f.clients} idle keep-alive clients ${mb(total(f.withClients))} (+${mb(added)}, ${((added / f.clients) / 1024).toFixed(1)} KB per connection)`;
    }
    return f.note === null ? line : `${line}; ${f.note}`;
  });
}
