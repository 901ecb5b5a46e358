-- Every event updates its session's last_seen_at. With that column in an
-- index, PostgreSQL cannot update the row in place (a heap-only tuple update):
-- each event wrote a new entry into every one of the table's six indexes,
-- and left as many to vacuum. Without it, and with room on each page for the
-- new version, an activity update touches the heap page alone.
--
-- The latest session of an identity is found among that identity's sessions
-- (a handful for most people); idle sessions among the open ones that
-- started before the cutoff (a session is never seen before it started).
DROP INDEX sessions_identity;
CREATE INDEX sessions_identity ON sessions (project_id, identity) WHERE identity IS NOT NULL;
DROP INDEX sessions_open;
CREATE INDEX sessions_open ON sessions (started_at) WHERE ended_at IS NULL;
-- Pages written from now on keep a fifth free for those in-place updates.
ALTER TABLE sessions SET (fillfactor = 80);
