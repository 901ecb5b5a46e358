-- The derived file: everything here is made by the processors from the event
-- log (spoor.db) and can be made again from it (`spoor rebuild`). Deleting
-- this file rebuilds it. Tables are named `derived.*` when created; every
-- other statement names them unqualified (SQLite finds them in the attached
-- file).

-- How far each processor has read the event log, by seq, and the receive time
-- of the last event it read. A processor writes its rows and its cursor in one
-- transaction, so both are always from the same pass.
CREATE TABLE derived.processor_cursors (
    name        TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);

-- The newest erasure (erased_ids.erased_at in spoor.db) whose rows are gone
-- from this file. The two files commit separately; when they disagree after a
-- crash, opening the store removes the erased people's rows again.
CREATE TABLE derived.erasures_applied (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    mark INTEGER NOT NULL
);
INSERT INTO derived.erasures_applied (id, mark) VALUES (1, 0);

-- Hourly rollups of the event log for the overview, made by the rollup processor.
CREATE TABLE derived.rollup_hours (
    project_id INTEGER NOT NULL,
    hour       INTEGER NOT NULL, -- ms since the epoch, a whole hour
    is_bot     INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    pageviews  INTEGER NOT NULL,
    visitors   BLOB NOT NULL,    -- HyperLogLog sketch
    sessions   BLOB NOT NULL,    -- HyperLogLog sketch
    PRIMARY KEY (project_id, hour, is_bot)
) WITHOUT ROWID;

CREATE TABLE derived.rollup_dims (
    project_id INTEGER NOT NULL,
    hour       INTEGER NOT NULL,
    is_bot     INTEGER NOT NULL,
    dim        TEXT NOT NULL,    -- pages, referrers, countries, browsers, os, devices
    value      TEXT NOT NULL,
    events     INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, is_bot, dim, value)
) WITHOUT ROWID;

-- Sessions, made by the sessions processor (the rules are in
-- spoor-store/src/sessions.rs).
CREATE TABLE derived.sessions (
    project_id      INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    identity        TEXT,          -- the user or anonymous id of a derived session
    user_id         TEXT,
    anonymous_id    TEXT,
    started_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    ended_at        INTEGER,
    end_reason      TEXT,
    entry_url       TEXT,
    exit_url        TEXT,
    pageviews       INTEGER NOT NULL,
    events          INTEGER NOT NULL,
    device_type     TEXT,
    browser         TEXT,
    browser_version TEXT,
    os              TEXT,
    os_version      TEXT,
    country         TEXT,
    region          TEXT,
    city            TEXT,
    ip              TEXT,
    PRIMARY KEY (project_id, session_id)
);
-- Covering for the metrics API's monitoring figures (end rate, average
-- duration, most active users this week): they read this index, not the rows.
CREATE INDEX derived.sessions_started ON sessions (project_id, started_at, ended_at, user_id);
CREATE INDEX derived.sessions_user ON sessions (project_id, user_id, started_at);
-- Partial: a message to a session that is in neither writes neither.
CREATE INDEX derived.sessions_identity ON sessions (project_id, identity, last_seen_at)
    WHERE identity IS NOT NULL;
-- Sessions of an anonymous id go to its user when it is linked.
CREATE INDEX derived.sessions_anonymous ON sessions (project_id, anonymous_id)
    WHERE user_id IS NULL;
-- The timeout finds open sessions by their last message.
CREATE INDEX derived.sessions_open ON sessions (last_seen_at) WHERE ended_at IS NULL;

-- Identity: an anonymous id (or, after `alias`, a former user id) and the user
-- it turned out to be. The first link of an anonymous id stands.
CREATE TABLE derived.identities (
    project_id INTEGER NOT NULL,
    alias_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    linked_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, alias_id)
) WITHOUT ROWID;
CREATE INDEX derived.identities_user ON identities (project_id, user_id);

-- One row per person: an identified user (identified = 1, person = user id) or
-- an anonymous visitor not yet identified (identified = 0, person = anonymous
-- id; merged into the user's row when identified). Seed 004's
-- user_activity_summary.
CREATE TABLE derived.customers (
    project_id           INTEGER NOT NULL,
    identified           INTEGER NOT NULL,
    person               TEXT NOT NULL,
    email                TEXT,
    name                 TEXT,
    traits_at            INTEGER,
    created_trait_at     INTEGER,
    first_seen_at        INTEGER NOT NULL,
    registered_at        INTEGER NOT NULL,
    last_seen_at         INTEGER NOT NULL,
    last_login_at        INTEGER,
    total_sessions       INTEGER NOT NULL,
    total_events         INTEGER NOT NULL,
    total_orders         INTEGER NOT NULL,
    total_bookings       INTEGER NOT NULL,
    total_reviews        INTEGER NOT NULL,
    total_revenue        REAL NOT NULL,
    last_order_at        INTEGER,
    last_order_amount    REAL,
    last_order_currency  TEXT,
    last_booking_at      INTEGER,
    last_booking_service TEXT,
    primary_device_type  TEXT,
    primary_browser      TEXT,
    primary_os           TEXT,
    tallies              TEXT NOT NULL, -- sessions per device type, browser and OS (JSON)
    PRIMARY KEY (project_id, identified, person)
) WITHOUT ROWID;
