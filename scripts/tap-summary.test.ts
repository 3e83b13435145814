import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failingTests, totalsLines } from './tap-summary.js';

const TAP = `TAP version 13
# Subtest: outer
    # Subtest: passes
    ok 1 - passes
      ---
      duration_ms: 1
      ...
    # Subtest: fails here
    not ok 2 - fails here
      ---
      duration_ms: 2
      location: '/w/a.test.ts:3:5'
      failureType: 'testCodeFailure'
      error: 'Expected values to be strictly equal'
      ...
    # Subtest: inner
        # Subtest: deep fail
        not ok 1 - deep fail
          ---
          location: '/w/a.test.ts:4:7'
          failureType: 'testCodeFailure'
          ...
    not ok 3 - inner
      ---
      location: '/w/a.test.ts:4:3'
      failureType: 'subtestsFailed'
      ...
not ok 1 - outer
  ---
  location: '/w/a.test.ts:1:1'
  failureType: 'subtestsFailed'
  ...
# Subtest: top
not ok 2 - top
  ---
  location: '/w/b.test.ts:9:1'
  failureType: 'hookFailure'
  ...
1..2
# tests 4
# suites 2
# pass 1
# fail 3
# cancelled 0
# skipped 0
# todo 0
# duration_ms 12.5
`;

describe('the test summary', () => {
  it('names each test that failed by itself, with its suites and file, and not the suites around it', () => {
    assert.deepEqual(failingTests(TAP), [
      { name: ['outer', 'fails here'], location: '/w/a.test.ts:3:5' },
      { name: ['outer', 'inner', 'deep fail'], location: '/w/a.test.ts:4:7' },
      { name: ['top'], location: '/w/b.test.ts:9:1' },
    ]);
  });

  it("ends with the runner's own totals", () => {
    assert.deepEqual(totalsLines(TAP), ['# tests 4', '# suites 2', '# pass 1', '# fail 3', '# cancelled 0', '# skipped 0', '# todo 0', '# duration_ms 12.5']);
  });
});
