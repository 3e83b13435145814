import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from './store.js';

const STORE_MODULE = fileURLToPath(new URL('./index.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)); // where `--import tsx` resolves

// Opens the store, writes a release, a deployment and an event, and is SIGKILLed at once: no close(),
// no checkpoint, no exit handlers. Only what SQLite committed to disk can survive.
const CHILD = `
const { SqliteStore } = await import(${JSON.stringify(STORE_MODULE)});
const store = SqliteStore.open(process.env.STATE_DIR);
const release = store.createRelease('web', 'v2', { kind: 'process', command: 'node server.js', cwd: '.', env: {} });
const deployment = store.createDeployment({
  service: 'web', fromReleaseId: null, toReleaseId: release.id, strategy: 'rolling', kind: 'deploy', state: 'progressing',
});
store.addEvent({
  service: 'web', deploymentId: deployment.id, type: 'deployment.started', message: 'rolling to v2', data: { to: 'v2' },
});
process.kill(process.pid, 'SIGKILL');
`;

function runChild(stateDir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: REPO_ROOT,
      env: { ...process.env, STATE_DIR: stateDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('crash safety', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'sy-crash-'));
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('keeps an event written just before the process was SIGKILLed (invariant 7)', async () => {
    const result = await runChild(tmp);
    assert.equal(result.signal, 'SIGKILL', `child ended otherwise: code ${String(result.code)}\n${result.stderr}`);
    assert.ok(existsSync(join(tmp, 'state.db-wal')), 'the writes sat in the WAL, not yet checkpointed');

    const store = SqliteStore.open(tmp);
    try {
      const [event] = store.events();
      assert.equal(event?.type, 'deployment.started');
      assert.deepEqual(event?.data, { to: 'v2' });
      assert.equal(store.deployment(event?.deploymentId ?? 0)?.state, 'progressing');
      assert.deepEqual(store.activeDeployments().map((d) => d.service), ['web']);
      assert.equal(store.integrityCheck(), 'ok');
    } finally {
      store.close();
    }
  });
});
