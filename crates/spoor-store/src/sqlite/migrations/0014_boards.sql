-- Saved insights and boards (spoor-domain/src/insights/boards.rs).
CREATE TABLE saved_insights (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    -- The question as its endpoint takes it, less the range.
    query      TEXT NOT NULL,
    days       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX saved_insights_project ON saved_insights (project_id);

CREATE TABLE boards (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    -- The saved insights' ids in the order shown, as a JSON array.
    items      TEXT NOT NULL,
    -- SHA-256 of the share link's token while the board is shared.
    share_hash TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX boards_project ON boards (project_id);
