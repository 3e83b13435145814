// Shop v3: full_name only; recommendations for everyone.
import { CATALOG_FORMAT_2 } from '../../lib/catalog.mjs';
import { startShop } from '../../lib/shop.mjs';
import { users } from './users.mjs';

await startShop({
  version: process.env.APP_VERSION ?? 'v3',
  users,
  catalog: CATALOG_FORMAT_2,
  features: () => ({ recommendations: true }),
});
