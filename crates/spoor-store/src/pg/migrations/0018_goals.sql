-- A project's goals (spoor-domain/src/insights/goals.rs).
CREATE TABLE goals (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    -- One funnel step's JSON: {"event": ..., "page": ..., "where": {...}}.
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX goals_project ON goals (project_id);
