// The schema, as an ordered list of migrations: entry i brings a database to version i + 1.
// Append only. Never edit a shipped entry; a change is a new entry (SQLite: rebuild a table to alter a CHECK).

export const MIGRATIONS: readonly string[] = [
  // 1: services, releases, instances, deployments with their steps, and the event history.
  `
  CREATE TABLE services (
    name              TEXT PRIMARY KEY,
    stable_release_id INTEGER,
    created_at        TEXT NOT NULL,
    FOREIGN KEY (name, stable_release_id) REFERENCES releases (service, id)
  );

  CREATE TABLE releases (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    service    TEXT NOT NULL REFERENCES services (name),
    number     INTEGER NOT NULL,
    version    TEXT NOT NULL,
    spec       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (service, number)
  );
  -- The parent key of the (service, release) foreign keys below.
  CREATE UNIQUE INDEX releases_service_id ON releases (service, id);
  CREATE INDEX releases_service_version ON releases (service, version, number);

  CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    service    TEXT NOT NULL,
    release_id INTEGER NOT NULL,
    ordinal    INTEGER NOT NULL,
    address    TEXT,
    pid        INTEGER,
    state      TEXT NOT NULL CHECK (state IN ('starting', 'ready', 'draining', 'stopped', 'failed')),
    restarts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    FOREIGN KEY (service, release_id) REFERENCES releases (service, id)
  );
  CREATE INDEX instances_release_ordinal ON instances (release_id, ordinal);
  CREATE INDEX instances_service_state ON instances (service, state);

  CREATE TABLE deployments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    service         TEXT NOT NULL,
    from_release_id INTEGER,
    to_release_id   INTEGER NOT NULL,
    strategy        TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('deploy', 'rollback')),
    state           TEXT NOT NULL CHECK (state IN
                      ('pending', 'progressing', 'paused', 'succeeded', 'rolling-back', 'rolled-back', 'failed')),
    reason          TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    finished_at     TEXT,
    FOREIGN KEY (service, from_release_id) REFERENCES releases (service, id),
    FOREIGN KEY (service, to_release_id) REFERENCES releases (service, id)
  );
  CREATE INDEX deployments_service_id ON deployments (service, id);
  CREATE INDEX deployments_state ON deployments (state);

  CREATE TABLE steps (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    step_index    INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    params        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed', 'undone', 'skipped')),
    detail        TEXT,
    started_at    TEXT,
    finished_at   TEXT,
    PRIMARY KEY (deployment_id, step_index)
  ) WITHOUT ROWID;

  -- No foreign keys: an event must always be recordable, and the history is never pruned.
  -- AUTOINCREMENT so an id is never reused and SSE clients can resume after one.
  CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    time          TEXT NOT NULL,
    service       TEXT,
    deployment_id INTEGER,
    instance_id   TEXT,
    type          TEXT NOT NULL,
    message       TEXT NOT NULL,
    data          TEXT
  );
  CREATE INDEX events_service_id ON events (service, id);
  CREATE INDEX events_deployment_id ON events (deployment_id, id);
  `,
  // 2: the instance count set by `scale`, kept across daemon restarts (NULL = the config's count).
  `ALTER TABLE services ADD COLUMN instances INTEGER;`,
  // 3: releases past which a rollback needs force (a hook marked endsRollbackWindow ran for them).
  `
  CREATE TABLE rollback_window_ends (
    release_id INTEGER PRIMARY KEY,
    service    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    FOREIGN KEY (service, release_id) REFERENCES releases (service, id)
  );
  `,
  // 4: what a new controller needs to resume where the last one stopped: each service's traffic split
  // by instance id and its standby release, and each step's undo as data.
  `
  CREATE TABLE routing (
    service    TEXT PRIMARY KEY REFERENCES services (name),
    routing    TEXT NOT NULL,
    standby    TEXT,
    updated_at TEXT NOT NULL
  );
  ALTER TABLE steps ADD COLUMN undo TEXT;
  `,
  // 5: in a cluster, the host an instance runs on (NULL on a single host).
  `ALTER TABLE instances ADD COLUMN node TEXT;`,
];
