-- Sign-in attempts per account and per client network, shared by every node
-- (spoor_core::login_backoff decides; the server reserves an attempt under the
-- rows' locks before it checks a password).
CREATE TABLE login_attempts (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    blocked_until BIGINT NOT NULL,
    last_at       BIGINT NOT NULL
);
CREATE INDEX login_attempts_last_at ON login_attempts (last_at);
