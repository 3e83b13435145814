// Shop v2: phone numbers, full names, a new catalog cache format, and recommendations for canary
// users only (switchyard says which cohort a request was routed as).
import { CATALOG_FORMAT_2 } from '../../lib/catalog.mjs';
import { startShop } from '../../lib/shop.mjs';
import { users } from './users.mjs';

await startShop({
  version: process.env.APP_VERSION ?? 'v2',
  users,
  catalog: CATALOG_FORMAT_2,
  features: (routed) => ({ recommendations: routed.cohort === 'canary' }),
});
