-- One pipeline reads the log for every fold, in (writing transaction, seq)
-- order: an event is read once no transaction older than its own is still
-- running, so none can commit below the cursor later.
-- Rows written before this migration keep 0 and are read first, in seq order,
-- after the cursors they had (which get 0 too).
ALTER TABLE events ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN xid SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX events_pipeline ON events (xid, seq);
ALTER TABLE processor_cursors ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
-- The per-processor readers these served are gone.
DROP INDEX IF EXISTS events_widget;
DROP INDEX IF EXISTS events_friction;
