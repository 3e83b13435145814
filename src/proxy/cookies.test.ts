// Specification of cookie reading and Set-Cookie formatting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCookie, setCookieValue } from './cookies.js';

describe('readCookie', () => {
  it('reads a cookie that is the only one', () => {
    assert.equal(readCookie('sy-web=abc', 'sy-web'), 'abc');
  });

  it('reads a cookie among others, with or without spaces around separators', () => {
    assert.equal(readCookie('a=1; sy-web=abc; b=2', 'sy-web'), 'abc');
    assert.equal(readCookie('a=1;sy-web=abc;b=2', 'sy-web'), 'abc');
    assert.equal(readCookie('a=1 ;  sy-web = abc ; b=2', 'sy-web'), 'abc');
    assert.equal(readCookie('a=1; b=2; last=z', 'last'), 'z');
  });

  it('returns undefined when the header is missing or does not hold the cookie', () => {
    assert.equal(readCookie(undefined, 'a'), undefined);
    assert.equal(readCookie('', 'a'), undefined);
    assert.equal(readCookie('b=1; c=2', 'a'), undefined);
  });

  it('does not confuse names that share a prefix', () => {
    assert.equal(readCookie('ab=2', 'a'), undefined);
    assert.equal(readCookie('ab=2; a=1', 'a'), '1');
    assert.equal(readCookie('a=1; ab=2', 'ab'), '2');
    assert.equal(readCookie('ba=3; a=1', 'a'), '1');
  });

  it('does not take a value that merely looks like the name', () => {
    assert.equal(readCookie('x=a; y=1', 'a'), undefined);
  });

  it('skips parts without an equals sign', () => {
    assert.equal(readCookie('flag; a=1', 'a'), '1');
    assert.equal(readCookie('a; b=2', 'a'), undefined);
  });

  it('keeps equals signs inside the value', () => {
    assert.equal(readCookie('token=abc==; a=1', 'token'), 'abc==');
  });

  it('reads an empty value as an empty string', () => {
    assert.equal(readCookie('a=; b=2', 'a'), '');
  });

  it('returns the first of two cookies with the same name', () => {
    assert.equal(readCookie('a=1; a=2', 'a'), '1');
  });

  it('tolerates a trailing semicolon', () => {
    assert.equal(readCookie('a=1;', 'a'), '1');
    assert.equal(readCookie('a=1; ', 'b'), undefined);
  });
});

describe('setCookieValue', () => {
  it('makes a session cookie for the whole site, out of reach of scripts', () => {
    assert.equal(setCookieValue('sy-web', 'k1'), 'sy-web=k1; Path=/; HttpOnly; SameSite=Lax');
  });

  it('adds Max-Age in whole seconds when a lifetime is given', () => {
    assert.equal(setCookieValue('sy-web', 'k1', 3_600_000), 'sy-web=k1; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600');
    assert.equal(setCookieValue('sy-web', 'k1', 1_499), 'sy-web=k1; Path=/; HttpOnly; SameSite=Lax; Max-Age=1');
  });
});
