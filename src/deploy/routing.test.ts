// Specification of the cohort each release is told to its app as (the release header).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cohortsOf } from './routing.js';

const releases = (...weights: number[]) => weights.map((weight, i) => ({ name: `v${i + 1}`, weight, endpoints: [] }));

describe('release cohorts', () => {
  it('names the stable release stable and the one sharing traffic with it canary', () => {
    assert.deepEqual(cohortsOf([1, 2], releases(75, 25), 1), ['stable', 'canary']);
    assert.deepEqual(cohortsOf([1, 2], releases(2, 1), 1), ['stable', 'canary'], 'a rolling deployment shares by instance count');
  });

  it('names a release without unpinned traffic preview (blue-green before the switch, tester routes at 0%)', () => {
    assert.deepEqual(cohortsOf([1, 2], releases(100, 0), 1), ['stable', 'preview']);
  });

  it('names the only release with traffic stable, even before promote records it', () => {
    assert.deepEqual(cohortsOf([2], releases(100), 1), ['stable']);
    assert.deepEqual(cohortsOf([1, 2], releases(0, 100), 1), ['preview', 'stable']);
  });
});
