-- Stored files (spoor-store/src/files.rs): session recordings, friction
-- screenshots, export jobs and report schedules. The bytes live in the file
-- store; these rows name them by key.

-- One recording per session and kind: `rrweb` (its chunks below) or `video`
-- (one uploaded file).
CREATE TABLE recordings (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects(id),
    session_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    user_id      TEXT,
    anonymous_id TEXT,
    url          TEXT,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER NOT NULL,
    chunks       INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    file_key     TEXT,
    created_at   INTEGER NOT NULL,
    UNIQUE (project_id, session_id, kind)
);
CREATE INDEX recordings_started ON recordings (project_id, started_at);
CREATE INDEX recordings_user ON recordings (project_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX recordings_anonymous ON recordings (project_id, anonymous_id)
    WHERE anonymous_id IS NOT NULL;

-- A recording's chunks; the key makes a resent chunk a duplicate.
CREATE TABLE recording_chunks (
    recording_id INTEGER NOT NULL,
    chunk_id     TEXT NOT NULL,
    first_ts     INTEGER NOT NULL,
    last_ts      INTEGER NOT NULL,
    events       INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    file_key     TEXT NOT NULL,
    PRIMARY KEY (recording_id, chunk_id)
) WITHOUT ROWID;

-- Seed 002's friction screenshots, one per friction event.
CREATE TABLE screenshots (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    event_id    TEXT NOT NULL,
    session_id  TEXT,
    page        TEXT,
    kind        TEXT,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    file_key    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, event_id)
);
CREATE INDEX screenshots_page ON screenshots (project_id, page, created_at);
CREATE INDEX screenshots_session ON screenshots (project_id, session_id);

-- Seed 002's export_jobs.
CREATE TABLE export_jobs (
    id                INTEGER PRIMARY KEY,
    project_id        INTEGER NOT NULL REFERENCES projects(id),
    report            TEXT NOT NULL,
    format            TEXT NOT NULL,
    params            TEXT NOT NULL,
    status            TEXT NOT NULL,
    progress          INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    bytes             INTEGER,
    file_key          TEXT,
    schedule_id       INTEGER,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    delivery          TEXT,
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    delivery_error    TEXT,
    next_delivery_at  INTEGER
);
CREATE INDEX export_jobs_project ON export_jobs (project_id, id);
CREATE INDEX export_jobs_waiting ON export_jobs (id) WHERE status IN ('queued', 'running');
CREATE INDEX export_jobs_delivery ON export_jobs (next_delivery_at) WHERE delivery = 'pending';

CREATE TABLE report_schedules (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects(id),
    report         TEXT NOT NULL,
    format         TEXT NOT NULL,
    cadence        TEXT NOT NULL,
    email          TEXT,
    webhook_url    TEXT,
    params         TEXT NOT NULL,
    signing_secret TEXT NOT NULL,
    next_run_at    INTEGER NOT NULL,
    last_run_at    INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX report_schedules_due ON report_schedules (next_run_at);

-- Files being written: a row is made before a file is put in the file store
-- and deleted in the transaction that commits the row naming the file. One
-- left behind (a crash between the two, a failed put, a job deleted while it
-- ran) names a file no row does; the project-retention job removes both.
CREATE TABLE file_intents (
    file_key   TEXT PRIMARY KEY,
    project_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX file_intents_created ON file_intents (created_at);

-- Bytes stored per project and kind (recordings, screenshots, exports), kept
-- in the transactions that add or remove files, so a quota check reads a row.
CREATE TABLE file_use (
    project_id INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    PRIMARY KEY (project_id, kind)
) WITHOUT ROWID;
