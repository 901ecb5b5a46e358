-- Sessions, derived from the event log by the sessions processor (the rules are
-- in spoor-store/src/sessions.rs). Derived data: deleting the rows and the
-- processor's cursor rebuilds them from the log.
CREATE TABLE sessions (
    project_id   BIGINT NOT NULL,
    session_id   TEXT NOT NULL,
    identity     TEXT,          -- the user or anonymous id of a derived session
    user_id      TEXT,
    anonymous_id TEXT,
    started_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ended_at     BIGINT,
    end_reason   TEXT,
    entry_url    TEXT,
    exit_url     TEXT,
    pageviews    BIGINT NOT NULL,
    events       BIGINT NOT NULL,
    device_type  TEXT,
    browser      TEXT,
    os           TEXT,
    country      TEXT,
    region       TEXT,
    city         TEXT,
    ip           TEXT,
    PRIMARY KEY (project_id, session_id)
);
CREATE INDEX sessions_started ON sessions (project_id, started_at);
CREATE INDEX sessions_user ON sessions (project_id, user_id, started_at);
CREATE INDEX sessions_identity ON sessions (project_id, identity, last_seen_at);
-- The timeout finds open sessions by their last message.
CREATE INDEX sessions_open ON sessions (last_seen_at) WHERE ended_at IS NULL;
