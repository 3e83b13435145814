// Pipelined requests whose client leaves: every one of them ends at once (not when a timeout fires),
// its upstream request is aborted, and nothing stays in flight on the endpoint (issue 10, defect 2).
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startBackend, type Backend } from '../helpers/backend.js';
import { serviceSpec, startProxy, type RunningProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';

describe('pipelined requests of a client that left', () => {
  let app: Backend;
  let proxy: RunningProxy;
  /** Requests the app holds without answering, and those whose connection the proxy closed. */
  const held: IncomingMessage[] = [];
  let aborted = 0;

  before(async () => {
    app = await startBackend('app', (req) => {
      req.resume();
      held.push(req);
      req.socket.once('close', () => aborted++);
    });
    proxy = await startProxy({ services: [serviceSpec([app.address], { timeouts: { connect: 2000, response: 60_000, idle: 60_000, keepAlive: 4000 } })] });
  });
  after(async () => {
    await proxy.close();
    await app.close();
  });

  for (const [what, requests] of [
    ['three GETs', 'GET /a HTTP/1.1\r\nhost: x\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\n\r\nGET /c HTTP/1.1\r\nhost: x\r\n\r\n'],
    ['a GET and two POSTs whose bodies were read whole', 'GET /a HTTP/1.1\r\nhost: x\r\n\r\nPOST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabcPOST /c HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nxyz'],
  ] as const) {
    it(`ends ${what} and their upstream requests as soon as the client closes`, async () => {
      const endpoint = proxy.proxy.endpoints.get(app.address)!;
      held.length = 0;
      aborted = 0;
      const client = connect(proxy.port, '127.0.0.1');
      await new Promise((resolve) => client.once('connect', resolve));
      client.write(requests);
      // The proxy forwards each at once (one upstream connection each); the app holds all three.
      await waitFor(() => held.length === 3 && endpoint.inFlight === 3, { message: 'three requests held by the app' });
      client.destroy();
      // Not after a 60 s response timeout: now.
      await waitFor(() => endpoint.inFlight === 0, { timeout: 3000, message: `nothing in flight (still ${endpoint.inFlight})` });
      await waitFor(() => aborted === 3, { timeout: 3000, message: `the app to see all three aborted (${aborted})` });
      assert.equal(proxy.proxy.inFlight, 0);
    });
  }
});
