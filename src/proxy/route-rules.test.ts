// Specification of routing rules: header, cookie and query matches that pin a request to a release.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { compileRule, type RouteRule, type ValueMatch } from './route-rules.js';

function request(headers: Record<string, string | string[]>, url = '/'): IncomingMessage {
  return { headers, url } as unknown as IncomingMessage;
}

function rule(source: RouteRule['source'], name: string, match: ValueMatch): ReturnType<typeof compileRule> {
  return compileRule({ source, name, match, release: 'v2' });
}

describe('route rules on a header', () => {
  it('names the release the rule sends matching requests to', () => {
    assert.equal(rule('header', 'x-canary', { kind: 'present' }).release, 'v2');
  });

  it('matches a header that equals the value', () => {
    const r = rule('header', 'x-canary', { kind: 'equals', value: '1' });
    assert.equal(r.test(request({ 'x-canary': '1' })), true);
    assert.equal(r.test(request({ 'x-canary': '0' })), false);
    assert.equal(r.test(request({ 'x-canary': '11' })), false);
    assert.equal(r.test(request({})), false);
  });

  it('finds the header whatever the case of the configured name', () => {
    const r = rule('header', 'X-Canary', { kind: 'equals', value: '1' });
    assert.equal(r.test(request({ 'x-canary': '1' })), true);
  });

  it('compares header values case-sensitively', () => {
    const r = rule('header', 'x-tier', { kind: 'equals', value: 'beta' });
    assert.equal(r.test(request({ 'x-tier': 'Beta' })), false);
  });

  it('matches a header that is one of several values', () => {
    const r = rule('header', 'x-tier', { kind: 'oneOf', values: ['beta', 'staff'] });
    assert.equal(r.test(request({ 'x-tier': 'beta' })), true);
    assert.equal(r.test(request({ 'x-tier': 'staff' })), true);
    assert.equal(r.test(request({ 'x-tier': 'public' })), false);
    assert.equal(r.test(request({})), false);
  });

  it('matches a header against a regular expression', () => {
    const r = rule('header', 'user-agent', { kind: 'regex', pattern: '^Mozilla/5\\.0 .*Firefox/' });
    assert.equal(r.test(request({ 'user-agent': 'Mozilla/5.0 (X11) Gecko Firefox/128.0' })), true);
    assert.equal(r.test(request({ 'user-agent': 'curl/8.5.0' })), false);
    assert.equal(r.test(request({})), false);
  });

  it('gives the same answer for the same request every time (no regex state between requests)', () => {
    const r = rule('header', 'x-user', { kind: 'regex', pattern: '^[0-9]+$' });
    for (let i = 0; i < 5; i++) assert.equal(r.test(request({ 'x-user': '42' })), true);
  });

  it('matches any value, even empty, when only presence is asked', () => {
    const r = rule('header', 'x-preview', { kind: 'present' });
    assert.equal(r.test(request({ 'x-preview': 'yes' })), true);
    assert.equal(r.test(request({ 'x-preview': '' })), true);
    assert.equal(r.test(request({ 'x-other': 'yes' })), false);
  });

  it('reads the first value of a header sent as a list', () => {
    const r = rule('header', 'x-canary', { kind: 'equals', value: '1' });
    assert.equal(r.test(request({ 'x-canary': ['1', '0'] })), true);
  });
});

describe('route rules on a cookie', () => {
  it('matches a cookie that equals the value', () => {
    const r = rule('cookie', 'beta', { kind: 'equals', value: '1' });
    assert.equal(r.test(request({ cookie: 'session=abc; beta=1' })), true);
    assert.equal(r.test(request({ cookie: 'beta=0' })), false);
    assert.equal(r.test(request({ cookie: 'session=abc' })), false);
    assert.equal(r.test(request({})), false);
  });

  it('does not mistake a cookie whose name starts the same', () => {
    const r = rule('cookie', 'beta', { kind: 'present' });
    assert.equal(r.test(request({ cookie: 'betatester=1' })), false);
    assert.equal(r.test(request({ cookie: 'betatester=1; beta=yes' })), true);
  });

  it('does not take a header of the same name for the cookie', () => {
    const r = rule('cookie', 'beta', { kind: 'present' });
    assert.equal(r.test(request({ beta: '1' })), false);
  });

  it('matches cookie names case-sensitively', () => {
    const r = rule('cookie', 'Beta', { kind: 'equals', value: '1' });
    assert.equal(r.test(request({ cookie: 'beta=1' })), false);
    assert.equal(r.test(request({ cookie: 'Beta=1' })), true);
  });

  it('matches a cookie that is one of several values or fits a regex', () => {
    const oneOf = rule('cookie', 'group', { kind: 'oneOf', values: ['a', 'b'] });
    assert.equal(oneOf.test(request({ cookie: 'group=b' })), true);
    assert.equal(oneOf.test(request({ cookie: 'group=c' })), false);
    const regex = rule('cookie', 'uid', { kind: 'regex', pattern: '^[0-4]' });
    assert.equal(regex.test(request({ cookie: 'uid=3xyz' })), true);
    assert.equal(regex.test(request({ cookie: 'uid=7xyz' })), false);
  });
});

describe('route rules on a query parameter', () => {
  it('matches a query parameter that equals the value', () => {
    const r = rule('query', 'canary', { kind: 'equals', value: 'true' });
    assert.equal(r.test(request({}, '/page?canary=true')), true);
    assert.equal(r.test(request({}, '/page?x=1&canary=true&y=2')), true);
    assert.equal(r.test(request({}, '/page?canary=false')), false);
    assert.equal(r.test(request({}, '/page')), false);
  });

  it('decodes the parameter value', () => {
    const r = rule('query', 'who', { kind: 'equals', value: 'a b&c' });
    assert.equal(r.test(request({}, '/?who=a%20b%26c')), true);
  });

  it('matches a parameter without a value when only presence is asked', () => {
    const r = rule('query', 'preview', { kind: 'present' });
    assert.equal(r.test(request({}, '/?preview')), true);
    assert.equal(r.test(request({}, '/?previewing=1')), false);
    assert.equal(r.test(request({}, '/preview')), false);
  });

  it('does not mistake the path for a parameter', () => {
    const r = rule('query', 'canary', { kind: 'present' });
    assert.equal(r.test(request({}, '/canary=1')), false);
  });

  it('treats a request without a URL as having no parameters', () => {
    const r = rule('query', 'canary', { kind: 'present' });
    assert.equal(r.test({ headers: {} } as unknown as IncomingMessage), false);
  });

  it('matches a parameter that is one of several values or fits a regex', () => {
    assert.equal(rule('query', 'v', { kind: 'oneOf', values: ['2', '3'] }).test(request({}, '/?v=3')), true);
    assert.equal(rule('query', 'v', { kind: 'oneOf', values: ['2', '3'] }).test(request({}, '/?v=4')), false);
    assert.equal(rule('query', 'v', { kind: 'regex', pattern: '^2\\.' }).test(request({}, '/?v=2.1')), true);
    assert.equal(rule('query', 'v', { kind: 'regex', pattern: '^2\\.' }).test(request({}, '/?v=21')), false);
  });
});
