// The schema of one proxy listener: a plain `host:port`, or a mapping with TLS (files and/or ACME),
// HTTP/2, an http → https redirect and HSTS. Both forms resolve to one ListenerConfig shape.
import { z } from 'zod';
import { addressTypeError, hostPattern, hostPort, nonEmpty } from './fields.js';

/** A year: what browsers and the HSTS preload list expect. */
const HSTS_MAX_AGE_S = 31_536_000;
const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

const certificateFiles = z
  .strictObject({
    cert: nonEmpty.describe('PEM file: the certificate, then its chain'),
    key: nonEmpty.describe('PEM file: the private key'),
    ocsp: nonEmpty.optional().describe('DER file with an OCSP response to staple (kept fresh by another tool)'),
  })
  .describe('A certificate and key from files; replaced files are picked up within seconds');

const acmeSchema = z
  .strictObject({
    email: z.email('is not an email address').describe('Contact for the ACME account'),
    directory: z.url({ protocol: /^https?$/, error: 'is not an http(s) URL' }).default(LETS_ENCRYPT_DIRECTORY).describe('ACME directory URL'),
    eab: z
      .strictObject({ kid: nonEmpty, hmacKey: nonEmpty.describe('base64url HMAC key from the provider') })
      .optional()
      .describe('External account binding, for providers that need one'),
    challenge: z.enum(['http-01', 'tls-alpn-01']).default('http-01').describe('How the ACME server checks control of a name'),
    hosts: z
      .array(hostPattern)
      .min(1)
      .optional()
      .describe("Names to get certificates for; default: every service's exact match.hosts (one certificate per service)"),
    directoryCa: nonEmpty.optional().describe('PEM file of a CA to trust for the directory (a private ACME server)'),
    renewAt: z
      .number()
      .gt(0)
      .lt(1)
      .default(2 / 3)
      .describe('Renew when this share of the lifetime has passed (a little jitter is added)'),
  })
  .describe('Certificates obtained and renewed automatically from an ACME directory');

const tlsSchema = z
  .strictObject({
    certificates: z.array(certificateFiles).default([]).describe('The first one is the default for unknown names'),
    acme: acmeSchema.optional(),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  })
  .superRefine((tls, ctx) => {
    if (tls.certificates.length === 0 && tls.acme === undefined) {
      ctx.addIssue({ code: 'custom', message: 'list certificates, or set acme to obtain them automatically' });
    }
  });

const hstsSchema = z
  .union([
    z.literal(true),
    z.strictObject({
      maxAge: z.int().min(0).default(HSTS_MAX_AGE_S).describe('Seconds browsers remember to use https only'),
      includeSubDomains: z.boolean().default(false),
      preload: z.boolean().default(false),
    }),
  ])
  .transform((hsts) => (hsts === true ? { maxAge: HSTS_MAX_AGE_S, includeSubDomains: false, preload: false } : hsts))
  .describe('Strict-Transport-Security on responses of a TLS listener: true or { maxAge, includeSubDomains, preload }');

const listenerMapping = z
  .strictObject({
    address: hostPort(),
    tls: tlsSchema.optional().describe('Serve HTTPS on this address'),
    http2: z
      .boolean()
      .optional()
      .describe('HTTP/2: by ALPN next to HTTP/1.1 with tls (default true); cleartext h2c without (default false)'),
    redirect: z.literal('https', 'can only be https').optional().describe('Answer every request with 308 to https'),
    hsts: hstsSchema.optional(),
  })
  .superRefine((listener, ctx) => {
    if (listener.tls !== undefined && listener.redirect !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['redirect'], message: 'only a plain listener redirects to https; this one has tls' });
    }
    if (listener.tls === undefined && listener.hsts !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hsts'], message: 'HSTS needs tls on this listener (browsers ignore it over plain http)' });
    }
  });

/** One listen entry as written: `127.0.0.1:8080` or a mapping. */
export const listenEntry = z
  .union([hostPort(), listenerMapping], {
    error: (issue) => (typeof issue.input === 'object' && issue.input !== null ? undefined : addressTypeError(issue.input)),
  })
  .transform((entry) => {
    const mapping = typeof entry === 'string' ? { address: entry } : entry;
    return {
      address: mapping.address,
      tls: mapping.tls,
      http2: mapping.http2 ?? mapping.tls !== undefined,
      redirect: mapping.redirect,
      hsts: mapping.hsts,
    };
  });

export type ListenerConfig = z.output<typeof listenEntry>;
export type ListenerTlsConfig = NonNullable<ListenerConfig['tls']>;
export type AcmeConfig = NonNullable<ListenerTlsConfig['acme']>;
export type HstsConfig = NonNullable<ListenerConfig['hsts']>;
