import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DURATION_MS, parseDuration, parsePercent, parseSize } from './units.js';

describe('parseDuration', () => {
  it('reads ms, s, m and h into milliseconds', () => {
    assert.deepEqual(parseDuration('500ms'), { ok: true, value: 500 });
    assert.deepEqual(parseDuration('10s'), { ok: true, value: 10_000 });
    assert.deepEqual(parseDuration('5m'), { ok: true, value: 300_000 });
    assert.deepEqual(parseDuration('1h'), { ok: true, value: 3_600_000 });
  });

  it('reads fractions and combined units', () => {
    assert.deepEqual(parseDuration('1.5s'), { ok: true, value: 1500 });
    assert.deepEqual(parseDuration('1m30s'), { ok: true, value: 90_000 });
  });

  it('allows a plain 0, as a number or a string', () => {
    assert.deepEqual(parseDuration(0), { ok: true, value: 0 });
    assert.deepEqual(parseDuration('0'), { ok: true, value: 0 });
  });

  it('says a unit is required for any other bare number', () => {
    assert.deepEqual(parseDuration(5), { ok: false, message: '5 needs a unit; write e.g. 5s or 5ms' });
    assert.deepEqual(parseDuration('5'), { ok: false, message: '5 needs a unit; write e.g. 5s or 5ms' });
  });

  it('explains what a duration looks like when it is not one', () => {
    assert.deepEqual(parseDuration('1 sec'), { ok: false, message: '"1 sec" is not a duration; use e.g. 500ms, 10s, 5m' });
    assert.equal(parseDuration('-1s').ok, false);
    assert.equal(parseDuration('10S').ok, false);
    assert.equal(parseDuration('').ok, false);
  });

  it('refuses durations a timer cannot hold', () => {
    assert.equal(parseDuration('596h').ok, true);
    assert.equal(parseDuration('597h').ok, false);
    assert.ok(MAX_DURATION_MS >= 596 * 3_600_000);
  });
});

describe('parsePercent', () => {
  it('reads percentages into fractions', () => {
    assert.deepEqual(parsePercent('1%'), { ok: true, value: 0.01 });
    assert.deepEqual(parsePercent('0.5%'), { ok: true, value: 0.005 });
    assert.deepEqual(parsePercent('150%'), { ok: true, value: 1.5 });
    assert.deepEqual(parsePercent(0), { ok: true, value: 0 });
  });

  it('asks for the % sign on a bare number', () => {
    assert.deepEqual(parsePercent(50), { ok: false, message: '50 needs a % sign; write 50%' });
  });

  it('enforces a maximum when given one', () => {
    assert.deepEqual(parsePercent('101%', 1), { ok: false, message: '"101%" is more than 100%' });
    assert.deepEqual(parsePercent('100%', 1), { ok: true, value: 1 });
  });

  it('rejects text that is not a percentage', () => {
    assert.deepEqual(parsePercent('half'), { ok: false, message: '"half" is not a percentage; use e.g. 1%, 0.5%, 50%' });
    assert.equal(parsePercent('-1%').ok, false);
  });
});

describe('parseSize', () => {
  it('reads bytes, kb, mb and gb with 1kb = 1024, in any case', () => {
    assert.deepEqual(parseSize(512), { ok: true, value: 512 });
    assert.deepEqual(parseSize('512'), { ok: true, value: 512 });
    assert.deepEqual(parseSize('16kb'), { ok: true, value: 16_384 });
    assert.deepEqual(parseSize('100MB'), { ok: true, value: 100 * 1024 * 1024 });
    assert.deepEqual(parseSize('2Gb'), { ok: true, value: 2 * 1024 ** 3 });
  });

  it('rejects negative, fractional-byte and unknown sizes', () => {
    assert.equal(parseSize(-1).ok, false);
    assert.equal(parseSize(1.5).ok, false);
    assert.deepEqual(parseSize('16 kb'), { ok: false, message: '"16 kb" is not a size; use e.g. 512, 16kb, 100mb, 2gb' });
    assert.equal(parseSize('1tb').ok, false);
  });
});
