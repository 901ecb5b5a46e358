-- Invitations to an organisation: a link holding a random token, of which
-- only the SHA-256 is kept; it works once, until it expires. With an email,
-- only that address may accept it.
CREATE TABLE invites (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    token_hash  TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    email       TEXT,
    created_by  BIGINT REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX invites_org ON invites (org_id);

-- Password-reset links an owner makes for a member: one per person at a time,
-- by the SHA-256 of the token.
CREATE TABLE password_resets (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_by  BIGINT REFERENCES users (id),
    expires_at  BIGINT NOT NULL
);
