// Secure contexts for one TLS listener, built from a snapshot: SNI by exact name, then the longest
// wildcard (the service host matching), else the default certificate. Expired certificates only serve
// names that no valid certificate covers.
import { createSecureContext, type SecureContext } from 'node:tls';
import { HostRouter } from '../host-router.js';
import type { SnapshotCertificate } from './tls-snapshot.js';

/** Mozilla "intermediate": TLS 1.3 suites, then ECDHE with AEAD ciphers for TLS 1.2 (no DHE: no dhparam file). */
export const INTERMEDIATE_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

export interface ServedCertificate {
  source: SnapshotCertificate;
  context: SecureContext;
}

export class ListenerContexts {
  readonly defaultCertificate: ServedCertificate | undefined;
  private readonly router: HostRouter<ServedCertificate>;
  /** OCSP responses by the certificate's DER (base64), for the OCSPRequest event. */
  private readonly ocsp = new Map<string, Buffer>();

  constructor(certificates: readonly SnapshotCertificate[], minVersion: TlsMinVersion, now = Date.now()) {
    // Valid before expired, so a renewed certificate wins over the one it replaces for every name.
    const ordered = [...certificates].sort((a, b) => Number(isExpired(a, now)) - Number(isExpired(b, now)));
    const served = ordered.map((source) => ({ source, context: createSecureContext(secureOptions(source, minVersion)) }));
    const original = certificates[0];
    this.defaultCertificate = served.find((s) => s.source === original && !isExpired(original, now)) ?? served[0];
    this.router = new HostRouter(served.map((s) => ({ match: { hosts: s.source.names, pathPrefix: '/' }, target: s })));
    for (const { source } of served) {
      if (source.ocspBase64 !== undefined) this.ocsp.set(derBase64(source.certPem), Buffer.from(source.ocspBase64, 'base64'));
    }
  }

  /** The certificate for an SNI name (any case). */
  forName(servername: string): ServedCertificate | undefined {
    return this.router.match(servername, '/') ?? this.defaultCertificate;
  }

  /** The OCSP response to staple for a certificate (DER), if one is known. */
  ocspFor(certificateDer: Buffer): Buffer | undefined {
    return this.ocsp.size === 0 ? undefined : this.ocsp.get(certificateDer.toString('base64'));
  }
}

export function secureOptions(
  cert: { certPem: string; keyPem: string },
  minVersion: TlsMinVersion,
): { cert: string; key: string; minVersion: TlsMinVersion; ciphers: string; honorCipherOrder: boolean } {
  return { cert: cert.certPem, key: cert.keyPem, minVersion, ciphers: INTERMEDIATE_CIPHERS, honorCipherOrder: false };
}

function isExpired(cert: SnapshotCertificate, now: number): boolean {
  return cert.notAfter <= now;
}

function derBase64(pem: string): string {
  const body = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem)?.[1] ?? '';
  return body.replace(/\s+/g, '');
}
