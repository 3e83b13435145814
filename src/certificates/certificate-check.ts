// Reads a certificate and key (PEM) and checks them before they may serve: both parse, the key belongs
// to the certificate, and the certificate is within its validity. Problems are values with a code.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { SnapshotCertificate } from '../proxy/edge/tls-snapshot.js';

export type CertificateProblemCode =
  | 'SY_ERR_CERT_UNREADABLE'
  | 'SY_ERR_CERT_INVALID'
  | 'SY_ERR_CERT_KEY_INVALID'
  | 'SY_ERR_CERT_KEY_MISMATCH'
  | 'SY_ERR_CERT_EXPIRED'
  | 'SY_ERR_CERT_NOT_YET_VALID'
  | 'SY_ERR_CERT_NO_NAMES';

export class CertificateError extends Error {
  constructor(
    readonly code: CertificateProblemCode,
    message: string,
  ) {
    super(message);
    this.name = 'CertificateError';
  }
}

export interface CheckedCertificate extends SnapshotCertificate {
  issuer: string;
  subject: string;
  fingerprint256: string;
}

/** Checks a PEM pair; `what` names it in errors (e.g. the file paths). Throws CertificateError. */
export function checkCertificate(id: string, certPem: string, keyPem: string, what: string, now = Date.now()): CheckedCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch (err) {
    throw new CertificateError('SY_ERR_CERT_INVALID', `${what}: the certificate is not a PEM certificate (${errorText(err)})`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new CertificateError('SY_ERR_CERT_KEY_INVALID', `${what}: the key is not a PEM private key (${errorText(err)})`);
  }
  if (!x509.checkPrivateKey(key)) {
    throw new CertificateError('SY_ERR_CERT_KEY_MISMATCH', `${what}: the key does not belong to the certificate (${x509.subject.replace(/\n/g, ', ')})`);
  }
  const notBefore = Date.parse(x509.validFrom);
  const notAfter = Date.parse(x509.validTo);
  if (notAfter <= now) throw new CertificateError('SY_ERR_CERT_EXPIRED', `${what}: the certificate expired on ${new Date(notAfter).toISOString()}`);
  if (notBefore > now + 60_000) {
    throw new CertificateError('SY_ERR_CERT_NOT_YET_VALID', `${what}: the certificate is valid only from ${new Date(notBefore).toISOString()}`);
  }
  const names = dnsNames(x509);
  if (names.length === 0) throw new CertificateError('SY_ERR_CERT_NO_NAMES', `${what}: the certificate names no DNS host (subjectAltName or CN)`);
  try {
    // What the TLS library itself will accept (key types, sizes, chain format).
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (err) {
    throw new CertificateError('SY_ERR_CERT_INVALID', `${what}: the TLS library refuses the pair (${errorText(err)})`);
  }
  return {
    id,
    names,
    certPem,
    keyPem,
    notBefore,
    notAfter,
    issuer: oneLine(x509.issuer),
    subject: oneLine(x509.subject),
    fingerprint256: x509.fingerprint256,
  };
}

/** DNS names from subjectAltName, else the subject CN (older certificates). */
function dnsNames(x509: X509Certificate): string[] {
  const san = x509.subjectAltName;
  if (san !== undefined) {
    const names = san
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4).toLowerCase());
    if (names.length > 0) return names;
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn === undefined ? [] : [cn.toLowerCase()];
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
