// Runs the shop's migrations: `node migrate.mjs pre-deploy|post-deploy`, in a release's folder (its
// release.json says which schema it needs). Switchyard's hooks call it: preDeploy before the release
// starts (expand: only changes old code survives), postDeploy once the old release is gone (backfill,
// contract). Files in migrations/ are NNN_name.sql or .mjs; `.post.` ones run post-deploy. Each runs
// once, recorded in schema_migrations; a .sql file runs in one transaction with its record, and each
// is written to be safe to run again. DATABASE_URL says where.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

const DIR = join(import.meta.dirname, 'migrations');
const LOCK_ID = 0x5709; // one migrator at a time (pg_advisory_lock)
const LOCK_TIMEOUT = '3s'; // a DDL statement waits at most this long for its lock, so it never queues traffic behind it for long
const ATTEMPTS = 10;

const phase = process.argv[2];
if (phase !== 'pre-deploy' && phase !== 'post-deploy') {
  console.error('usage: node migrate.mjs pre-deploy|post-deploy (in a release folder with release.json)');
  process.exit(2);
}
const { schema } = JSON.parse(readFileSync('release.json', 'utf8'));
const wanted = readdirSync(DIR)
  .filter((file) => /^\d{3}_.+\.(sql|mjs)$/.test(file))
  .filter((file) => Number(file.slice(0, 3)) <= schema && file.includes('.post.') === (phase === 'post-deploy'))
  .sort();

const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
try {
  await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
  await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  const { rows } = await client.query('SELECT id FROM schema_migrations');
  const applied = new Set(rows.map((r) => r.id));
  const pending = wanted.filter((file) => !applied.has(file));
  console.log(`${phase} for schema ${schema}: ${pending.length === 0 ? 'nothing to do' : pending.join(', ')}`);
  for (const file of pending) {
    const started = Date.now();
    if (file.endsWith('.sql')) await runSql(file);
    else await runModule(file);
    console.log(`applied ${file} in ${Date.now() - started} ms`);
  }
} finally {
  await client.end();
}

/** The file and its record in one transaction; retried when a lock was not granted in time. */
async function runSql(file) {
  const sql = readFileSync(join(DIR, file), 'utf8');
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [file]);
      await client.query('COMMIT');
      return;
    } catch (err) {
      await client.query('ROLLBACK');
      if (err.code !== '55P03' || attempt === ATTEMPTS) throw err; // 55P03: lock_not_available
      console.log(`${file}: lock not granted within ${LOCK_TIMEOUT}, trying again (${attempt}/${ATTEMPTS})`);
    }
  }
}

/** A data migration manages its own (short) transactions; it is recorded once it finished. */
async function runModule(file) {
  const migration = await import(pathToFileURL(join(DIR, file)).href);
  await migration.up(client, (line) => console.log(`${file}: ${line}`));
  await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [file]);
}
