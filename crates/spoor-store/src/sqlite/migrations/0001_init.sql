-- Projects own keys and events. Every store has the project 'default'.
CREATE TABLE projects (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    keep_full_ip INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
INSERT INTO projects (id, name, created_at) VALUES (1, 'default', CAST(unixepoch('subsec') * 1000 AS INTEGER));

-- Write keys: public, write-only, stored as SHA-256.
CREATE TABLE api_keys (
    id                    INTEGER PRIMARY KEY,
    project_id            INTEGER NOT NULL REFERENCES projects(id),
    name                  TEXT NOT NULL,
    key_hash              TEXT NOT NULL UNIQUE,
    prefix                TEXT NOT NULL,
    domains               TEXT NOT NULL DEFAULT '[]',
    rate_limit_per_minute INTEGER NOT NULL,
    active                INTEGER NOT NULL DEFAULT 1,
    created_at            INTEGER NOT NULL,
    last_used_at          INTEGER
);

-- Admin tokens: secret, read and manage, stored as SHA-256.
CREATE TABLE admin_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

-- The event log. seq is the log position that processors keep cursors on;
-- AUTOINCREMENT so that a position is never reused after a delete.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL,
    message_id      TEXT NOT NULL,
    dedup_ts        INTEGER NOT NULL,
    type            TEXT NOT NULL,
    name            TEXT,
    user_id         TEXT,
    anonymous_id    TEXT,
    session_id      TEXT,
    ts              INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
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
    is_bot          INTEGER NOT NULL DEFAULT 0,
    key_id          INTEGER,
    body            TEXT NOT NULL
);
-- Deduplication: one event per (project, client timestamp, messageId). The key
-- starts with a time, so inserts land at the right edge of the index and stay
-- fast as the table grows (a random-keyed unique index does not).
CREATE UNIQUE INDEX events_dedup ON events (project_id, dedup_ts, message_id);
CREATE INDEX events_time ON events (project_id, ts);
