// Specification of the rollback window check over a real store: which rollbacks cross a release whose
// window ended, and that the first recorded end of a release is the one kept.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SqliteStore } from '../store/index.js';
import { DeployError } from './errors.js';
import { refusePastWindow } from './rollback-window.js';

const SPEC = { kind: 'process', command: 'node server.js', cwd: '.', env: {} } as const;

describe('the rollback window', () => {
  let tmp: string;
  let store: SqliteStore;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-window-'));
    store = SqliteStore.open(tmp);
    for (const version of ['v1', 'v2', 'v3', 'v4']) store.createRelease('web', version, SPEC);
  });
  afterEach(() => {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const release = (version: string) => store.latestReleaseByVersion('web', version)!;
  const refusal = (to: number, from: number): DeployError | null => {
    try {
      refusePastWindow(store, 'web', to, from, `release ${to}`);
      return null;
    } catch (err) {
      assert.ok(err instanceof DeployError);
      return err;
    }
  };

  it('refuses only rollbacks that go from the ended release (or later) to one before it', () => {
    assert.equal(store.endRollbackWindow('web', release('v3').id, 'the postDeploy hook of v3 ended it'), true);
    assert.equal(refusal(2, 3)?.code, 'rollback_window_ended');
    assert.match(refusal(1, 4)?.message ?? '', /cannot roll back to release 1: the postDeploy hook of v3 ended it/);
    assert.equal(refusal(3, 4), null, 'back to the release that ended it is fine');
    assert.equal(refusal(1, 2), null, 'below it, nothing was crossed');
    assert.equal(store.rollbackWindowEnds('api').length, 0, 'per service');
  });

  it('keeps the first end of a release, and forgets it when reopened', () => {
    const v2 = release('v2').id;
    assert.equal(store.endRollbackWindow('web', v2, 'first'), true);
    assert.equal(store.endRollbackWindow('web', v2, 'second'), false);
    assert.deepEqual(store.rollbackWindowEnds('web').map((e) => [e.releaseNumber, e.reason]), [[2, 'first']]);
    store.reopenRollbackWindow(v2);
    assert.equal(refusal(1, 4), null);
  });
});
