// Sockets the keeper holds without serving them: bound (and, for TCP, left for the proxy processes to
// listen on) but never accepted from here, so every connection goes to a worker. Node has no public way
// to bind without accepting; net._createServerHandle is what its own cluster module uses for exactly this.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';

/** The libuv handle Node wraps a bound socket in; only what the keeper needs of it. */
interface ServerHandle {
  readonly fd: number;
  getsockname(out: { address?: string; port?: number }): number;
  close(): void;
}

type CreateServerHandle = (address: string | null, port: number, addressType: number) => ServerHandle | number;

export class SocketHandleError extends Error {
  readonly code = 'SY_ERR_BIND';

  constructor(
    message: string,
    /** The system error name, e.g. EADDRINUSE. */
    readonly errno: string,
  ) {
    super(message);
  }
}

export interface BoundSocket {
  /** The descriptor in this process, to pass to children. */
  readonly fd: number;
  readonly address: string;
  readonly port: number;
  close(): void;
}

function createHandle(): CreateServerHandle {
  const create: unknown = Reflect.get(net, '_createServerHandle');
  if (typeof create !== 'function') {
    throw new SocketHandleError(
      `this Node.js (${process.version}) has no net._createServerHandle, which switchyard uses to hold listening sockets for its proxy processes`,
      'ENOSYS',
    );
  }
  return create as CreateServerHandle;
}

/** Binds a TCP address (an IP literal; port 0 = any free port) and returns the bound socket. */
export function bindTcp(host: string, port: number): BoundSocket {
  const type = net.isIP(host);
  if (type === 0) throw new SocketHandleError(`${host} is not an IP address`, 'EINVAL');
  const handle = createHandle()(host, port, type);
  if (typeof handle === 'number') {
    throw new SocketHandleError(`cannot bind ${host}:${port}`, getSystemErrorName(handle));
  }
  const out: { address?: string; port?: number } = {};
  handle.getsockname(out);
  return { fd: handle.fd, address: out.address ?? host, port: out.port ?? port, close: () => handle.close() };
}

/**
 * Binds a Linux abstract unix socket name (no file, released by the kernel when the last holder exits),
 * or returns null when another process holds it.
 */
export function bindAbstract(name: string): BoundSocket | null {
  const handle = createHandle()(`\0${name}`, -1, -1);
  if (typeof handle === 'number') {
    const errno = getSystemErrorName(handle);
    if (errno === 'EADDRINUSE') return null;
    throw new SocketHandleError(`cannot bind the lock socket ${name}`, errno);
  }
  return { fd: handle.fd, address: name, port: 0, close: () => handle.close() };
}
