// The product list, cached in Redis. The cache key carries the format's version: v1 caches a plain
// array, v2 an object with prices in another shape. While both versions run, each reads only the
// format it understands, and a rollback finds its own key still there (or rebuilds it).
const TTL_SECONDS = 60;

export async function cachedCatalog(redis, db, format) {
  const key = `shop:catalog:${format.version}`;
  const hit = await redis.get(key);
  if (hit !== null) return JSON.parse(hit);
  const { rows } = await db.query('SELECT id, title, price_cents FROM products ORDER BY id');
  const catalog = format.build(rows);
  await redis.set(key, JSON.stringify(catalog), { expiration: { type: 'EX', value: TTL_SECONDS } });
  return catalog;
}

/** Format 1 (v1): a plain array. */
export const CATALOG_FORMAT_1 = { version: 1, build: (rows) => rows.map((r) => ({ id: r.id, name: r.title, priceCents: r.price_cents })) };

/** Format 2 (v2, v3): prices as objects, under their own key, so v1 never reads it and v2 never reads v1's. */
export const CATALOG_FORMAT_2 = {
  version: 2,
  build: (rows) => ({ currency: 'EUR', items: rows.map((r) => ({ id: r.id, title: r.title, price: { cents: r.price_cents } })) }),
};
