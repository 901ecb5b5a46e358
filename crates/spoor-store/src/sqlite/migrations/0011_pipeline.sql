-- One pipeline reads the log in seq order for every fold: the indexes the
-- metering and friction processors read their events through are not used,
-- and every insert paid for them.
DROP INDEX IF EXISTS events_widget;
DROP INDEX IF EXISTS events_friction;
