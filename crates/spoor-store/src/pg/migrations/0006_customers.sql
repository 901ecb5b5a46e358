-- Identity: an anonymous id (or, after `alias`, a former user id) and the user
-- it turned out to be. The first link of an anonymous id stands. Derived by the
-- sessions processor; rebuilt with it.
CREATE TABLE identities (
    project_id BIGINT NOT NULL,
    alias_id   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    linked_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, alias_id)
);
CREATE INDEX identities_user ON identities (project_id, user_id);

-- One row per person: an identified user (identified, person = user id) or
-- an anonymous visitor not yet identified (not identified, person = anonymous
-- id; merged into the user's row when identified). Seed 004's
-- user_activity_summary, kept up to date by the sessions processor.
CREATE TABLE customers (
    project_id           BIGINT NOT NULL,
    identified           BOOLEAN NOT NULL,
    person               TEXT NOT NULL,
    email                TEXT,
    name                 TEXT,
    traits_at            BIGINT,
    created_trait_at     BIGINT,
    first_seen_at        BIGINT NOT NULL,
    registered_at        BIGINT NOT NULL,
    last_seen_at         BIGINT NOT NULL,
    last_login_at        BIGINT,
    total_sessions       BIGINT NOT NULL,
    total_events         BIGINT NOT NULL,
    total_orders         BIGINT NOT NULL,
    total_bookings       BIGINT NOT NULL,
    total_reviews        BIGINT NOT NULL,
    total_revenue        DOUBLE PRECISION NOT NULL,
    last_order_at        BIGINT,
    last_order_amount    DOUBLE PRECISION,
    last_order_currency  TEXT,
    last_booking_at      BIGINT,
    last_booking_service TEXT,
    primary_device_type  TEXT,
    primary_browser      TEXT,
    primary_os           TEXT,
    tallies              TEXT NOT NULL, -- sessions per device type, browser and OS (JSON)
    PRIMARY KEY (project_id, identified, person)
);
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
    project_id BIGINT NOT NULL,
    id         TEXT NOT NULL,
    erased_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX erased_ids_at ON erased_ids (erased_at);
