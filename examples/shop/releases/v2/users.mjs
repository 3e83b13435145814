// v2's users: `name` becomes `full_name`, and `phone` is new (both added by the expand migration).
// While v1 may still run, v2 writes both name and full_name, reads full_name falling back to name
// (rows not yet backfilled), and takes a missing phone as "not given".
const COLUMNS = 'id, email, COALESCE(full_name, name) AS name, phone';

export const users = {
  async byId(db, id) {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ?? null;
  },
  async byEmail(db, email) {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
    return rows[0] ?? null;
  },
  async create(db, { email, name, phone }) {
    const { rows } = await db.query(`INSERT INTO users (email, name, full_name, phone) VALUES ($1, $2, $2, $3) RETURNING ${COLUMNS}`, [email, name, phone ?? null]);
    return rows[0];
  },
  async update(db, id, { name, phone }) {
    await db.query(
      `UPDATE users SET name = COALESCE($2, name), full_name = COALESCE($2, full_name, name), phone = COALESCE($3, phone) WHERE id = $1`,
      [id, typeof name === 'string' ? name : null, typeof phone === 'string' ? phone : null],
    );
  },
};
