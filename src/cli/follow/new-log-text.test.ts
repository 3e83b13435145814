// `logs -f` prints each line once, even as the API's tail window slides forward.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newLogText } from './new-log-text.js';

describe('newLogText', () => {
  it('returns everything the first time, then only what was appended', () => {
    assert.equal(newLogText(undefined, 'a\nb\n'), 'a\nb\n');
    assert.equal(newLogText('a\nb\n', 'a\nb\nc\n'), 'c\n');
    assert.equal(newLogText('a\nb\n', 'a\nb\n'), '');
  });

  it('finds the overlap after the tail window slid forward', () => {
    const before = 'line 1 of the log\nline 2 of the log\nline 3 of the log\n';
    const now = 'line 2 of the log\nline 3 of the log\nline 4 of the log\n';
    assert.equal(newLogText(before, now), 'line 4 of the log\n');
  });

  it('returns the whole window when nothing overlaps (more was written than fits)', () => {
    assert.equal(newLogText('old stuff\n', 'brand new lines\n'), 'brand new lines\n');
  });
});
