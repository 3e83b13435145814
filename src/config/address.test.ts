import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkHostPattern, checkHostPort, isLoopbackHost, parseHostPort } from './address.js';

describe('parseHostPort', () => {
  it('splits IPv4, host name and bracketed IPv6 addresses', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseHostPort('app.internal:3000'), { host: 'app.internal', port: 3000 });
    assert.deepEqual(parseHostPort('[::1]:0'), { host: '::1', port: 0 });
  });

  it('throws with the reason for a bad address', () => {
    assert.throws(() => parseHostPort('127.0.0.1:70000'), /port must be a number from 0 to 65535/);
    assert.throws(() => parseHostPort('localhost'), /is not an address/);
  });
});

describe('checkHostPort', () => {
  it('suggests a host when only a port is given', () => {
    assert.match(checkHostPort('8080') ?? '', /needs a host; write 127\.0\.0\.1:8080/);
    assert.match(checkHostPort(':8080') ?? '', /needs a host/);
  });

  it('asks for brackets around IPv6 addresses', () => {
    assert.match(checkHostPort('::1:8080') ?? '', /put an IPv6 address in brackets, e\.g\. \[::1\]:8080/);
  });

  it('rejects malformed IPv4 addresses, host names and IPv6 literals', () => {
    assert.match(checkHostPort('300.1.1.1:80') ?? '', /not an IPv4 address/);
    assert.match(checkHostPort('bad_host:80') ?? '', /not a valid host name/);
    assert.match(checkHostPort('[nope]:80') ?? '', /not an IPv6 address/);
  });

  it('refuses port 0 where something must be connected to', () => {
    assert.equal(checkHostPort('10.0.0.5:0'), undefined);
    assert.match(checkHostPort('10.0.0.5:0', { allowPortZero: false }) ?? '', /port 0 cannot be connected to/);
  });
});

describe('isLoopbackHost', () => {
  it('knows 127.0.0.0/8, ::1 in any spelling, and localhost', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', 'localhost', 'LOCALHOST']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
  });

  it('treats wildcard and routable addresses as reachable from outside', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', 'localhost.example.com']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });
});

describe('checkHostPattern', () => {
  it('accepts exact names and leading wildcards', () => {
    assert.equal(checkHostPattern('app.example.com'), undefined);
    assert.equal(checkHostPattern('*.example.com'), undefined);
  });

  it('explains misplaced wildcards, ports and a lone *', () => {
    assert.match(checkHostPattern('app.*.com') ?? '', /wildcard must be the whole first label/);
    assert.match(checkHostPattern('*example.com') ?? '', /wildcard must be the whole first label/);
    assert.match(checkHostPattern('app.example.com:8080') ?? '', /hosts match without the port/);
    assert.match(checkHostPattern('*') ?? '', /leave hosts out to match every host/);
  });
});
