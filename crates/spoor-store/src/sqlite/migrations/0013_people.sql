-- Invitations to an organisation: a link holding a random token, of which
-- only the SHA-256 is kept; it works once, until it expires. With an email,
-- only that address may accept it.
CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    email       TEXT,
    created_by  INTEGER REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX invites_org ON invites (org_id);

-- Password-reset links an owner makes for a member: one per person at a time,
-- by the SHA-256 of the token.
CREATE TABLE password_resets (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_by  INTEGER REFERENCES users(id),
    expires_at  INTEGER NOT NULL
);
