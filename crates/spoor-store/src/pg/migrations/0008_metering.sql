-- Widgets embedded on customers' sites (seed 001). Their ids are public
-- UUIDs; they can only send widget events to their project.
CREATE TABLE widgets (
    id                    TEXT PRIMARY KEY,
    project_id            BIGINT NOT NULL REFERENCES projects(id),
    name                  TEXT NOT NULL,
    domains               TEXT NOT NULL DEFAULT '[]',
    demo                  BOOLEAN NOT NULL DEFAULT false,
    active                BOOLEAN NOT NULL DEFAULT true,
    rate_limit_per_minute BIGINT NOT NULL,
    created_at            BIGINT NOT NULL
);
CREATE INDEX widgets_project ON widgets (project_id, created_at);

-- The metering processor reads only widget events; this index holds only
-- theirs. The condition is spoor-store's WIDGET_EVENTS_SQL.
CREATE INDEX events_widget ON events (seq)
    WHERE type = 'track' AND name IN ('widget_load', 'widget_open', 'call_start', 'call_end', 'call_error');

-- Usage metering (spoor-store/src/metering.rs has the rules), made by the
-- metering processor. One row per widget session:
CREATE TABLE call_sessions (
    project_id   BIGINT NOT NULL,
    widget_id    TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    first_at     BIGINT NOT NULL,
    loads        BIGINT NOT NULL,
    opens        BIGINT NOT NULL,
    starts       BIGINT NOT NULL,
    errors       BIGINT NOT NULL,
    first_start  BIGINT,
    last_end     BIGINT,
    inferred_end BIGINT,
    PRIMARY KEY (project_id, widget_id, session_id)
);
-- The cleanup job's candidates: calls with no end of any kind.
CREATE INDEX call_sessions_open ON call_sessions (first_start, project_id, widget_id, session_id)
    WHERE first_start IS NOT NULL AND last_end IS NULL AND inferred_end IS NULL AND errors = 0;

-- What each widget's sessions add up to per day (UTC), by the day of their
-- first event.
CREATE TABLE usage_days (
    project_id  BIGINT NOT NULL,
    widget_id   TEXT NOT NULL,
    day         BIGINT NOT NULL,
    loads       BIGINT NOT NULL,
    opens       BIGINT NOT NULL,
    calls       BIGINT NOT NULL,
    completed   BIGINT NOT NULL,
    inferred    BIGINT NOT NULL,
    errored     BIGINT NOT NULL,
    billed_ms   BIGINT NOT NULL,
    inferred_ms BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, widget_id)
);
