// What the data plane is told about TLS, as plain data: the certificates (PEM) each TLS listener serves
// and the ACME challenges in progress. The control plane builds it; the proxy never reads files itself.

export interface SnapshotCertificate {
  /** Stable name for logs and status: the cert file path, or `acme:<service>`. */
  id: string;
  /** DNS names it covers, lowercase: exact names and `*.example.com` wildcards. */
  names: string[];
  certPem: string;
  keyPem: string;
  notBefore: number;
  notAfter: number;
  /** DER OCSP response to staple, base64; absent = no stapling. */
  ocspBase64?: string;
}

export interface TlsSnapshot {
  /** Certificates per TLS listener address (as written in the config); the first is the default. */
  listeners: Record<string, SnapshotCertificate[]>;
  /** HTTP-01: token → key authorization, answered on /.well-known/acme-challenge/<token>. */
  http01: Record<string, string>;
  /** TLS-ALPN-01: name → the self-signed challenge certificate, served to `acme-tls/1` handshakes. */
  alpn01: Record<string, { certPem: string; keyPem: string }>;
}

export const EMPTY_TLS_SNAPSHOT: TlsSnapshot = { listeners: {}, http01: {}, alpn01: {} };
