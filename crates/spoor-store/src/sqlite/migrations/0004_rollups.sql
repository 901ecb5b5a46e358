-- Hourly rollups of the event log for the overview, made by the rollup
-- processor. Derived data: deleting these tables' rows and the processor's
-- cursor rebuilds them from the log.
CREATE TABLE rollup_hours (
    project_id INTEGER NOT NULL,
    hour       INTEGER NOT NULL, -- ms since the epoch, a whole hour
    is_bot     INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    pageviews  INTEGER NOT NULL,
    visitors   BLOB NOT NULL,    -- HyperLogLog sketch
    sessions   BLOB NOT NULL,    -- HyperLogLog sketch
    PRIMARY KEY (project_id, hour, is_bot)
) WITHOUT ROWID;

CREATE TABLE rollup_dims (
    project_id INTEGER NOT NULL,
    hour       INTEGER NOT NULL,
    is_bot     INTEGER NOT NULL,
    dim        TEXT NOT NULL,    -- pages, referrers, countries, browsers, os, devices
    value      TEXT NOT NULL,
    events     INTEGER NOT NULL,
    PRIMARY KEY (project_id, hour, is_bot, dim, value)
) WITHOUT ROWID;

-- How far each processor has read the event log, by seq, and the receive time
-- of the last event it read.
CREATE TABLE processor_cursors (
    name        TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);
