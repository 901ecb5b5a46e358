-- The event log becomes a table partitioned by month, so that retention drops
-- whole partitions instead of deleting rows. The partition key is the client
-- timestamp of the deduplication key (dedup_ts): a unique index on a partitioned
-- table must contain the partition key, and a retried message keeps its client
-- timestamp, so a duplicate always meets its first copy in the same partition.
--
-- Layout: one partition per calendar month (UTC), created ahead of time and on
-- demand by Spoor (`events_yYYYYmMM`); `events_untimed` for messages sent without
-- a timestamp (dedup_ts 0) or with one before 2000; `events_default` for whatever
-- falls outside the monthly partitions that exist yet. Spoor moves rows out of
-- the default partition when it creates the month they belong to.
--
-- Existing rows are copied into the new table once; the scheduler's partitions
-- job splits them into monthly partitions when a server next starts.
ALTER TABLE events RENAME TO events_before_partitioning;
ALTER INDEX events_dedup RENAME TO events_before_partitioning_dedup;
ALTER INDEX events_time RENAME TO events_before_partitioning_time;
ALTER SEQUENCE events_seq_seq OWNED BY NONE;

CREATE TABLE events (
    seq             BIGINT NOT NULL DEFAULT nextval('events_seq_seq'),
    project_id      BIGINT NOT NULL,
    message_id      TEXT NOT NULL,
    dedup_ts        BIGINT NOT NULL,
    type            TEXT NOT NULL,
    name            TEXT,
    user_id         TEXT,
    anonymous_id    TEXT,
    session_id      TEXT,
    ts              BIGINT NOT NULL,
    received_at     BIGINT NOT NULL,
    url             TEXT,
    referrer        TEXT,
    ip              TEXT,
    country         TEXT,
    region          TEXT,
    city            TEXT,
    browser         TEXT,
    browser_version TEXT,
    os              TEXT,
    os_version      TEXT,
    device_type     TEXT,
    is_bot          BOOLEAN NOT NULL DEFAULT false,
    key_id          BIGINT,
    body            TEXT NOT NULL
) PARTITION BY RANGE (dedup_ts);
ALTER SEQUENCE events_seq_seq OWNED BY events.seq;

CREATE UNIQUE INDEX events_dedup ON events (project_id, dedup_ts, message_id);
CREATE INDEX events_time ON events (project_id, ts);

-- 946684800000 is 2000-01-01T00:00:00Z in ms.
CREATE TABLE events_untimed PARTITION OF events FOR VALUES FROM (MINVALUE) TO (946684800000);
CREATE TABLE events_default PARTITION OF events DEFAULT;

INSERT INTO events SELECT * FROM events_before_partitioning;
DROP TABLE events_before_partitioning;

-- Leases: a named right held by one node until it expires. The scheduler holds
-- one to be the only node that runs jobs.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The last run of each scheduled job, whichever node ran it.
CREATE TABLE job_runs (
    name        TEXT PRIMARY KEY,
    node        TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    ok          BOOLEAN,
    detail      TEXT NOT NULL DEFAULT '',
    runs        BIGINT NOT NULL DEFAULT 0
);

-- Requests each key has used in its current one-minute window, shared by every
-- node. Losing it in a crash only forgets a minute's count, so it is unlogged.
CREATE UNLOGGED TABLE rate_windows (
    key_id       BIGINT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL
);
