// 002 (v2, post-deploy, once no v1 instance is left): fill full_name for rows written before the
// expand migration. In batches of 500, each its own short transaction: row locks only, held for
// milliseconds, so traffic goes on. Safe to run again: it only touches rows still missing full_name.
const BATCH = 500;

export async function up(client, log) {
  let total = 0;
  for (;;) {
    const { rowCount } = await client.query(
      `UPDATE users SET full_name = name
       WHERE id IN (SELECT id FROM users WHERE full_name IS NULL AND name IS NOT NULL ORDER BY id LIMIT ${BATCH})`,
    );
    if (rowCount === 0) break;
    total += rowCount;
  }
  log(`backfilled full_name for ${total} users`);
}
