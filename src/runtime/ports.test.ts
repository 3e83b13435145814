// Specification of port discovery: a free port is really bindable, and a taken one is reported as taken.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { freePort, isPortFree } from './ports.js';

const servers: Server[] = [];

async function listen(port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer();
  servers.push(server);
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

after(() => {
  for (const server of servers) server.close();
});

describe('ports', () => {
  it('freePort gives a port that a server can bind right away', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
    const server = await listen(port);
    assert.deepEqual(server.address(), { address: '127.0.0.1', family: 'IPv4', port });
  });

  it('isPortFree is false while something listens on the port, and true once it has closed', async () => {
    const port = await freePort();
    const server = await listen(port);
    assert.equal(await isPortFree('127.0.0.1', port), false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.equal(await isPortFree('127.0.0.1', port), true);
  });

  it('isPortFree rejects for an address this host does not have, since another port would not help', async () => {
    await assert.rejects(isPortFree('192.0.2.1', 8080), /EADDRNOTAVAIL/);
  });
});
