// `npm run demo:shop`: the shop example (PostgreSQL + Redis, started here in a temp folder) behind
// switchyard, with simulated users, through v1 → v2 (canary, rolled back mid-way, then shipped) → v3
// (blue-green) with an expand → migrate → contract schema change. Prints what each deploy did and,
// last, how many users were logged out, orders lost and requests failed (0, 0, 0 is the point).
import { formatSummary, runShopScenario } from '../test/shop/scenario.js';
import { startServices, type Services } from '../test/shop/services.js';
import { ShopStack } from '../test/shop/stack.js';

let services: Services | undefined;
/** Stops switchyard (and so the shop), then PostgreSQL and Redis, each by PID; removes their folders. */
const cleanUp = async () => {
  await ShopStack.closeAll();
  const running = services;
  services = undefined;
  await running?.stop();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

try {
  const started = performance.now();
  console.log('starting PostgreSQL and Redis in a temp folder …');
  services = await startServices();
  console.log(`PostgreSQL at ${services.databaseUrl}, Redis at ${services.redisUrl}`);
  const result = await runShopScenario(services, { log: (line) => console.log(line) });
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(formatSummary(result));
  const clean = result.loggedOut + result.ordersLost + result.failed + result.phonesLost + result.namesLost + result.rowsLostInRollback === 0;
  process.exitCode = clean ? 0 : 1;
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
