-- The browser's and OS's versions of a session's first message (seed 004's
-- session table shows "Chrome 120", "Windows 11"). Sessions made before this
-- get them when rebuilt.
ALTER TABLE sessions ADD COLUMN browser_version TEXT, ADD COLUMN os_version TEXT;

-- Covering for the metrics API's monitoring figures (end rate, average
-- duration, most active users this week): an index-only scan.
CREATE INDEX sessions_monitoring ON sessions (project_id, started_at) INCLUDE (ended_at, user_id);
DROP INDEX sessions_started;
