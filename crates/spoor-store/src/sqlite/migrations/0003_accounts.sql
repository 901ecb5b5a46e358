-- Organisations own projects; people belong to organisations with a role.
CREATE TABLE orgs (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
INSERT INTO orgs (id, name, created_at) VALUES (1, 'default', CAST(unixepoch('subsec') * 1000 AS INTEGER));

-- Every project and token so far belongs to the first organisation. (SQLite
-- cannot add a column that both references another table and has a default.)
ALTER TABLE projects ADD COLUMN org_id INTEGER NOT NULL DEFAULT 1;
ALTER TABLE admin_tokens ADD COLUMN org_id INTEGER NOT NULL DEFAULT 1;

-- People who sign in to the dashboard. Emails are stored lowercase.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_login_at INTEGER
);

CREATE TABLE memberships (
    user_id INTEGER NOT NULL REFERENCES users(id),
    org_id  INTEGER NOT NULL REFERENCES orgs(id),
    role    TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    PRIMARY KEY (user_id, org_id)
);

-- Signed-in browser sessions, by the SHA-256 of the cookie's value.
CREATE TABLE web_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- Small store-wide values, such as the hash of the one-time set-up token.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
