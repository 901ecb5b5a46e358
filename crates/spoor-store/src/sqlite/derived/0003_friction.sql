-- Friction analytics (spoor-store/src/friction.rs has the rules), made by the
-- friction processor, per UTC day.

CREATE TABLE derived.friction_sessions (
    project_id INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    page       TEXT NOT NULL,
    selector   TEXT NOT NULL,
    text       TEXT NOT NULL,
    session_id TEXT NOT NULL,
    person     TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_at   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, kind, page, selector, text, session_id)
) WITHOUT ROWID;

CREATE TABLE derived.heatmap_cells (
    project_id INTEGER NOT NULL,
    page       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    col        INTEGER NOT NULL,
    row        INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (project_id, page, kind, day, col, row)
) WITHOUT ROWID;

CREATE TABLE derived.heatmap_elements (
    project_id INTEGER NOT NULL,
    page       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    selector   TEXT NOT NULL,
    text       TEXT NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (project_id, page, kind, day, selector, text)
) WITHOUT ROWID;

CREATE TABLE derived.page_days (
    project_id  INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    page        TEXT NOT NULL,
    clicks      INTEGER NOT NULL,
    rage_clicks INTEGER NOT NULL,
    dead_clicks INTEGER NOT NULL,
    views       INTEGER NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, page)
) WITHOUT ROWID;

-- Page views by deepest scroll, in tens of percent (0..10).
CREATE TABLE derived.scroll_days (
    project_id INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    page       TEXT NOT NULL,
    depth      INTEGER NOT NULL,
    views      INTEGER NOT NULL,
    PRIMARY KEY (project_id, page, day, depth)
) WITHOUT ROWID;

CREATE TABLE derived.error_issues (
    project_id     INTEGER NOT NULL,
    fingerprint    TEXT NOT NULL,
    type           TEXT NOT NULL,
    message        TEXT NOT NULL,
    top_frame      TEXT NOT NULL,
    sample_message TEXT NOT NULL,
    sample_stack   TEXT NOT NULL,
    first_seen     INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL,
    first_received INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    PRIMARY KEY (project_id, fingerprint)
) WITHOUT ROWID;

CREATE TABLE derived.error_days (
    project_id  INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    page        TEXT NOT NULL,
    browser     TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, fingerprint, page, browser)
) WITHOUT ROWID;

CREATE TABLE derived.error_sessions (
    project_id  INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    person      TEXT NOT NULL,
    PRIMARY KEY (project_id, day, fingerprint, session_id, person)
) WITHOUT ROWID;

-- Per day, page, device and metric: the values' sketch (friction::Sketch).
CREATE TABLE derived.vital_days (
    project_id INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    page       TEXT NOT NULL,
    device     TEXT NOT NULL,
    metric     TEXT NOT NULL,
    sketch     BLOB NOT NULL,
    PRIMARY KEY (project_id, day, page, device, metric)
) WITHOUT ROWID;
