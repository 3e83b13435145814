// Specification of the rollback window: once a hook marked `endsRollbackWindow` ran for a release (a
// contract migration), `rollback` to a release before it refuses with that reason, through the API and
// the CLI, unless forced; a marked hook that fails leaves the window open.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/daemon.js';
import { Switchyard } from '../helpers/deploy-harness.js';

interface ApiError {
  error: { code: string; message: string; field?: string };
}

describe('a hook that ends the rollback window', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await Switchyard.start({
      instances: 1,
      deploy: {
        hooks: {
          // The "contract" of v2 passes; that of bad-contract fails (a transactional migration that changed nothing).
          postDeploy: { run: 'echo "contract for $SWITCHYARD_VERSION"; [ "$SWITCHYARD_VERSION" != bad-contract ]', endsRollbackWindow: true },
          timeout: '20s',
        },
      },
    });
  });
  after(async () => sy?.close());

  it('makes rollback past the release refuse with the hook as the reason, in the API and the CLI', async () => {
    const deployed = await sy.finished((await sy.deploy({ version: 'v2' })).id);
    assert.equal(deployed.state, 'succeeded', deployed.reason ?? '');
    assert.ok(sy.events().some((e) => e.type === 'release.rollback-window-ended' && e.deploymentId === deployed.id));

    const refused = await sy.api<ApiError>('POST', '/api/v1/services/web/rollback', {});
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'rollback_window_ended');
    assert.match(refused.body.error.message, /cannot roll back to v1: the postDeploy hook of v2 \(release 2\) ended the rollback window/);
    assert.match(refused.body.error.message, /--force/);

    const cli = await runCli(['rollback', 'web', '--admin', sy.adminUrl], { cwd: sy.tmp.dir });
    assert.notEqual(cli.code, 0, cli.stdout);
    assert.match(cli.stderr, /ended the rollback window/);

    const badForce = await sy.api<ApiError>('POST', '/api/v1/services/web/rollback', { force: 'yes' });
    assert.equal(badForce.status, 400);
    assert.equal(badForce.body.error.field, 'force');
    assert.equal((await sy.service()).stable?.version, 'v2', 'nothing changed');
  });

  it('leaves the window open when the marked hook fails, so the automatic rollback and later ones go through', async () => {
    const failed = await sy.finished((await sy.deploy({ version: 'bad-contract' })).id);
    assert.equal(failed.state, 'rolled-back', failed.reason ?? '');
    assert.ok(failed.events.some((e) => e.type === 'release.rollback-window-reopened'));
    const refused = await sy.api<ApiError>('POST', '/api/v1/services/web/rollback', { to: 'v1' });
    assert.equal(refused.body.error.code, 'rollback_window_ended', 'v2 still ended the window to v1');
  });

  it('rolls back anyway with --force', async () => {
    const cli = await runCli(['rollback', 'web', '--force', '--admin', sy.adminUrl], { cwd: sy.tmp.dir, timeout: 90_000 });
    assert.equal(cli.code, 0, `${cli.stdout}\n${cli.stderr}`);
    assert.equal((await sy.service()).stable?.version, 'v1');
    assert.deepEqual(new Set(await sy.versions(4)), new Set(['v1']));
  });
});
