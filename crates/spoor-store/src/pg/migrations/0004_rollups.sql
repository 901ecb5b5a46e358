-- Hourly rollups of the event log for the overview, made by the rollup
-- processor. Derived data: deleting these tables' rows and the processor's
-- cursor rebuilds them from the log.
CREATE TABLE rollup_hours (
    project_id BIGINT NOT NULL,
    hour       BIGINT NOT NULL, -- ms since the epoch, a whole hour
    is_bot     BOOLEAN NOT NULL,
    events     BIGINT NOT NULL,
    pageviews  BIGINT NOT NULL,
    visitors   BYTEA NOT NULL,  -- HyperLogLog sketch
    sessions   BYTEA NOT NULL,  -- HyperLogLog sketch
    PRIMARY KEY (project_id, hour, is_bot)
);

CREATE TABLE rollup_dims (
    project_id BIGINT NOT NULL,
    hour       BIGINT NOT NULL,
    is_bot     BOOLEAN NOT NULL,
    dim        TEXT NOT NULL,   -- pages, referrers, countries, browsers, os, devices
    value      TEXT NOT NULL,
    events     BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, is_bot, dim, value)
);

-- How far each processor has read the event log, by seq, and the receive time
-- of the last event it read.
CREATE TABLE processor_cursors (
    name        TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

-- Processors read the log in seq order.
CREATE INDEX events_seq ON events (seq);
