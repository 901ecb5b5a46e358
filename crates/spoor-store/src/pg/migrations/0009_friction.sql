-- Friction analytics and alerts (the SQLite store splits these between
-- spoor.db and the derived file; here they are one database).

-- The friction processor reads only friction, heatmap and vitals events; this
-- index holds only theirs. The condition is spoor-store's FRICTION_EVENTS_SQL.
CREATE INDEX events_friction ON events (seq)
    WHERE type = 'track' AND name IN ('$click', '$rage_click', '$dead_click', '$exception',
        '$form_error', '$web_vital', '$page_leave');

-- What a person decided about an error issue. Not derived: a rebuild keeps it.
CREATE TABLE error_status (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    fingerprint TEXT NOT NULL,
    resolved_at BIGINT,
    PRIMARY KEY (project_id, fingerprint)
);

-- Alert rules (spoor-store/src/alerts.rs has their kinds).
CREATE TABLE alert_rules (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      BIGINT NOT NULL REFERENCES projects(id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    page            TEXT,
    threshold       DOUBLE PRECISION NOT NULL,
    window_minutes  BIGINT NOT NULL,
    webhook_url     TEXT,
    email           TEXT,
    signing_secret  TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT true,
    firing          BOOLEAN NOT NULL DEFAULT false,
    -- Receive time up to which new error issues were looked at.
    watermark       BIGINT NOT NULL,
    last_fired_at   BIGINT,
    last_checked_at BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX alert_rules_project ON alert_rules (project_id);

-- Every notification an alert sent or tried to (seed 002's notification_log).
CREATE TABLE notification_log (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      BIGINT NOT NULL,
    rule_id         BIGINT,
    rule_name       TEXT NOT NULL,
    channel         TEXT NOT NULL,
    target          TEXT NOT NULL,
    summary         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX notification_log_project ON notification_log (project_id, id);
CREATE INDEX notification_log_due ON notification_log (next_attempt_at) WHERE status = 'pending';

-- Made by the friction processor, per UTC day (spoor-store/src/friction.rs).
-- Text compares bytewise (COLLATE "C"), as on SQLite: reports group and
-- sort these columns, and a locale's collation made that several times slower.

CREATE TABLE friction_sessions (
    project_id BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    page       TEXT COLLATE "C" NOT NULL,
    selector   TEXT COLLATE "C" NOT NULL,
    text       TEXT COLLATE "C" NOT NULL,
    session_id TEXT COLLATE "C" NOT NULL,
    person     TEXT COLLATE "C" NOT NULL,
    count      BIGINT NOT NULL,
    first_at   BIGINT NOT NULL,
    last_at    BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, kind, page, selector, text, session_id)
);

CREATE TABLE heatmap_cells (
    project_id BIGINT NOT NULL,
    page       TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    day        BIGINT NOT NULL,
    col        BIGINT NOT NULL,
    row        BIGINT NOT NULL,
    count      BIGINT NOT NULL,
    PRIMARY KEY (project_id, page, kind, day, col, row)
);

CREATE TABLE heatmap_elements (
    project_id BIGINT NOT NULL,
    page       TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    day        BIGINT NOT NULL,
    selector   TEXT COLLATE "C" NOT NULL,
    text       TEXT COLLATE "C" NOT NULL,
    count      BIGINT NOT NULL,
    PRIMARY KEY (project_id, page, kind, day, selector, text)
);

CREATE TABLE page_days (
    project_id  BIGINT NOT NULL,
    day         BIGINT NOT NULL,
    page        TEXT COLLATE "C" NOT NULL,
    clicks      BIGINT NOT NULL,
    rage_clicks BIGINT NOT NULL,
    dead_clicks BIGINT NOT NULL,
    views       BIGINT NOT NULL,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, page)
);

-- Page views by deepest scroll, in tens of percent (0..10).
CREATE TABLE scroll_days (
    project_id BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    page       TEXT COLLATE "C" NOT NULL,
    depth      BIGINT NOT NULL,
    views      BIGINT NOT NULL,
    PRIMARY KEY (project_id, page, day, depth)
);

CREATE TABLE error_issues (
    project_id     BIGINT NOT NULL,
    fingerprint    TEXT COLLATE "C" NOT NULL,
    type           TEXT COLLATE "C" NOT NULL,
    message        TEXT COLLATE "C" NOT NULL,
    top_frame      TEXT COLLATE "C" NOT NULL,
    sample_message TEXT COLLATE "C" NOT NULL,
    sample_stack   TEXT COLLATE "C" NOT NULL,
    first_seen     BIGINT NOT NULL,
    last_seen      BIGINT NOT NULL,
    first_received BIGINT NOT NULL,
    count          BIGINT NOT NULL,
    PRIMARY KEY (project_id, fingerprint)
);

CREATE TABLE error_days (
    project_id  BIGINT NOT NULL,
    day         BIGINT NOT NULL,
    fingerprint TEXT COLLATE "C" NOT NULL,
    page        TEXT COLLATE "C" NOT NULL,
    browser     TEXT COLLATE "C" NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (project_id, day, fingerprint, page, browser)
);

CREATE TABLE error_sessions (
    project_id  BIGINT NOT NULL,
    day         BIGINT NOT NULL,
    fingerprint TEXT COLLATE "C" NOT NULL,
    session_id  TEXT COLLATE "C" NOT NULL,
    person      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (project_id, day, fingerprint, session_id, person)
);

-- Per day, page, device and metric: the values' sketch (friction::Sketch).
CREATE TABLE vital_days (
    project_id BIGINT NOT NULL,
    day        BIGINT NOT NULL,
    page       TEXT COLLATE "C" NOT NULL,
    device     TEXT COLLATE "C" NOT NULL,
    metric     TEXT COLLATE "C" NOT NULL,
    sketch     BYTEA NOT NULL,
    PRIMARY KEY (project_id, day, page, device, metric)
);
