-- Insights' facts: what a question reads of each page view and track event,
-- in compact chunks of one project and one UTC day, made by the pipeline's
-- facts fold (spoor-domain/src/insights/facts.rs). Derived data: deleting
-- the rows and the fold's cursor rebuilds them from the log.
CREATE TABLE derived.insight_facts (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    day        INTEGER NOT NULL, -- ms since the epoch, a whole UTC day
    min_ts     INTEGER NOT NULL,
    max_ts     INTEGER NOT NULL,
    rows       INTEGER NOT NULL,
    data       BLOB NOT NULL
);
-- A question finds its chunks, and the fold a day's latest, without reading
-- the chunks themselves.
CREATE INDEX derived.insight_facts_day ON insight_facts (project_id, day, id, min_ts, max_ts, rows);
