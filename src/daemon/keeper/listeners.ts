// The sockets the daemon serves, held by the keeper: the proxy's listeners and the admin API's. Bound
// once when the daemon starts; inherited from the previous generation on an upgrade (the same sockets,
// so no connection waiting in an accept queue is lost), bound anew only for addresses the config added.
import { closeSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseHostPort, type Config } from '../../config/index.js';
import { checkListeners, listenersOf } from '../listen-check.js';
import { StartError } from '../start-error.js';
import { bindTcp, SocketHandleError, type BoundSocket } from './socket-handles.js';

/** A socket with the config text it serves (`proxy.listen` or `admin.listen` as written). */
export interface Listener extends BoundSocket {
  readonly listen: string;
}

/** A listener as handed to a new generation: its descriptor there. */
export interface InheritedSocket {
  listen: string;
  address: string;
  port: number;
  fd: number;
}

export interface Listeners {
  proxy: Listener[];
  admin: Listener;
  /** Lets go of the proxy's sockets (the workers may still hold theirs). */
  closeProxy(): void;
  close(): void;
}

/**
 * The config's listeners: inherited ones where the address is the same, the others bound now. On a
 * failure nothing is left bound by this call (inherited sockets stay with the caller).
 */
export async function bindListeners(config: Config, inherited: readonly InheritedSocket[] = []): Promise<Listeners> {
  const created: Listener[] = [];
  const take = async (listen: string): Promise<Listener> => {
    const from = inherited.find((s) => s.listen === listen);
    if (from !== undefined) return { ...from, close: () => closeQuietly(from.fd) };
    const socket = { ...(await bindAddress(listen)), listen };
    created.push(socket);
    return socket;
  };
  // Addresses not inherited are tried first, so a taken one fails before anything is bound (with its holder named).
  await checkListeners(listenersOf(config).filter((l) => !inherited.some((s) => s.listen === l.text)));
  try {
    const proxy: Listener[] = [];
    const proxyAddresses = config.proxy.listen.map((l) => l.address);
    for (const listen of proxyAddresses) proxy.push(await take(listen));
    const admin = await take(config.admin.listen);
    // An inherited socket the config no longer names is let go.
    for (const s of inherited) if (!proxyAddresses.includes(s.listen) && s.listen !== config.admin.listen) closeQuietly(s.fd);
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
    for (const socket of created) socket.close();
    throw err;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed.
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
  try {
    return bindTcp(ip, port);
  } catch (err) {
    if (!(err instanceof SocketHandleError)) throw err;
    throw new StartError(bindProblem(listen, err.errno), { exitCode: 2 });
  }
}

function bindProblem(where: string, errno: string): string {
  if (errno === 'EADDRINUSE') return `cannot listen on ${where}: the address is already in use`;
  if (errno === 'EACCES') return `cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
  if (errno === 'EADDRNOTAVAIL') return `cannot listen on ${where}: this host has no such address`;
  return `cannot listen on ${where}: ${errno}`;
}
