// Specification of zero downtime for an app with state (examples/shop): through real deploys, with
// PostgreSQL and Redis started here, no logged-in user is logged out, no order, name or phone number is
// lost and no request fails; a rollback mid-canary loses no row and no phone number; the contract ends
// the rollback window. The contrast: sessions in memory with only instance-sticky cookies log users
// out in a rolling deploy, where Redis sessions do not.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { runShopScenario, type ScenarioResult } from './scenario.js';
import { startServices, type Services } from './services.js';
import { SHOP_DIR, ShopStack } from './stack.js';
import { Crowd } from './users.js';

describe('the shop through v1 → v2 (canary, rolled back mid-way, then shipped) → v3 (blue-green)', () => {
  let services: Services;
  let result: ScenarioResult;
  before(async () => {
    services = await startServices();
    result = await runShopScenario(services, { users: 6 });
  });
  after(async () => services?.stop());

  it('logs no user out, loses no order, name or phone number, and fails no request', () => {
    const details = JSON.stringify({ failures: result.failures, deploys: result.deploys }, null, 2);
    assert.equal(result.loggedOut, 0, details);
    assert.equal(result.ordersLost, 0, details);
    assert.equal(result.phonesLost, 0, details);
    assert.equal(result.namesLost, 0, details);
    assert.equal(result.failed, 0, details);
    for (const version of ['v1', 'v2', 'v3']) assert.ok((result.byVersion[version] ?? 0) > 0, `${version} served requests`);
    assert.ok(result.orders > 0);
  });

  it('rolls back mid-canary from v2 to v1 without losing a row or a phone number v2 wrote', () => {
    const [rollback] = result.deploys;
    assert.match(rollback?.outcome ?? '', /^rolled back to v1 after v2 stored \d+ phone numbers; 0 rows and 0 of [1-9]\d* phone numbers lost/);
    assert.equal(result.rowsLostInRollback, 0);
  });

  it('ships v2, then v3 with the contract after v2 retired, and then refuses to roll back past it', () => {
    const [, again, blueGreen, refused] = result.deploys.map((d) => d.outcome);
    assert.equal(again, 'succeeded; postDeploy backfilled full_name');
    assert.equal(blueGreen, 'succeeded; postDeploy dropped users.name once v2 had retired');
    assert.match(refused ?? '', /^refused as it should be \(rollback_window_ended\): shop cannot roll back to v2: the postDeploy hook of v3 \(release \d+\) ended the rollback window/);
    assert.equal(result.contracted, true);
  });

  it('shows the canary-only feature to canary users and to no one else', () => {
    assert.ok(result.canaryFeature.canary > 0, 'canary users saw it');
    assert.equal(result.canaryFeature.elsewhere, 0);
  });
});

describe('sessions through a rolling deploy', () => {
  let services: Services;
  before(async () => {
    services = await startServices();
  });
  after(async () => services?.stop());

  /** Users shop on v1 while a rolling deploy replaces both instances; how many were logged out. */
  const loggedOutInRollingDeploy = async (sessionStore: 'memory' | 'redis'): Promise<{ loggedOut: number; failed: number; failures: string[] }> => {
    const databaseUrl = await services.createDatabase(`rolling_${sessionStore}`);
    const stack = await ShopStack.start({ databaseUrl, redisUrl: services.redisUrl }, { config: (dir) => writeFile(join(dir, 'switchyard.yaml'), rollingConfig(sessionStore)).then(() => join(dir, 'switchyard.yaml')) });
    const crowd = new Crowd({ proxyUrl: stack.proxyUrl, users: 4 });
    try {
      crowd.start();
      await waitFor(() => crowd.users.every((u) => u.orders.length > 0), { timeout: 60_000, message: 'every user to order' });
      const done = await stack.waitFor((await stack.deploy('shop', { version: 'v1', strategy: 'rolling' })).id);
      assert.equal(done.state, 'succeeded', done.reason ?? '');
      const after = crowd.report.requests;
      await waitFor(() => crowd.report.requests >= after + 40, { timeout: 60_000, message: 'shopping after the deploy' });
      await crowd.stop();
      return { loggedOut: crowd.report.loggedOut, failed: crowd.report.failed, failures: crowd.report.failures };
    } finally {
      await crowd.close();
      await stack.close();
    }
  };

  it('logs users out when sessions live in the instances, even with an instance-sticky cookie', async () => {
    const memory = await loggedOutInRollingDeploy('memory');
    assert.ok(memory.loggedOut > 0, 'the instances that held the sessions are gone');
    assert.equal(memory.failed, 0, memory.failures.join('\n'));
  });

  it('logs no one out when sessions live in Redis', async () => {
    const redis = await loggedOutInRollingDeploy('redis');
    assert.equal(redis.loggedOut, 0);
    assert.equal(redis.failed, 0, redis.failures.join('\n'));
  });
});

/** The shop as one rolling service with an instance-sticky cookie, sessions in `store`. */
function rollingConfig(store: 'memory' | 'redis'): string {
  const config = {
    proxy: { listen: '127.0.0.1:${SHOP_PROXY_PORT}', accessLog: { enabled: false } },
    admin: { listen: '127.0.0.1:${SHOP_ADMIN_PORT}' },
    state: '${SHOP_STATE}',
    services: {
      shop: {
        run: {
          command: 'node server.mjs',
          cwd: join(SHOP_DIR, 'releases', '{version}'),
          env: { APP_VERSION: '{version}', DATABASE_URL: '${DATABASE_URL}', REDIS_URL: '${REDIS_URL}', SESSION_STORE: store },
          version: 'v1',
        },
        instances: 2,
        sticky: { cookie: 'sy-shop' },
        health: { path: '/healthz', interval: '250ms', startTimeout: '30s' },
        drain: { timeout: '5s' },
        stop: { timeout: '5s' },
        deploy: { strategy: 'rolling' },
      },
    },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
