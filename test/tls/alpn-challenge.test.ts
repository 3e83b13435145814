// TLS-ALPN-01 on a serving listener: while a challenge for a name is pending, only a handshake that
// offers `acme-tls/1` gets the challenge certificate; browsers and API clients (h2, http/1.1, no ALPN)
// keep getting the real one, so a renewal by TLS-ALPN-01 never shows anyone a self-signed certificate.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { EdgeServer } from '../../src/proxy/edge/edge-server.js';
import { EdgeTls } from '../../src/proxy/edge/edge-tls.js';
import type { TlsSnapshot } from '../../src/proxy/edge/tls-snapshot.js';
import { makeCa, makeCert, makeSelfSigned } from '../helpers/certificates.js';
import { tempDir, type TempDir } from '../helpers/daemon.js';

const ADDRESS = '127.0.0.1:0';

interface Handshake {
  issuer: string;
  alpn: string | false | null;
}

function handshake(port: number, ALPNProtocols: string[] | undefined): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'shop.test', rejectUnauthorized: false, ALPNProtocols }, () => {
      const result = { issuer: String(socket.getPeerCertificate().issuer.CN), alpn: socket.alpnProtocol };
      socket.destroy();
      resolve(result);
    });
    socket.once('error', reject);
  });
}

describe('a TLS listener with a TLS-ALPN-01 challenge pending', () => {
  let dir: TempDir;
  let edge: EdgeServer;
  let tls: EdgeTls;
  let port: number;
  let snapshot: TlsSnapshot;

  before(async () => {
    dir = await tempDir('switchyard-alpn-');
    const ca = makeCa(dir.dir, 'Real Issuer');
    const real = makeCert(dir.dir, ca, 'shop', ['shop.test']);
    // A self-signed certificate stands in for the challenge one (its issuer is its own name).
    const challenge = makeSelfSigned(dir.dir, 'challenge', 'shop.test');
    const pem = (file: string) => readFileSync(file, 'utf8');
    snapshot = {
      listeners: { [ADDRESS]: [{ id: 'shop', names: ['shop.test'], certPem: pem(real.cert), keyPem: pem(real.key), notBefore: 0, notAfter: Date.now() + 86_400_000 }] },
      http01: {},
      alpn01: { 'shop.test': { certPem: pem(challenge.cert), keyPem: pem(challenge.key) } },
    };
    tls = new EdgeTls();
    const source = tls.attach(ADDRESS, 'TLSv1.2');
    tls.apply(snapshot);
    const handlers = { onRequest: () => {}, onUpgrade: () => {} };
    const limits = { headersTimeout: 5000, requestTimeout: 10_000, keepAliveTimeout: 5000, maxHeaderSize: 16_384, maxConnections: 100 };
    edge = new EdgeServer({ limits, handlers, http2: true, tls: { minVersion: 'TLSv1.2', source } });
    tls.bind(ADDRESS, edge);
    await edge.listen({ host: '127.0.0.1', port: 0 });
    port = (edge.server.address() as { port: number }).port;
  });

  after(async () => {
    edge?.closeAllConnections();
    await edge?.close();
    await dir?.remove();
  });

  it('gives the challenge certificate to the acme-tls/1 handshake', async () => {
    assert.deepEqual(await handshake(port, ['acme-tls/1']), { issuer: 'shop.test', alpn: 'acme-tls/1' });
  });

  it('keeps giving everyone else the real certificate, whatever they offer', async () => {
    assert.deepEqual(await handshake(port, ['h2', 'http/1.1']), { issuer: 'Real Issuer', alpn: 'h2' });
    assert.deepEqual(await handshake(port, ['http/1.1']), { issuer: 'Real Issuer', alpn: 'http/1.1' });
    assert.deepEqual(await handshake(port, undefined), { issuer: 'Real Issuer', alpn: false });
  });

  it('once the challenge is over, acme-tls/1 is no longer spoken', async () => {
    tls.apply({ ...snapshot, alpn01: {} });
    const after = await handshake(port, ['acme-tls/1', 'http/1.1']);
    assert.deepEqual(after, { issuer: 'Real Issuer', alpn: 'http/1.1' });
  });
});
