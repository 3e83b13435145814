// Certificates that take care of themselves: switchyard orders from a real ACME server on loopback
// (Debian's pebble, with pebble-challtestsrv as its DNS), by HTTP-01 and by TLS-ALPN-01 with external account binding,
// renews pebble's short-lived certificates, and keeps serving the old one when a renewal fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { join } from 'node:path';
import { startBackend, type Backend } from '../helpers/backend.js';
import { makeCa, makeCert } from '../helpers/certificates.js';
import { freePort, startDaemon, tempDir, type DaemonProcess, type TempDir } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';

const EAB_KID = 'kid-1';
const EAB_KEY = 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W';
// Long enough to outlast a failed renewal on a loaded machine, short enough to renew within the test.
const VALIDITY_SECONDS = 60;

function servedCertificate(port: number, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

function startChild(command: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
  return { child, output: () => output };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGKILL');
  await exited;
}

/** Points a name at another address in challtestsrv's DNS (its management API). */
function setDnsAddress(managementPort: number, host: string, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: managementPort, path: '/add-a', method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ host, addresses: [address] }));
  });
}

interface CertificateJson {
  id: string;
  source: string;
  names: string[];
  issuer: string | null;
  lastRenewal: { ok: boolean; error?: string } | null;
}

/** pebble (with challtestsrv as its DNS) and a switchyard daemon ordering shop.test from it. */
interface AcmeSetup {
  dir: TempDir;
  pebble: ReturnType<typeof startChild>;
  challtest: ReturnType<typeof startChild>;
  daemon: DaemonProcess | undefined;
  backend: Backend;
  tlsPort: number;
  adminPort: number;
  dnsManagement: number;
}

async function startAcme(challenge: 'http-01' | 'tls-alpn-01'): Promise<AcmeSetup> {
  const dir = await tempDir('switchyard-acme-');
  const ca = makeCa(dir.dir, 'Pebble Listener CA');
  const listenerCert = makeCert(dir.dir, ca, 'pebble-listener', ['localhost', '127.0.0.1']);
  const backend = await startBackend('shop');
  const [httpPort, pebblePort, pebbleManagement, dnsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const [tlsPort, adminPort, dnsManagement] = [await freePort(), await freePort(), await freePort()];
  const challtest = startChild('pebble-challtestsrv', [
    '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '',
    '-management', `127.0.0.1:${dnsManagement}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '',
  ]);
  const pebbleConfig = await dir.write(
    'pebble.json',
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${pebblePort}`,
        managementListenAddress: `127.0.0.1:${pebbleManagement}`,
        certificate: listenerCert.cert,
        privateKey: listenerCert.key,
        // Where pebble's validation connects: switchyard's plain listener (HTTP-01) and its TLS listener (TLS-ALPN-01).
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: true,
        externalAccountMACKeys: { [EAB_KID]: EAB_KEY },
        certificateValidityPeriod: VALIDITY_SECONDS,
      },
    }),
  );
  const pebble = startChild('pebble', ['-config', pebbleConfig, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: '0',
  });
  const setup: AcmeSetup = { dir, pebble, challtest, daemon: undefined, backend, tlsPort, adminPort, dnsManagement };
  // A set-up that fails half way stops what it started: a leftover process would keep the test alive.
  try {
    await waitFor(() => setup.pebble.output().includes('ACME directory available'), { timeout: 20_000, message: 'pebble to listen' });
    const config = await dir.write(
      'switchyard.yaml',
      [
        'proxy:',
        '  listen:',
        `    - 127.0.0.1:${httpPort}`,
        `    - address: 127.0.0.1:${tlsPort}`,
        '      tls:',
        '        acme:',
        '          email: ops@shop.test',
        `          directory: https://127.0.0.1:${pebblePort}/dir`,
        `          directoryCa: ${ca.cert}`,
        `          eab: { kid: ${EAB_KID}, hmacKey: ${EAB_KEY} }`,
        `          challenge: ${challenge}`,
        '          renewAt: 0.25',
        `admin: { listen: 127.0.0.1:${adminPort} }`,
        `state: ${join(dir.dir, 'state')}`,
        'services:',
        '  shop:',
        '    match: { hosts: [shop.test] }',
        `    targets: [${backend.address}]`,
        '    health: { interval: 100ms }',
        '',
      ].join('\n'),
    );
    setup.daemon = await startDaemon(config, { adminUrl: `http://127.0.0.1:${adminPort}`, cwd: dir.dir });
    return setup;
  } catch (err) {
    await stopAcme(setup);
    throw err;
  }
}

