-- Widgets embedded on customers' sites (seed 001). Their ids are public
-- UUIDs; they can only send widget events to their project.
CREATE TABLE widgets (
    id                    TEXT PRIMARY KEY,
    project_id            INTEGER NOT NULL REFERENCES projects(id),
    name                  TEXT NOT NULL,
    domains               TEXT NOT NULL DEFAULT '[]',
    demo                  INTEGER NOT NULL DEFAULT 0,
    active                INTEGER NOT NULL DEFAULT 1,
    rate_limit_per_minute INTEGER NOT NULL,
    created_at            INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX widgets_project ON widgets (project_id, created_at);

-- The metering processor reads only widget events; this index holds only
-- theirs, so other traffic costs it nothing (and costs the writer nothing).
-- The condition is spoor-store's WIDGET_EVENTS_SQL.
CREATE INDEX events_widget ON events (seq)
    WHERE type = 'track' AND name IN ('widget_load', 'widget_open', 'call_start', 'call_end', 'call_error');
