-- Derived data moves to its own file, spoor-derived.db (see derived/): the
-- processors' writes there never hold the lock the event writer needs. The
-- processors rebuild it from the log, so nothing is copied.
DROP TABLE rollup_hours;
DROP TABLE rollup_dims;
DROP TABLE processor_cursors;
DROP TABLE sessions;
DROP TABLE identities;
DROP TABLE customers;
