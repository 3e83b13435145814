// v1's users: users(id, email, name). It knows nothing of `phone` or `full_name` and never touches
// them, so it keeps working after v2's expand migration added them, and a rollback to v1 loses none
// of their values.
const COLUMNS = 'id, email, name';

export const users = {
  async byId(db, id) {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ?? null;
  },
  async byEmail(db, email) {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
    return rows[0] ?? null;
  },
  async create(db, { email, name }) {
    const { rows } = await db.query(`INSERT INTO users (email, name) VALUES ($1, $2) RETURNING ${COLUMNS}`, [email, name]);
    return rows[0];
  },
  async update(db, id, { name }) {
    if (typeof name === 'string') await db.query('UPDATE users SET name = $2 WHERE id = $1', [id, name]);
  },
};
