// The sockets the daemon serves, bound once by the keeper: the proxy's listeners and the admin API's.
// Host names are resolved here (the first address), as Node's own listen() would.
import { lookup } from 'node:dns/promises';
import { createServer, isIP } from 'node:net';
import { parseHostPort, type Config } from '../../config/index.js';
import { StartError } from '../start-error.js';
import { bindTcp, SocketHandleError, type BoundSocket } from './socket-handles.js';

export interface Listeners {
  proxy: BoundSocket[];
  admin: BoundSocket;
  /** Lets go of the proxy's sockets (the workers may still hold theirs). */
  closeProxy(): void;
  close(): void;
}

/** Binds every address in the config, or none: on a failure the ones bound are closed again. */
export async function bindListeners(config: Config): Promise<Listeners> {
  const bound: BoundSocket[] = [];
  try {
    for (const listen of config.proxy.listen) bound.push(await bindAddress(listen));
    const admin = await bindAddress(config.admin.listen);
    const proxy = [...bound];
    let proxyOpen = true;
    const closeProxy = () => {
      if (proxyOpen) proxy.forEach((s) => s.close());
      proxyOpen = false;
    };
    return {
      proxy,
      admin,
      closeProxy,
      close: () => {
        closeProxy();
        admin.close();
      },
    };
  } catch (err) {
    for (const socket of bound) socket.close();
    throw err;
  }
}

async function bindAddress(listen: string): Promise<BoundSocket> {
  const { host, port } = parseHostPort(listen);
  let ip = host;
  if (isIP(host) === 0) {
    try {
      ip = (await lookup(host)).address;
    } catch {
      throw new StartError(`cannot listen on ${listen}: ${host} does not resolve to an address`, { exitCode: 2 });
    }
  }
  // A bound socket may listen only later, and with SO_REUSEADDR a taken port shows only then: try it now.
  if (port !== 0) {
    const code = await tryListen(ip, port);
    if (code !== null) throw new StartError(bindProblem(listen, code), { exitCode: 2 });
  }
  try {
    return bindTcp(ip, port);
  } catch (err) {
    if (!(err instanceof SocketHandleError)) throw err;
    throw new StartError(bindProblem(listen, err.errno), { exitCode: 2 });
  }
}

/** The error code listening failed with, or null when the address could be listened on. */
function tryListen(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

function bindProblem(where: string, errno: string): string {
  if (errno === 'EADDRINUSE') return `cannot listen on ${where}: the address is already in use`;
  if (errno === 'EACCES') return `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
  if (errno === 'EADDRNOTAVAIL') return `cannot listen on ${where}: this host has no such address`;
  return `cannot listen on ${where}: ${errno}`;
}
