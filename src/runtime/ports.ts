// Port discovery for instances: the kernel picks a free port, we release it and hand the number to the app.
import { createServer } from 'node:net';

/**
 * A port on `host` that nothing listens on right now. Another process may take it before the app binds it,
 * so callers treat "address in use" at start-up as a retryable failure.
 *
 * @example const port = await freePort(); // e.g. 41873
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      // Always an object for a TCP listener; the guard only satisfies the type of address().
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/**
 * Whether `port` on `host` can be bound now. "In use" and "not allowed" are false; any other error (an address
 * this host does not have, say) rejects, since retrying another port would not help.
 *
 * @example if (!(await isPortFree('127.0.0.1', 3000))) port = await freePort();
 */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.close((err) => (err ? reject(err) : resolve(true)));
    });
  });
}
