-- A project's goals (spoor-domain/src/insights/goals.rs).
CREATE TABLE goals (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    -- One funnel step's JSON: {"event": ..., "page": ..., "where": {...}}.
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX goals_project ON goals (project_id);
