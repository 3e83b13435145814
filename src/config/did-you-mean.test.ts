import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allowedKeys, closest, levenshtein, unknownKeyHint } from './did-you-mean.js';
import { configSchema } from './schema.js';

describe('levenshtein', () => {
  it('counts insertions, deletions and substitutions', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('', 'abc'), 3);
    assert.equal(levenshtein('same', 'same'), 0);
  });

  it('counts two swapped neighbours as one slip', () => {
    assert.equal(levenshtein('wbe', 'web'), 1);
    assert.equal(closest('wbe', ['web', 'api']), 'web');
  });
});

describe('closest', () => {
  it('finds a likely typo and ignores case and separators', () => {
    assert.equal(closest('intervall', ['interval', 'timeout']), 'interval');
    assert.equal(closest('path_prefix', ['hosts', 'pathPrefix']), 'pathPrefix');
  });

  it('suggests nothing when no candidate is close', () => {
    assert.equal(closest('banana', ['interval', 'timeout']), undefined);
  });
});

describe('allowedKeys', () => {
  it('walks records, arrays, defaults and transforms of the config schema', () => {
    assert.deepEqual(allowedKeys(configSchema, ['services', 'web', 'health']), [
      'path', 'interval', 'timeout', 'healthyThreshold', 'unhealthyThreshold', 'startTimeout', 'slowStart',
    ]);
    assert.ok(allowedKeys(configSchema, ['services', 'web', 'deploy', 'canary', 'steps', 0]).includes('pause'));
  });

  it('merges the object forms of a union', () => {
    assert.deepEqual(allowedKeys(configSchema, ['services', 'web', 'deploy', 'canary', 'sticky']), ['cookie', 'hashKey']);
  });
});

describe('unknownKeyHint', () => {
  it('points a key written one level too high at where it belongs', () => {
    assert.equal(unknownKeyHint(configSchema, ['services', 'web'], 'pathPrefix'), 'did you mean `match.pathPrefix`?');
  });
});
