// The PostgreSQL pool: readiness waits until it answers; on SIGTERM, pool.end() waits for every
// checked-out client to be released (in-flight queries finish) and then closes the connections.
import pg from 'pg';

export function createPool(url) {
  const pool = new pg.Pool({ connectionString: url, max: 5, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
  // An idle client whose connection broke (the server restarted) must not crash the process.
  pool.on('error', (err) => console.error(`pool: idle client error: ${err.message}`));
  return pool;
}

/** Resolves once the database answers; retries while it does not (the app is not ready until then). */
export async function waitForDatabase(pool) {
  for (let attempt = 1; ; attempt++) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (err) {
      if (attempt % 25 === 1) console.error(`database not reachable yet: ${err.message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Runs `work(client)` in one transaction. */
export async function inTransaction(pool, work) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
