-- Projects own keys and events. Every store has the project 'default'.
CREATE TABLE projects (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    keep_full_ip BOOLEAN NOT NULL DEFAULT false,
    created_at   BIGINT NOT NULL
);
INSERT INTO projects (name, created_at) VALUES ('default', (extract(epoch FROM now()) * 1000)::bigint);

-- Write keys: public, write-only, stored as SHA-256.
CREATE TABLE api_keys (
    id                    BIGSERIAL PRIMARY KEY,
    project_id            BIGINT NOT NULL REFERENCES projects (id),
    name                  TEXT NOT NULL,
    key_hash              TEXT NOT NULL UNIQUE,
    prefix                TEXT NOT NULL,
    domains               TEXT NOT NULL DEFAULT '[]',
    rate_limit_per_minute INTEGER NOT NULL,
    active                BOOLEAN NOT NULL DEFAULT true,
    created_at            BIGINT NOT NULL,
    last_used_at          BIGINT
);

-- Admin tokens: secret, read and manage, stored as SHA-256.
CREATE TABLE admin_tokens (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

-- The event log; seq is the log position processors keep cursors on.
CREATE TABLE events (
    seq             BIGSERIAL PRIMARY KEY,
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
);
-- Deduplication: one event per (project, client timestamp, messageId); the key
-- starts with a time so that inserts stay at the right edge of the index.
CREATE UNIQUE INDEX events_dedup ON events (project_id, dedup_ts, message_id);
CREATE INDEX events_time ON events (project_id, ts);
