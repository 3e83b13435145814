// Before `up` touches any instance or state: can every listener (proxy and admin) be bound? A taken
// port is a config problem (exit 2), reported with the address and, where it can be found, who holds it.
import { createServer } from 'node:net';
import { parseHostPort, type Config, type HostPort } from '../config/index.js';
import { describePortOwner, findPortOwners } from '../runtime/port-owner.js';
import { StartError } from './start-error.js';

/** A listener's address cannot be bound: in use, not allowed, or not an address of this host. */
export class ListenAddressError extends StartError {
  override readonly code = 'SY_ERR_LISTEN_ADDRESS';

  constructor(message: string) {
    super(message, { exitCode: 2 });
  }
}

export interface Listener {
  /** What the address is for, as the config names it: `proxy.listen`, `admin.listen`. */
  key: string;
  /** As written in the config. */
  text: string;
  address: HostPort;
}

/** Every address the daemon will listen on, named as the config names it. */
export function listenersOf(config: Config): Listener[] {
  return [
    ...config.proxy.listen.map((listener) => ({ key: 'proxy.listen', text: listener.address, address: parseHostPort(listener.address) })),
    { key: 'admin.listen', text: config.admin.listen, address: parseHostPort(config.admin.listen) },
  ];
}

/**
 * Binds each address once and lets it go again; throws ListenAddressError for the first that fails.
 * A port 0 (any free port) cannot be taken, so it is not checked.
 * @example await checkListeners([{ key: 'proxy.listen', address: { host: '127.0.0.1', port: 8080 } }]);
 */
export async function checkListeners(listeners: readonly Listener[]): Promise<void> {
  for (const { key, address } of listeners) {
    if (address.port === 0) continue;
    const code = await tryBind(address);
    if (code !== null) throw new ListenAddressError(listenProblem(key, address, code));
  }
}

/** The error code binding failed with, or null when the address could be bound. */
function tryBind({ host, port }: HostPort): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

function listenProblem(key: string, { host, port }: HostPort, code: string): string {
  const where = `${key} ${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') {
    const owners = findPortOwners(port);
    const who = owners.length === 0 ? '' : `, held by ${owners.map(describePortOwner).join(' and ')}`;
    return `cannot listen on ${where}: the address is already in use${who}; stop that program or choose another port. Nothing was started`;
  }
  if (code === 'EACCES') return `cannot listen on ${where}: permission denied (ports below 1024 need privileges). Nothing was started`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: this host has no such address. Nothing was started`;
  return `cannot listen on ${where}: ${code}. Nothing was started`;
}
