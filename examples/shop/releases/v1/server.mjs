// Shop v1.
import { CATALOG_FORMAT_1 } from '../../lib/catalog.mjs';
import { startShop } from '../../lib/shop.mjs';
import { users } from './users.mjs';

await startShop({
  version: process.env.APP_VERSION ?? 'v1',
  users,
  catalog: CATALOG_FORMAT_1,
  features: () => ({ recommendations: false }),
});
