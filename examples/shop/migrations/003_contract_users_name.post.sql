-- 003 (v3, post-deploy, once no v2 instance is left): contract. Drops `name` and the trigger that kept
-- it in step. v2 reads `name`, so from here on a rollback to v2 (or v1) would break it: this is the end
-- of the rollback window, and the shop's postDeploy hook is marked endsRollbackWindow so that
-- switchyard refuses such a rollback unless forced.
DROP TRIGGER IF EXISTS users_sync_full_name ON users;
DROP FUNCTION IF EXISTS users_sync_full_name();
ALTER TABLE users DROP COLUMN IF EXISTS name;
