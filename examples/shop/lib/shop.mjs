// The shop's HTTP server, shared by every release; each release brings its own `users` (the table's
// shape changes between versions), catalog format and features. Readiness (/healthz) fails until the
// database pool and Redis answer; SIGTERM stops accepting, lets in-flight requests finish, drains the
// pool and closes Redis, then exits. Switchyard sends SIGTERM only once no request is routed here.
import { createServer } from 'node:http';
import { createClient } from 'redis';
import { cachedCatalog } from './catalog.mjs';
import { createPool, inTransaction, waitForDatabase } from './db.mjs';
import { HttpError, readJson, sendJson } from './http.mjs';
import { routedAs } from './release.mjs';
import { MemorySessions, RedisSessions, sessionCookie, sessionIdOf } from './sessions.mjs';

/**
 * @param {{ version: string, users: object, catalog: { version: string, build(rows): unknown }, features(routed): object }} release
 */
export async function startShop(release) {
  const env = process.env;
  const pool = createPool(env.DATABASE_URL);
  const redis = createClient({ url: env.REDIS_URL });
  redis.on('error', (err) => console.error(`redis: ${err.message}`));
  const sessions = env.SESSION_STORE === 'memory' ? new MemorySessions() : new RedisSessions(redis);
  let ready = false;
  let stopping = false;

  const server = createServer((req, res) => {
    if (stopping) res.shouldKeepAlive = false;
    const routed = routedAs(req);
    // Which release answered, and as which cohort: the demo counts them.
    const headers = { 'x-app-version': release.version, 'x-app-cohort': routed.cohort };
    handle(req, res, routed, headers).catch((err) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) console.error(`${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) sendJson(res, status, { error: err.message }, headers);
      else res.destroy();
    });
  });

  async function handle(req, res, routed, headers) {
    const url = new URL(req.url ?? '/', 'http://shop');
    if (url.pathname === '/healthz') return sendJson(res, ready && !stopping ? 200 : 503, { ready, version: release.version });
    const route = `${req.method} ${url.pathname}`;
    if (route === 'POST /signup' || route === 'POST /login') {
      const body = await readJson(req);
      if (typeof body.email !== 'string' || !body.email.includes('@')) throw new HttpError(400, 'email is required');
      let user = await release.users.byEmail(pool, body.email);
      if (route === 'POST /signup' && user === null) user = await release.users.create(pool, { email: body.email, name: String(body.name ?? body.email), phone: body.phone });
      if (user === null) throw new HttpError(404, 'no such user');
      const id = await sessions.create({ userId: user.id, since: new Date().toISOString() });
      return sendJson(res, 200, { user }, { ...headers, 'set-cookie': sessionCookie(id) });
    }
    if (route === 'GET /products') return sendJson(res, 200, await cachedCatalog(redis, pool, release.catalog), headers);
    const userId = await loggedIn(req);
    switch (route) {
      case 'GET /me':
        return sendJson(res, 200, { user: await release.users.byId(pool, userId), routed, features: release.features(routed) }, headers);
      case 'PUT /me': {
        const body = await readJson(req);
        await release.users.update(pool, userId, { name: body.name, phone: body.phone });
        return sendJson(res, 200, { user: await release.users.byId(pool, userId) }, headers);
      }
      case 'POST /cart': {
        const { productId, quantity } = await readJson(req);
        if (!Number.isInteger(productId) || !Number.isInteger(quantity) || quantity < 1) throw new HttpError(400, 'productId and quantity (≥ 1) are whole numbers');
        await pool.query(
          `INSERT INTO cart_items (user_id, product_id, quantity) VALUES ($1, $2, $3)
           ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity`,
          [userId, productId, quantity],
        );
        return sendJson(res, 200, { cart: await cartOf(userId) }, headers);
      }
      case 'GET /cart':
        return sendJson(res, 200, { cart: await cartOf(userId) }, headers);
      case 'POST /orders':
        return sendJson(res, 201, { order: await placeOrder(userId) }, headers);
      case 'GET /orders': {
        const { rows } = await pool.query('SELECT id, total_cents FROM orders WHERE user_id = $1 ORDER BY id', [userId]);
        return sendJson(res, 200, { orders: rows.map((r) => ({ id: Number(r.id), totalCents: r.total_cents })) }, headers);
      }
    }
    throw new HttpError(404, `no route ${route}`);
  }

  async function loggedIn(req) {
    const id = sessionIdOf(req);
    const session = id === undefined ? null : await sessions.get(id);
    if (session === null) throw new HttpError(401, 'log in first');
    return session.userId;
  }

  async function cartOf(userId) {
    const { rows } = await pool.query('SELECT product_id, quantity FROM cart_items WHERE user_id = $1 ORDER BY product_id', [userId]);
    return rows.map((r) => ({ productId: r.product_id, quantity: r.quantity }));
  }

  /** The cart becomes an order in one transaction: all of it or nothing. */
  function placeOrder(userId) {
    return inTransaction(pool, async (client) => {
      const { rows: items } = await client.query(
        `DELETE FROM cart_items c USING products p WHERE c.user_id = $1 AND p.id = c.product_id
         RETURNING c.product_id, c.quantity, p.price_cents`,
        [userId],
      );
      if (items.length === 0) throw new HttpError(409, 'the cart is empty');
      const total = items.reduce((sum, i) => sum + i.quantity * i.price_cents, 0);
      const { rows } = await client.query('INSERT INTO orders (user_id, total_cents) VALUES ($1, $2) RETURNING id', [userId, total]);
      const orderId = rows[0].id;
      for (const item of items) {
        await client.query('INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES ($1, $2, $3, $4)', [orderId, item.product_id, item.quantity, item.price_cents]);
      }
      return { id: Number(orderId), totalCents: total, items: items.length };
    });
  }

  async function stop() {
    if (stopping) return;
    stopping = true;
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    await closed; // every in-flight request answered
    await pool.end(); // every client released, connections closed
    if (redis.isOpen) await redis.close();
    process.exit(0);
  }
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());

  server.listen(Number(env.PORT ?? 3000), env.HOST ?? '127.0.0.1');
  await Promise.all([waitForDatabase(pool), redis.connect()]);
  ready = true;
  console.log(`shop ${release.version} ready on port ${env.PORT} (sessions: ${env.SESSION_STORE === 'memory' ? 'in memory' : 'redis'})`);
}
