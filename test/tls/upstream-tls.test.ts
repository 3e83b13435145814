// TLS to upstreams: a service whose instances speak HTTPS is checked and proxied over verified TLS
// (the given CA bundle and server name); a name the certificate does not carry is never trusted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeCa, makeCert } from '../helpers/certificates.js';
import { freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

describe('TLS to upstreams', () => {
  let dir: TempDir;
  let app: Server;
  let daemon: DaemonProcess;
  let proxyPort: number;

  before(async () => {
    dir = await tempDir('switchyard-upstream-tls-');
    const ca = makeCa(dir.dir);
    const cert = makeCert(dir.dir, ca, 'app', ['app.internal']);
    app = createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (req, res) => res.end(`secure ${req.url ?? ''}`));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appAddress = `127.0.0.1:${(app.address() as AddressInfo).port}`;
    const adminPort = await freePort();
    proxyPort = await freePort();
    const config = await dir.write(
      'switchyard.yaml',
      [
        `proxy: { listen: 127.0.0.1:${proxyPort} }`,
        `admin: { listen: 127.0.0.1:${adminPort} }`,
        `state: ${join(dir.dir, 'state')}`,
        'services:',
        '  good:',
        '    match: { pathPrefix: /good }',
        `    targets: [${appAddress}]`,
        `    upstreamTls: { ca: ${ca.cert}, serverName: app.internal }`,
        '    health: { path: /healthz, interval: 100ms }',
        '  wrong-name:',
        '    match: { pathPrefix: /wrong }',
        `    targets: [${appAddress}]`,
        `    upstreamTls: { ca: ${ca.cert}, serverName: other.internal }`,
        '    health: { interval: 100ms }',
        '',
      ].join('\n'),
    );
    daemon = await startDaemon(config, { adminUrl: `http://127.0.0.1:${adminPort}`, cwd: dir.dir });
  });

  after(async () => {
    await daemon?.kill();
    await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
    await dir?.remove();
  });

  it('checks and proxies over TLS verified against the CA bundle and server name', async () => {
    const body = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${proxyPort}/good/x`);
        return res.status === 200 ? res.text() : undefined;
      },
      { message: 'the HTTPS instance to pass its HTTPS health check and answer' },
    );
    assert.equal(body, 'secure /good/x');
  });

  it('refuses an instance whose certificate does not carry the expected name', async () => {
    const res = await fetch(`http://127.0.0.1:${proxyPort}/wrong/x`);
    // The failed handshake is an upstream failure (502), or, once retried on the only instance, 503.
    assert.ok(res.status === 502 || res.status === 503, `status ${res.status}`);
    assert.match(res.headers.get('x-switchyard-error') ?? '', /upstream|no_healthy_endpoint/);
    await res.text();
  });
});
