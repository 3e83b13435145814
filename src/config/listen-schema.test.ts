import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from './errors.js';
import { parseConfig } from './load.js';
import type { Config } from './schema.js';

const svc = 'services:\n  web: { targets: [127.0.0.1:3000] }\n';

function parse(text: string): Config {
  return parseConfig(text, '/etc/sy/switchyard.yaml', {});
}

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.line ?? '?'} ${p.path}: ${p.message}`);
    throw err;
  }
  assert.fail('expected the config to be rejected');
}

describe('TLS listeners', () => {
  it('reads plain addresses and TLS mappings into one shape, with paths relative to the config file', () => {
    const config = parse(`proxy:
  listen:
    - 127.0.0.1:8080
    - address: 0.0.0.0:8443
      tls:
        certificates: [ { cert: certs/a.pem, key: certs/a.key } ]
        acme: { email: ops@example.com }
      hsts: true
    - { address: 127.0.0.1:8082, http2: true }
    - { address: 0.0.0.0:80, redirect: https }
${svc}`);
    const [plain, tls, h2c, redirect] = config.proxy.listen;
    assert.deepEqual(plain, { address: '127.0.0.1:8080', tls: undefined, http2: false, redirect: undefined, hsts: undefined });
    assert.equal(tls?.http2, true, 'HTTP/2 is on by default with TLS');
    assert.deepEqual(tls?.tls?.certificates, [{ cert: '/etc/sy/certs/a.pem', key: '/etc/sy/certs/a.key', ocsp: undefined }]);
    assert.equal(tls?.tls?.acme?.directory, 'https://acme-v02.api.letsencrypt.org/directory');
    assert.equal(tls?.tls?.acme?.challenge, 'http-01');
    assert.equal(tls?.tls?.minVersion, 'TLSv1.2');
    assert.deepEqual(tls?.hsts, { maxAge: 31536000, includeSubDomains: false, preload: false });
    assert.equal(h2c?.http2, true);
    assert.equal(redirect?.redirect, 'https');
  });

  it('explains a TLS listener without certificates, a bad ACME email and misplaced redirect and hsts, with lines', () => {
    assert.deepEqual(
      problems(`proxy:
  listen:
    - address: 0.0.0.0:8443
      tls: {}
    - address: 0.0.0.0:8444
      tls: { acme: { email: nobody, directory: ftp://x } }
      redirect: https
    - { address: 0.0.0.0:80, hsts: true }
${svc}`),
      [
        '4 proxy.listen[0].tls: list certificates, or set acme to obtain them automatically',
        '6 proxy.listen[1].tls.acme.email: is not an email address',
        '6 proxy.listen[1].tls.acme.directory: is not an http(s) URL',
        '7 proxy.listen[1].redirect: only a plain listener redirects to https; this one has tls',
        '8 proxy.listen[2].hsts: HSTS needs tls on this listener (browsers ignore it over plain http)',
      ],
    );
  });

  it('keeps the plain-address messages for a single address', () => {
    assert.deepEqual(problems(`proxy: { listen: 8080 }\n${svc}`), [
      '1 proxy.listen: 8080 needs a host; write 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (all interfaces)',
    ]);
  });

  it('refuses a service redirect to https when no listener has tls', () => {
    assert.deepEqual(problems('services:\n  web: { targets: [127.0.0.1:3000], redirect: https }\n'), [
      '1 proxy.listen: a service redirects to https, so one listener needs tls',
    ]);
  });

  it('reads upstream TLS per service', () => {
    const config = parse('services:\n  web: { targets: [10.0.0.5:3000], upstreamTls: { ca: ca.pem, serverName: web.internal } }\n');
    assert.deepEqual(config.services.web?.upstreamTls, { ca: '/etc/sy/ca.pem', serverName: 'web.internal' });
    assert.deepEqual(parse('services:\n  web: { targets: [10.0.0.5:3000], upstreamTls: true }\n').services.web?.upstreamTls, {});
  });
});
