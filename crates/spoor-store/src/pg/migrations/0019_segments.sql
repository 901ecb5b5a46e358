-- A project's segments (spoor-domain/src/insights/segments.rs), kept as goals are.
CREATE TABLE segments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    -- One funnel step's JSON with "did": {"event": ..., "where": {...}, "did": true}.
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX segments_project ON segments (project_id);
