-- 001 (v1, pre-deploy): the shop as v1 knows it.
CREATE TABLE IF NOT EXISTS users (
  id    bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name  text NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
  id          integer PRIMARY KEY,
  title       text NOT NULL,
  price_cents integer NOT NULL
);
CREATE TABLE IF NOT EXISTS cart_items (
  user_id    bigint NOT NULL REFERENCES users (id),
  product_id integer NOT NULL REFERENCES products (id),
  quantity   integer NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (user_id, product_id)
);
CREATE TABLE IF NOT EXISTS orders (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users (id),
  total_cents integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS order_items (
  order_id    bigint NOT NULL REFERENCES orders (id),
  product_id  integer NOT NULL REFERENCES products (id),
  quantity    integer NOT NULL,
  price_cents integer NOT NULL
);
INSERT INTO products (id, title, price_cents) VALUES
  (1, 'Espresso beans, 1 kg', 2490), (2, 'Milk jug', 1290), (3, 'Tamper', 1990), (4, 'Grinder', 14900), (5, 'Cups, set of 6', 3490)
ON CONFLICT (id) DO NOTHING;
