-- Usage metering (spoor-store/src/metering.rs has the rules), made by the
-- metering processor from widget events.

-- One row per widget session.
CREATE TABLE derived.call_sessions (
    project_id   INTEGER NOT NULL,
    widget_id    TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    first_at     INTEGER NOT NULL,
    loads        INTEGER NOT NULL,
    opens        INTEGER NOT NULL,
    starts       INTEGER NOT NULL,
    errors       INTEGER NOT NULL,
    first_start  INTEGER,
    last_end     INTEGER,
    inferred_end INTEGER,
    PRIMARY KEY (project_id, widget_id, session_id)
) WITHOUT ROWID;
-- The cleanup job's candidates: calls with no end of any kind. Partial, so it
-- holds only the calls in progress and the ones the job will complete.
CREATE INDEX derived.call_sessions_open ON call_sessions (first_start, project_id, widget_id, session_id)
    WHERE first_start IS NOT NULL AND last_end IS NULL AND inferred_end IS NULL AND errors = 0;

-- What each widget's sessions add up to per day (UTC), by the day of their
-- first event: a month's bill reads about 30 rows per widget.
CREATE TABLE derived.usage_days (
    project_id  INTEGER NOT NULL,
    widget_id   TEXT NOT NULL,
    day         INTEGER NOT NULL,
    loads       INTEGER NOT NULL,
    opens       INTEGER NOT NULL,
    calls       INTEGER NOT NULL,
    completed   INTEGER NOT NULL,
    inferred    INTEGER NOT NULL,
    errored     INTEGER NOT NULL,
    billed_ms   INTEGER NOT NULL,
    inferred_ms INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, widget_id)
) WITHOUT ROWID;
