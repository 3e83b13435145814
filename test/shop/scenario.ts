// The shop's story, shared by `npm run demo:shop` and its test: simulated users shop through switchyard
// while it ships v1 → v2 (a canary rolled back mid-way on purpose, then shipped again) → v3
// (blue-green), with the expand → migrate → contract schema change in the hooks. The result says what
// each deploy did and what the users lost: sessions, orders, names, phone numbers, requests.
import pg from 'pg';
import { Crowd } from './users.js';
import type { Services } from './services.js';
import { ShopStack, type DeploymentDetail } from './stack.js';
import { waitFor } from '../helpers/wait.js';

export interface DeployOutcome {
  what: string;
  outcome: string;
  seconds: number;
}

export interface ScenarioResult {
  deploys: DeployOutcome[];
  requests: number;
  /** Orders the shop confirmed. */
  orders: number;
  byVersion: Record<string, number>;
  loggedOut: number;
  ordersLost: number;
  /** Phone numbers (set through v2) missing or changed at the end, or right after the mid-canary rollback. */
  phonesLost: number;
  namesLost: number;
  /** Rows (users, orders) that the mid-canary rollback lost. */
  rowsLostInRollback: number;
  failed: number;
  failures: string[];
  /** Views that showed v2's canary-only feature, by cohort; and where it showed that it should not. */
  canaryFeature: { canary: number; elsewhere: number };
  /** True when, at the end, `users.name` is gone (the contract ran). */
  contracted: boolean;
}

export interface ScenarioOptions {
  users?: number;
  log?: (line: string) => void;
}

const SERVICE = 'shop';

export async function runShopScenario(services: Services, { users = 8, log = () => {} }: ScenarioOptions = {}): Promise<ScenarioResult> {
  const stack = await ShopStack.start(services);
  const db = new pg.Client({ connectionString: services.databaseUrl });
  await db.connect();
  const crowd = new Crowd({ proxyUrl: stack.proxyUrl, users });
  const deploys: DeployOutcome[] = [];
  const timed = async (what: string, work: () => Promise<string>) => {
    const started = performance.now();
    log(`${what} …`);
    const outcome = await work();
    const seconds = (performance.now() - started) / 1000;
    deploys.push({ what, outcome, seconds });
    log(`${what}: ${outcome} (${seconds.toFixed(1)} s)`);
  };
  try {
    log(`switchyard is up: shop v1 at ${stack.proxyUrl}; ${users} users start shopping`);
    crowd.start();
    await waitFor(() => crowd.users.every((u) => u.orders.length > 0), { timeout: 120_000, message: 'every user to log in and order on v1' });

    let rowsLostInRollback = 0;
    let phonesLostInRollback = 0;
    await timed('v1 → v2 (canary), held and rolled back mid-way on purpose', async () => {
      const deployment = await stack.deploy(SERVICE, { version: 'v2' });
      // Mid-canary: hold the canary as soon as it serves its share (so a slow machine cannot let it
      // finish), let v2 store phone numbers, then roll back.
      await waitFor(() => (crowd.report.byVersion.v2 ?? 0) > 0, { timeout: 120_000, message: 'v2 (the canary) to serve' });
      const paused = await stack.api('POST', `/api/v1/services/${SERVICE}/pause`);
      if (paused.status !== 200) throw new Error(`pause: ${paused.status} ${JSON.stringify(paused.body)}`);
      await waitFor(() => crowd.phonesStoredBy('v2') >= 4, { timeout: 120_000, message: 'v2 (the canary) to store phone numbers' });
      const before = await snapshot(db);
      const asked = await stack.api<{ error?: { message: string } }>('POST', `/api/v1/services/${SERVICE}/rollback`, {});
      if (asked.status !== 200) throw new Error(`rollback: ${asked.status} ${JSON.stringify(asked.body)}`);
      const done = await stack.waitFor(deployment.id);
      if (done.state !== 'rolled-back') throw new Error(`expected rolled-back, got ${done.state}: ${done.reason}`);
      const after = await snapshot(db);
      rowsLostInRollback = [...before.users].filter((id) => !after.users.has(id)).length + [...before.orders].filter((id) => !after.orders.has(id)).length;
      phonesLostInRollback = [...before.phones].filter(([id, phone]) => after.phones.get(id) !== phone).length;
      return `rolled back to v1 after v2 stored ${crowd.phonesStoredBy('v2')} phone numbers; ${rowsLostInRollback} rows and ${phonesLostInRollback} of ${before.phones.size} phone numbers lost`;
    });

    await timed('v1 → v2 (canary), again', async () => {
      const done = await finish(stack, await stack.deploy(SERVICE, { version: 'v2' }));
      const backfill = done.events.find((e) => e.type === 'hook.postDeploy.passed');
      return `${done.state}; postDeploy ${backfill ? 'backfilled full_name' : 'did not run'}`;
    });

    await timed('v2 → v3 (blue-green)', async () => {
      const done = await finish(stack, await stack.deploy(SERVICE, { version: 'v3', strategy: 'blue-green' }));
      // postDeploy (the contract) runs once v2's standby fleet retired.
      await waitFor(async () => (await stack.deployment(done.id)).events.some((e) => e.type.startsWith('hook.postDeploy.') && e.type !== 'hook.postDeploy.started'), {
        timeout: 120_000,
        message: 'v3 postDeploy (contract) after v2 retired',
      });
      const contract = (await stack.deployment(done.id)).events.find((e) => e.type.startsWith('hook.postDeploy.') && e.type !== 'hook.postDeploy.started');
      return `${done.state}; postDeploy ${contract?.type === 'hook.postDeploy.passed' ? 'dropped users.name once v2 had retired' : 'FAILED'}`;
    });

    await timed('rollback v3 → v2 (not forced)', async () => {
      const refused = await stack.api<{ error?: { code: string; message: string } }>('POST', `/api/v1/services/${SERVICE}/rollback`, {});
      if (refused.status === 200) throw new Error('rollback past the contract was not refused');
      return `refused as it should be (${refused.body.error?.code}): ${refused.body.error?.message}`;
    });

    // A little more shopping on v3, then the end.
    const requestsNow = crowd.report.requests;
    await waitFor(() => crowd.report.requests >= requestsNow + users * 10, { timeout: 60_000, message: 'shopping on v3' });
    await crowd.stop();
    const end = await verify(crowd, db);
    const shown = crowd.report.featureShown;
    return {
      deploys,
      requests: crowd.report.requests,
      orders: crowd.report.orders.length,
      byVersion: crowd.report.byVersion,
      loggedOut: crowd.report.loggedOut,
      ordersLost: end.ordersLost,
      phonesLost: end.phonesLost + phonesLostInRollback,
      namesLost: end.namesLost,
      rowsLostInRollback,
      failed: crowd.report.failed + end.failed,
      failures: [...crowd.report.failures, ...end.failures],
      canaryFeature: {
        canary: shown['v2/canary'] ?? 0,
        elsewhere: Object.entries(shown).filter(([key]) => key.startsWith('v2/') && key !== 'v2/canary').reduce((sum, [, n]) => sum + n, 0),
      },
      contracted: end.contracted,
    };
  } finally {
    await crowd.close();
    await db.end();
    await stack.close();
  }
}

