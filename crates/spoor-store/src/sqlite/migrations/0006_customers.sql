-- Identity: an anonymous id (or, after `alias`, a former user id) and the user
-- it turned out to be. The first link of an anonymous id stands. Derived by the
-- sessions processor; rebuilt with it.
CREATE TABLE identities (
    project_id INTEGER NOT NULL,
    alias_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    linked_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, alias_id)
) WITHOUT ROWID;
CREATE INDEX identities_user ON identities (project_id, user_id);

-- One row per person: an identified user (identified = 1, person = user id) or
-- an anonymous visitor not yet identified (identified = 0, person = anonymous
-- id; merged into the user's row when identified). Seed 004's
-- user_activity_summary, kept up to date by the sessions processor.
CREATE TABLE customers (
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
-- No secondary indexes: every message rewrites its person's row, and each
-- index would add a page write to it. The metrics API sorts a project's
-- people with a bounded top-N sort instead (measured in bench/customers.sh).

-- Sessions of an anonymous id go to its user when it is linked. Partial, as
-- is the derived sessions' index now: a message to a session that is in
-- neither writes neither.
CREATE INDEX sessions_anonymous ON sessions (project_id, anonymous_id) WHERE user_id IS NULL;
DROP INDEX sessions_identity;
CREATE INDEX sessions_identity ON sessions (project_id, identity, last_seen_at)
    WHERE identity IS NOT NULL;

-- Erased people (GDPR): events naming these ids are not stored again, and the
-- processor ignores any still in flight.
CREATE TABLE erased_ids (
    project_id INTEGER NOT NULL,
    id         TEXT NOT NULL,
    erased_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
) WITHOUT ROWID;
CREATE INDEX erased_ids_at ON erased_ids (erased_at);

-- The log's positions are never reused: erasure can delete the newest events,
-- and a plain INTEGER PRIMARY KEY would hand their seqs out again, below the
-- processors' cursors. AUTOINCREMENT keeps the high-water mark; the table is
-- made again with it (a one-time copy).
CREATE TABLE events_log (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO events_log SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_log RENAME TO events;
CREATE UNIQUE INDEX events_dedup ON events (project_id, dedup_ts, message_id);
CREATE INDEX events_time ON events (project_id, ts);
