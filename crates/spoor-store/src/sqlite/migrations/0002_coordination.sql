-- Leases: a named right held by one process until it expires. The scheduler
-- holds one to be the only process that runs jobs.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The last run of each scheduled job.
CREATE TABLE job_runs (
    name        TEXT PRIMARY KEY,
    node        TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    ok          INTEGER,
    detail      TEXT NOT NULL DEFAULT '',
    runs        INTEGER NOT NULL DEFAULT 0
);
