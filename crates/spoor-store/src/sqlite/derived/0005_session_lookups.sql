-- A recording list asks whether a session had friction or errors.
CREATE INDEX derived.friction_sessions_session ON friction_sessions (project_id, session_id);
CREATE INDEX derived.error_sessions_session ON error_sessions (project_id, session_id);
