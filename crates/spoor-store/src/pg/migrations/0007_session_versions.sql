-- The browser's and OS's versions of a session's first message (seed 004's
-- session table shows "Chrome 120", "Windows 11"). Sessions made before this
-- get them when rebuilt.
ALTER TABLE sessions ADD COLUMN browser_version TEXT, ADD COLUMN os_version TEXT;
