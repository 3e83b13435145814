// Certificates made at test time with openssl (never committed keys): a CA and leaf certificates
// signed by it, with the names, validity and key type a test needs.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  cert: string;
  key: string;
  /** The CA certificate as PEM, for clients' `ca` option. */
  pem: string;
}

export interface TestCert {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

export function makeCa(dir: string, name = 'Switchyard Test CA'): TestCa {
  const key = join(dir, `${name.replace(/\W/g, '_')}.key`);
  const cert = join(dir, `${name.replace(/\W/g, '_')}.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`], dir);
  return { cert, key, pem: execFileSync('cat', [cert], { encoding: 'utf8' }) };
}

/** A leaf for `names` (the first is the CN), signed by `ca`, written as `<file>.pem` and `<file>.key`. */
export function makeCert(dir: string, ca: TestCa, file: string, names: string[]): TestCert {
  const key = join(dir, `${file}.key`);
  const csr = join(dir, `${file}.csr`);
  const cert = join(dir, `${file}.pem`);
  const ext = join(dir, `${file}.ext`);
  writeFileSync(ext, `subjectAltName=${names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}\n`);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names[0]!}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-extfile', ext, '-days', '2'], dir);
  return { cert, key };
}

/** A self-signed certificate for `name` (its issuer is its own name). */
export function makeSelfSigned(dir: string, file: string, name: string): TestCert {
  const key = join(dir, `${file}.key`);
  const cert = join(dir, `${file}.pem`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], dir);
  return { cert, key };
}