async function finish(stack: ShopStack, started: { id: number }): Promise<DeploymentDetail> {
  const done = await stack.waitFor(started.id);
  if (done.state !== 'succeeded') throw new Error(`deployment ${done.id} ${done.state}: ${done.reason}\n${stack.logTail()}`);
  return done;
}

/** Every user and order id, and every stored phone number, straight from the database. */
async function snapshot(db: pg.Client): Promise<{ users: Set<string>; orders: Set<string>; phones: Map<string, string> }> {
  const users = await db.query<{ id: string; phone: string | null }>('SELECT id, phone FROM users');
  const orders = await db.query<{ id: string }>('SELECT id FROM orders');
  return {
    users: new Set(users.rows.map((r) => r.id)),
    orders: new Set(orders.rows.map((r) => r.id)),
    phones: new Map(users.rows.flatMap((r) => (r.phone === null ? [] : [[r.id, r.phone] as [string, string]]))),
  };
}

/** At the end (v3 serving): what every user was told is still what the shop says, and in the database. */
async function verify(crowd: Crowd, db: pg.Client): Promise<{ ordersLost: number; phonesLost: number; namesLost: number; failed: number; failures: string[]; contracted: boolean }> {
  let ordersLost = 0;
  let phonesLost = 0;
  let namesLost = 0;
  let failed = 0;
  const failures: string[] = [];
  for (const user of crowd.users) {
    if (!user.loggedIn) await user.logIn();
    const me = await user.call('GET', '/me');
    const orders = await user.call('GET', '/orders');
    if (me.status !== 200 || orders.status !== 200) {
      failed++;
      failures.push(`${user.email}: GET /me ${me.status}, GET /orders ${orders.status} at the end`);
      continue;
    }
    const profile = (me.body as { user: { name: string; phone: string | null } }).user;
    if (user.expectedPhone !== null && profile.phone !== user.expectedPhone) phonesLost++;
    if (profile.name !== user.expectedName) namesLost++;
    const listed = new Set((orders.body as { orders: { id: number }[] }).orders.map((o) => o.id));
    ordersLost += user.orders.filter((id) => !listed.has(id)).length;
  }
  // And in the database itself.
  const stored = await db.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE id = ANY($1::bigint[])', [crowd.report.orders]);
  ordersLost = Math.max(ordersLost, crowd.report.orders.length - Number(stored.rows[0]?.n ?? 0));
  const name = await db.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'");
  return { ordersLost, phonesLost, namesLost, failed, failures, contracted: name.rowCount === 0 };
}

/** The summary the demo prints; its last line is the one other checks read. */
export function formatSummary(result: ScenarioResult): string {
  const lines = ['', 'Per deploy:'];
  for (const d of result.deploys) lines.push(`  ${d.what}: ${d.outcome} (${d.seconds.toFixed(1)} s)`);
  const versions = Object.entries(result.byVersion)
    .filter(([v]) => v !== 'none')
    .map(([v, n]) => `${v} ${n}`)
    .join(', ');
  lines.push(
    '',
    `requests: ${result.requests} (answered by ${versions}); orders placed: ${result.orders}`,
    `v2's canary-only feature: shown ${result.canaryFeature.canary} times to canary users, ${result.canaryFeature.elsewhere} times to others`,
    `rows lost in the mid-canary rollback: ${result.rowsLostInRollback}, phone numbers lost: ${result.phonesLost}, names lost: ${result.namesLost}`,
    `users.name dropped by the contract: ${result.contracted ? 'yes' : 'no'}`,
  );
  if (result.failures.length > 0) lines.push('', 'failures:', ...result.failures.map((f) => `  ${f}`));
  lines.push('', `users logged out: ${result.loggedOut}, orders lost: ${result.ordersLost}, failed requests: ${result.failed}`);
  return lines.join('\n');
}
