-- 002 (v2, pre-deploy): expand. Adds nullable `phone` and `full_name` (instant in PostgreSQL: no
-- rewrite), lets `name` be NULL (v3 will stop writing it), and keeps name and full_name in step while
-- releases that write only one of them run side by side (v1 next to v2, v2 next to v3). Old code
-- keeps working: nothing it reads or writes changed.
ALTER TABLE users ADD COLUMN IF NOT EXISTS phone text;
ALTER TABLE users ADD COLUMN IF NOT EXISTS full_name text;
ALTER TABLE users ALTER COLUMN name DROP NOT NULL;

CREATE OR REPLACE FUNCTION users_sync_full_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.full_name := COALESCE(NEW.full_name, NEW.name);
    NEW.name := COALESCE(NEW.name, NEW.full_name);
  ELSIF NEW.name IS DISTINCT FROM OLD.name AND NEW.full_name IS NOT DISTINCT FROM OLD.full_name THEN
    NEW.full_name := NEW.name; -- written by a release that knows only name (v1)
  ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name AND NEW.name IS NOT DISTINCT FROM OLD.name THEN
    NEW.name := NEW.full_name; -- written by a release that knows only full_name (v3)
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS users_sync_full_name ON users;
CREATE TRIGGER users_sync_full_name BEFORE INSERT OR UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION users_sync_full_name();
