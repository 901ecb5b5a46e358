-- Organisations own projects; people belong to organisations with a role.
CREATE TABLE orgs (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
INSERT INTO orgs (name, created_at) VALUES ('default', (extract(epoch FROM now()) * 1000)::bigint);

-- Every project and token so far belongs to the first organisation.
ALTER TABLE projects ADD COLUMN org_id BIGINT REFERENCES orgs (id);
UPDATE projects SET org_id = (SELECT min(id) FROM orgs);
ALTER TABLE projects ALTER COLUMN org_id SET NOT NULL;
ALTER TABLE admin_tokens ADD COLUMN org_id BIGINT REFERENCES orgs (id);
UPDATE admin_tokens SET org_id = (SELECT min(id) FROM orgs);
ALTER TABLE admin_tokens ALTER COLUMN org_id SET NOT NULL;

-- People who sign in to the dashboard. Emails are stored lowercase.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_login_at BIGINT
);

CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users (id),
    org_id  BIGINT NOT NULL REFERENCES orgs (id),
    role    TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    PRIMARY KEY (user_id, org_id)
);

-- Signed-in browser sessions, by the SHA-256 of the cookie's value.
CREATE TABLE web_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- Small store-wide values, such as the hash of the one-time set-up token.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
