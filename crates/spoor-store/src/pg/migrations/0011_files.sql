-- Stored files (spoor-store/src/files.rs): session recordings, friction
-- screenshots, export jobs and report schedules. The bytes live in the file
-- store; these rows name them by key.

-- One recording per session and kind: `rrweb` (its chunks below) or `video`
-- (one uploaded file).
CREATE TABLE recordings (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id   BIGINT NOT NULL REFERENCES projects(id),
    session_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    user_id      TEXT,
    anonymous_id TEXT,
    url          TEXT,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT NOT NULL,
    chunks       BIGINT NOT NULL,
    bytes        BIGINT NOT NULL,
    file_key     TEXT,
    created_at   BIGINT NOT NULL,
    UNIQUE (project_id, session_id, kind)
);
CREATE INDEX recordings_started ON recordings (project_id, started_at);
CREATE INDEX recordings_user ON recordings (project_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX recordings_anonymous ON recordings (project_id, anonymous_id)
    WHERE anonymous_id IS NOT NULL;

-- A recording's chunks; the key makes a resent chunk a duplicate.
CREATE TABLE recording_chunks (
    recording_id BIGINT NOT NULL,
    chunk_id     TEXT NOT NULL,
    first_ts     BIGINT NOT NULL,
    last_ts      BIGINT NOT NULL,
    events       BIGINT NOT NULL,
    bytes        BIGINT NOT NULL,
    file_key     TEXT NOT NULL,
    PRIMARY KEY (recording_id, chunk_id)
);

-- Seed 002's friction screenshots, one per friction event.
CREATE TABLE screenshots (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    event_id    TEXT NOT NULL,
    session_id  TEXT,
    page        TEXT,
    kind        TEXT,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    bytes       BIGINT NOT NULL,
    file_key    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (project_id, event_id)
);
CREATE INDEX screenshots_page ON screenshots (project_id, page, created_at);
CREATE INDEX screenshots_session ON screenshots (project_id, session_id);

-- Seed 002's export_jobs.
CREATE TABLE export_jobs (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id        BIGINT NOT NULL REFERENCES projects(id),
    report            TEXT NOT NULL,
    format            TEXT NOT NULL,
    params            TEXT NOT NULL,
    status            TEXT NOT NULL,
    progress          BIGINT NOT NULL DEFAULT 0,
    error             TEXT,
    bytes             BIGINT,
    file_key          TEXT,
    schedule_id       BIGINT,
    created_at        BIGINT NOT NULL,
    started_at        BIGINT,
    finished_at       BIGINT,
    delivery          TEXT,
    delivery_attempts BIGINT NOT NULL DEFAULT 0,
    delivery_error    TEXT,
    next_delivery_at  BIGINT
);
CREATE INDEX export_jobs_project ON export_jobs (project_id, id);
CREATE INDEX export_jobs_waiting ON export_jobs (id) WHERE status IN ('queued', 'running');
CREATE INDEX export_jobs_delivery ON export_jobs (next_delivery_at) WHERE delivery = 'pending';

CREATE TABLE report_schedules (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     BIGINT NOT NULL REFERENCES projects(id),
    report         TEXT NOT NULL,
    format         TEXT NOT NULL,
    cadence        TEXT NOT NULL,
    email          TEXT,
    webhook_url    TEXT,
    params         TEXT NOT NULL,
    signing_secret TEXT NOT NULL,
    next_run_at    BIGINT NOT NULL,
    last_run_at    BIGINT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX report_schedules_due ON report_schedules (next_run_at);

-- Files being written: a row is made before a file is put in the file store
-- and deleted in the transaction that commits the row naming the file. One
-- left behind (a crash between the two, a failed put, a job deleted while it
-- ran) names a file no row does; the project-retention job removes both.
CREATE TABLE file_intents (
    file_key   TEXT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX file_intents_created ON file_intents (created_at);

-- Bytes stored per project and kind (recordings, screenshots, exports), kept
-- in the transactions that add or remove files, so a quota check reads a row.
CREATE TABLE file_use (
    project_id BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    PRIMARY KEY (project_id, kind)
);
-- A recording list asks whether a session had friction or errors.
CREATE INDEX friction_sessions_session ON friction_sessions (project_id, session_id);
CREATE INDEX error_sessions_session ON error_sessions (project_id, session_id);
