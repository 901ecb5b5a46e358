-- The friction processor reads only friction, heatmap and vitals events; this
-- index holds only theirs. The condition is spoor-store's FRICTION_EVENTS_SQL.
CREATE INDEX events_friction ON events (seq)
    WHERE type = 'track' AND name IN ('$click', '$rage_click', '$dead_click', '$exception',
        '$form_error', '$web_vital', '$page_leave');

-- What a person decided about an error issue. Not derived: a rebuild keeps it.
CREATE TABLE error_status (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    fingerprint TEXT NOT NULL,
    resolved_at INTEGER,
    PRIMARY KEY (project_id, fingerprint)
) WITHOUT ROWID;

-- Alert rules (spoor-store/src/alerts.rs has their kinds).
CREATE TABLE alert_rules (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects(id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    page            TEXT,
    threshold       REAL NOT NULL,
    window_minutes  INTEGER NOT NULL,
    webhook_url     TEXT,
    email           TEXT,
    signing_secret  TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    firing          INTEGER NOT NULL DEFAULT 0,
    -- Receive time up to which new error issues were looked at.
    watermark       INTEGER NOT NULL,
    last_fired_at   INTEGER,
    last_checked_at INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX alert_rules_project ON alert_rules (project_id);

-- Every notification an alert sent or tried to (seed 002's notification_log).
CREATE TABLE notification_log (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL,
    rule_id         INTEGER,
    rule_name       TEXT NOT NULL,
    channel         TEXT NOT NULL,
    target          TEXT NOT NULL,
    summary         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX notification_log_project ON notification_log (project_id, id);
CREATE INDEX notification_log_due ON notification_log (next_attempt_at) WHERE status = 'pending';
