// HTTPS and HTTP/2 at the edge, end to end through `switchyard up`: SNI, protocol versions, session
// resumption, h2 and http/1.1 on one port, smuggling rules across h2 → h1, WebSockets on TLS, h2c,
// redirects, HSTS, and certificate files replaced under live connections.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, renameSync } from 'node:fs';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { startBackend, type Backend } from '../helpers/backend.js';
import { makeCa, makeCert, type TestCa } from '../helpers/certificates.js';
import { freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

function run(cmd: string, args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ code: err === null ? 0 : typeof code === 'number' ? code : 1, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** The certificate a TLS handshake with `servername` gets (undefined servername: no SNI). */
function peerCertificate(port: number, ca: string, servername: string | undefined): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

function h2Request(session: ClientHttp2Session, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let text = '';
    let status = 0;
    let head: Record<string, unknown> = {};
    stream.on('response', (h) => {
      status = Number(h[':status']);
      head = h;
    });
    stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve({ status, headers: head, body: text }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

describe('HTTPS and HTTP/2 at the edge', () => {
  let dir: TempDir;
  let ca: TestCa;
  let daemon: DaemonProcess;
  let backend: Backend;
  let wsBackend: { close(): Promise<void>; port: number };
  let tlsPort: number;
  let redirectPort: number;
  let h2cPort: number;
  let adminPort: number;
  let certA: string;
  let keyA: string;

  before(async () => {
    dir = await tempDir('switchyard-tls-');
    ca = makeCa(dir.dir);
    ({ cert: certA, key: keyA } = makeCert(dir.dir, ca, 'a', ['a.test']));
    makeCert(dir.dir, ca, 'wild', ['*.w.test']);
    makeCert(dir.dir, ca, 'default', ['default.test']);
    backend = await startBackend('app', (req, res) => {
      let size = 0;
      req.on('data', (c: Buffer) => (size += c.length));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ proto: req.headers['x-forwarded-proto'], host: req.headers.host, version: req.httpVersion, url: req.url, size, connection: req.headers.connection ?? null }));
      });
    });
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo ${(m as Buffer).toString()}`)));
    wsBackend = { port: (wss.address() as { port: number }).port, close: () => new Promise((resolve) => wss.close(() => resolve())) };
    [tlsPort, redirectPort, h2cPort, adminPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const config = await dir.write(
      'switchyard.yaml',
      [
        'proxy:',
        '  listen:',
        `    - address: 127.0.0.1:${tlsPort}`,
        '      tls:',
        '        certificates: [ { cert: default.pem, key: default.key }, { cert: a.pem, key: a.key }, { cert: wild.pem, key: wild.key } ]',
        '      hsts: { maxAge: 600, includeSubDomains: true }',
        `    - { address: 127.0.0.1:${redirectPort}, redirect: https }`,
        `    - { address: 127.0.0.1:${h2cPort}, http2: true }`,
        `admin: { listen: 127.0.0.1:${adminPort} }`,
        `state: ${join(dir.dir, 'state')}`,
        'services:',
        '  ws:',
        '    match: { hosts: [ws.w.test] }',
        `    targets: [127.0.0.1:${wsBackend.port}]`,
        '    health: { interval: 100ms }',
        '  secure:',
        '    match: { hosts: [secure.test] }',
        `    targets: [${backend.address}]`,
        '    redirect: https',
        '    health: { interval: 100ms }',
        '  web:',
        `    targets: [${backend.address}]`,
        '    health: { interval: 100ms }',
        '',
      ].join('\n'),
    );
    daemon = await startDaemon(config, { adminUrl: `http://127.0.0.1:${adminPort}`, cwd: dir.dir });
    // Static targets get traffic once their health check passed.
    await waitFor(async () => (await run('curl', ['-s', '--cacert', ca.cert, '--resolve', `a.test:${tlsPort}:127.0.0.1`, `https://a.test:${tlsPort}/`])).stdout.includes('proto'), { message: 'the service to answer over https' });
  });

  after(async () => {
    await daemon?.kill();
    await backend?.close();
    await wsBackend?.close();
    await dir?.remove();
  });

  it('chooses the certificate by SNI: exact name, wildcard, and the first certificate for unknown or absent names', async () => {
    assert.equal((await peerCertificate(tlsPort, ca.pem, 'a.test')).subject.CN, 'a.test');
    assert.equal((await peerCertificate(tlsPort, ca.pem, 'x.w.test')).subject.CN, '*.w.test');
    assert.equal((await peerCertificate(tlsPort, ca.pem, 'A.TEST')).subject.CN, 'a.test', 'SNI is matched without regard to case');
    assert.equal((await peerCertificate(tlsPort, ca.pem, 'unknown.test')).subject.CN, 'default.test');
    assert.equal((await peerCertificate(tlsPort, ca.pem, undefined)).subject.CN, 'default.test');
    const sni = await run('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, '-servername', 'deep.w.test', '-CAfile', ca.cert, '-verify_return_error'], 'Q\n');
    assert.match(sni.stdout, /subject=CN = \*\.w\.test/);
  });

  it('speaks TLS 1.2 and 1.3 only, with forward-secret AEAD ciphers, and resumes sessions', async () => {
    const old = await run('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, '-servername', 'a.test', '-tls1_1'], 'Q\n');
    assert.notEqual(old.code, 0, 'TLS 1.1 is refused');
    const rsaKex = await run('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, '-servername', 'a.test', '-tls1_2', '-cipher', 'AES128-SHA'], 'Q\n');
    assert.notEqual(rsaKex.code, 0, 'a cipher without forward secrecy is refused');
    const tls12 = await run('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, '-servername', 'a.test', '-tls1_2', '-CAfile', ca.cert], 'Q\n');
    assert.match(tls12.stdout, /Protocol\s*: TLSv1\.2/);
    assert.match(tls12.stdout, /Cipher\s*: ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)/);

    const session = await new Promise<Buffer>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'a.test', ca: ca.pem, maxVersion: 'TLSv1.2' }, () => {
        const s = socket.getSession();
        socket.end();
        if (s) resolve(s);
        else reject(new Error('no session'));
      });
      socket.once('error', reject);
    });
    const reused = await new Promise<boolean>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'a.test', ca: ca.pem, maxVersion: 'TLSv1.2', session }, () => {
        resolve(socket.isSessionReused());
        socket.end();
      });
      socket.once('error', reject);
    });
    assert.equal(reused, true, 'a resumed session skips the full handshake');
  });

  it('serves HTTP/2 and HTTP/1.1 on one port with the same routing, X-Forwarded-Proto https, and HSTS', async () => {
    const base = ['-s', '--cacert', ca.cert, '--resolve', `a.test:${tlsPort}:127.0.0.1`, '-D', '-'];
    const h2 = await run('curl', [...base, '--http2', `https://a.test:${tlsPort}/h2?x=1`]);
    assert.match(h2.stdout, /^HTTP\/2 200/);
    assert.match(h2.stdout, /strict-transport-security: max-age=600; includeSubDomains/);
    const h2Body = JSON.parse(h2.stdout.slice(h2.stdout.indexOf('{'))) as Record<string, unknown>;
    assert.deepEqual({ proto: h2Body.proto, host: h2Body.host, url: h2Body.url, version: h2Body.version }, { proto: 'https', host: `a.test:${tlsPort}`, url: '/h2?x=1', version: '1.1' });
    const h1 = await run('curl', [...base, '--http1.1', `https://a.test:${tlsPort}/h1`]);
    assert.match(h1.stdout, /^HTTP\/1\.1 200/);
    assert.match(h1.stdout, /strict-transport-security: max-age=600; includeSubDomains/i);
    assert.equal((JSON.parse(h1.stdout.slice(h1.stdout.indexOf('{'))) as { proto: string }).proto, 'https');
    const post = await run('curl', [...base, '--http2', '--data-binary', 'x'.repeat(100_000), `https://a.test:${tlsPort}/upload`]);
    assert.equal((JSON.parse(post.stdout.slice(post.stdout.indexOf('{'))) as { size: number }).size, 100_000, 'an h2 request body reaches the app whole');
    // The access log sees h2 requests like any other.
    await waitFor(() => daemon.stdout().includes('/h2?x=1'), { message: 'the h2 request in the access log' });
  });

  it('keeps request smuggling out across h2 → h1: a Host that contradicts :authority is refused, no connection headers pass', async () => {
    const session = http2Connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.pem, servername: 'a.test' });
    try {
      const conflict = await h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'a.test', host: 'evil.test' });
      assert.equal(conflict.status, 400);
      assert.equal(conflict.headers['x-switchyard-error'], 'bad_request');
      const ok = await h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'a.test', 'x-fine': '1' });
      assert.equal(ok.status, 200);
      assert.equal((JSON.parse(ok.body) as { connection: string | null }).connection, null, 'no connection header crosses into HTTP/1.1');
      const chunkedUp = await h2Request(session, { ':method': 'POST', ':path': '/no-length', ':authority': 'a.test' }, 'abc');
      assert.equal((JSON.parse(chunkedUp.body) as { size: number }).size, 3, 'a body without content-length is framed for HTTP/1.1');
    } finally {
      session.close();
    }
  });

  it('tunnels WebSockets over HTTP/1.1 on TLS', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/`, { ca: ca.pem, servername: 'ws.w.test', headers: { host: 'ws.w.test' } } as WebSocket.ClientOptions);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hi'));
      ws.once('message', (m) => resolve((m as Buffer).toString()));
      ws.once('error', reject);
    });
    assert.equal(reply, 'echo hi');
    ws.close();
  });

  it('serves cleartext h2c next to HTTP/1.1 where enabled', async () => {
    const h2c = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_version}', '--http2-prior-knowledge', `http://127.0.0.1:${h2cPort}/`]);
    assert.equal(h2c.stdout, '2');
    const h1 = await run('curl', ['-s', '-w', ' %{http_version}', `http://127.0.0.1:${h2cPort}/`]);
    assert.match(h1.stdout, /"proto":"http".* 1\.1$/);
  });

  it('redirects http to https with 308, keeping path and query, per listener and per service', async () => {
    const listener = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '-H', 'host: shop.test', `http://127.0.0.1:${redirectPort}/a/b?c=d&e`]);
    assert.equal(listener.stdout, `308 https://shop.test:${tlsPort}/a/b?c=d&e`);
    const service = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '-H', 'host: secure.test', `http://127.0.0.1:${h2cPort}/p?q=1`]);
    assert.equal(service.stdout, `308 https://secure.test:${tlsPort}/p?q=1`);
    const other = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${h2cPort}/p`]);
    assert.equal(other.stdout, '200', 'services without redirect are served over plain http');
  });

  it('takes a replaced certificate file for new handshakes within seconds, without touching live h2 streams or WebSockets', async () => {
    const before = await peerCertificate(tlsPort, ca.pem, 'a.test');
    const session = http2Connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.pem, servername: 'a.test' });
    assert.equal((await h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'a.test' })).status, 200);
    const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/`, { ca: ca.pem, servername: 'ws.w.test', headers: { host: 'ws.w.test' } } as WebSocket.ClientOptions);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    // A stream open across the replacement: its body arrives after the new certificate is in force.
    const open = session.request({ ':method': 'POST', ':path': '/slow', ':authority': 'a.test' });
    open.write('part one ');

    const next = makeCert(dir.dir, ca, 'a-next', ['a.test']);
    copyFileSync(next.key, `${keyA}.new`);
    copyFileSync(next.cert, `${certA}.new`);
    renameSync(`${keyA}.new`, keyA);
    renameSync(`${certA}.new`, certA);
    await waitFor(async () => (await peerCertificate(tlsPort, ca.pem, 'a.test')).serialNumber !== before.serialNumber, { timeout: 15_000, message: 'the new certificate to serve' });

    const response = new Promise<string>((resolve, reject) => {
      let text = '';
      open.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text)).on('error', reject);
    });
    open.end('part two');
    assert.equal((JSON.parse(await response) as { size: number }).size, 'part one part two'.length);
    assert.equal((await h2Request(session, { ':method': 'GET', ':path': '/again', ':authority': 'a.test' })).status, 200, 'the h2 session goes on');
    const echo = new Promise<string>((resolve) => ws.once('message', (m) => resolve((m as Buffer).toString())));
    ws.send('still here');
    assert.equal(await echo, 'echo still here');
    ws.close();
    session.close();
  });

  it('refuses a broken replacement with a clear error while the old certificate keeps serving', async () => {
    const serving = await peerCertificate(tlsPort, ca.pem, 'a.test');
    const other = makeCert(dir.dir, ca, 'other', ['a.test']);
    // The key of another certificate: a wrong pair.
    copyFileSync(other.key, `${keyA}.new`);
    renameSync(`${keyA}.new`, keyA);
    await daemon.waitForLog(/certificate replacement refused.*the key does not belong to the certificate/, 15_000);
    assert.equal((await peerCertificate(tlsPort, ca.pem, 'a.test')).serialNumber, serving.serialNumber);
    const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1/certificates`);
    const { certificates } = (await res.json()) as { certificates: { id: string; source: string; names: string[]; issuer: string; lastRenewal: { ok: boolean; error?: string } }[] };
    const a = certificates.find((c) => c.id === certA);
    assert.equal(a?.source, 'file');
    assert.deepEqual(a?.names, ['a.test']);
    assert.match(a?.issuer ?? '', /Switchyard Test CA/);
    assert.equal(a?.lastRenewal.ok, false);
    assert.match(a?.lastRenewal.error ?? '', /does not belong/);
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`switchyard_certificate_expiry_days\\{certificate="${certA.replace(/[/.]/g, '\\$&')}",listener="127.0.0.1:${tlsPort}",source="file"\\} 1\\.\\d+`));
    assert.match(metrics, new RegExp(`switchyard_tls_handshake_failures_total\\{listener="127.0.0.1:${tlsPort}"\\} [1-9]`), 'the refused TLS 1.1 and RSA handshakes were counted');
  });
});
