// v3's users: only full_name. The contract migration (v3's postDeploy) drops `name` once no v2
// instance is left; until then the expand trigger copies full_name into name for v2.
const COLUMNS = 'id, email, full_name AS name, phone';

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
    const { rows } = await db.query(`INSERT INTO users (email, full_name, phone) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [email, name, phone ?? null]);
    return rows[0];
  },
  async update(db, id, { name, phone }) {
    await db.query('UPDATE users SET full_name = COALESCE($2, full_name), phone = COALESCE($3, phone) WHERE id = $1', [
      id,
      typeof name === 'string' ? name : null,
      typeof phone === 'string' ? phone : null,
    ]);
  },
};
