-- A project's segments (spoor-domain/src/insights/segments.rs), kept as goals are.
CREATE TABLE segments (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    -- One funnel step's JSON with "did": {"event": ..., "where": {...}, "did": true}.
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX segments_project ON segments (project_id);