async function stopAcme(setup: AcmeSetup | undefined): Promise<void> {
  await setup?.daemon?.kill();
  await stopChild(setup?.pebble.child);
  await stopChild(setup?.challtest.child);
  await setup?.backend.close();
  await setup?.dir.remove();
}

const certificatesOf = async (adminPort: number): Promise<CertificateJson[]> =>
  ((await (await fetch(`http://127.0.0.1:${adminPort}/api/v1/certificates`)).json()) as { certificates: CertificateJson[] }).certificates;

/** Waits until the TLS listener serves pebble's certificate for shop.test. */
function acmeCertificateServed(setup: AcmeSetup): Promise<PeerCertificate> {
  return waitFor(
    async () => {
      const cert = await servedCertificate(setup.tlsPort, 'shop.test');
      return cert.subjectaltname === 'DNS:shop.test' ? cert : undefined;
    },
    { timeout: 30_000, interval: 200, message: `the ACME certificate to serve\n${setup.pebble.output()}` },
  );
}

describe('ACME certificates from pebble', () => {
  let acme: AcmeSetup | undefined;
  let tlsPort: number;
  let firstSerial = '';
  const certificates = () => certificatesOf(acme!.adminPort);

  before(async () => {
    acme = await startAcme('http-01');
    tlsPort = acme.tlsPort;
  });
  after(() => stopAcme(acme));

  it('obtains a certificate by HTTP-01 with external account binding, stores it owner-only, and serves it', async () => {
    const served = await acmeCertificateServed(acme!);
    assert.match(String(served.issuer.CN), /Pebble Intermediate/);
    firstSerial = served.serialNumber;
    const [view] = await certificates();
    assert.equal(view?.source, 'acme');
    assert.deepEqual(view?.names, ['shop.test']);
    assert.equal(view?.lastRenewal?.ok, true);
    const acmeDir = join(acme!.dir.dir, 'state', 'certificates', 'acme');
    assert.equal(statSync(acmeDir).mode & 0o777, 0o700);
    const stored = readdirSync(acmeDir, { recursive: true }).map(String).filter((f) => f.endsWith('.pem') || f.endsWith('.key'));
    assert.ok(stored.some((f) => f.endsWith('key.pem')) && stored.some((f) => f.startsWith('account-')), stored.join(', '));
    for (const file of stored) assert.equal(statSync(join(acmeDir, file)).mode & 0o777, 0o600, file);
  });

  it("renews pebble's short-lived certificate before it expires", async () => {
    const renewed = await waitFor(
      async () => {
        const cert = await servedCertificate(tlsPort, 'shop.test');
        return cert.serialNumber !== firstSerial && cert.subjectaltname === 'DNS:shop.test' ? cert : undefined;
      },
      { timeout: VALIDITY_SECONDS * 1000, interval: 250, message: 'a renewed certificate' },
    );
    firstSerial = renewed.serialNumber;
    assert.ok(Date.parse(renewed.valid_to) > Date.now());
  });

  it('reports a failing challenge with a clear error while the current certificate keeps serving', async () => {
    // The ACME server now resolves shop.test to an address where nothing answers: HTTP-01 fails.
    assert.equal(await setDnsAddress(acme!.dnsManagement, 'shop.test.', '127.0.0.2'), 200);
    const failed = await waitFor(
      async () => {
        const [view] = await certificates();
        return view?.lastRenewal?.ok === false ? view : undefined;
      },
      { timeout: VALIDITY_SECONDS * 1000, interval: 250, message: 'a failed renewal' },
    );
    assert.match(failed.lastRenewal?.error ?? '', /shop\.test|connection|refused|challenge|authorization/i);
    await acme!.daemon!.waitForLog('ACME renewal failed; the current certificate keeps serving');
    const served = await servedCertificate(tlsPort, 'shop.test');
    assert.equal(served.serialNumber, firstSerial, 'the last good certificate still serves');
    assert.ok(Date.parse(served.valid_to) > Date.now(), 'and it is still valid');
  });
});

describe('ACME certificates by TLS-ALPN-01', () => {
  let acme: AcmeSetup | undefined;
  before(async () => {
    acme = await startAcme('tls-alpn-01');
  });
  after(() => stopAcme(acme));

  it('obtains the certificate through the TLS listener itself (the acme-tls/1 handshake) and serves it', async () => {
    const served = await acmeCertificateServed(acme!);
    assert.match(String(served.issuer.CN), /Pebble Intermediate/);
    const [view] = await certificatesOf(acme!.adminPort);
    assert.equal(view?.source, 'acme');
    assert.equal(view?.lastRenewal?.ok, true);
  });
});
