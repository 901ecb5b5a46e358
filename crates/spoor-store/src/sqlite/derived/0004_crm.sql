-- The CRM loop and lead scores (spoor-store/src/crm.rs has the rules), kept by
-- the CRM processor from the event log, and changed by people through the API
-- (tasks done, contacts merged).

-- Contacts. score_norm is the score scaled to a fixed epoch, so that one
-- index sorts every contact by its score now.
CREATE TABLE derived.crm_contacts (
    id                   TEXT PRIMARY KEY,
    project_id           INTEGER NOT NULL,
    user_id              TEXT,
    email                TEXT,
    first_name           TEXT,
    last_name            TEXT,
    phone                TEXT,
    lead_source          TEXT NOT NULL,
    lead_status          TEXT NOT NULL,
    last_activity        INTEGER,
    last_action          TEXT,
    last_vehicle_viewed  TEXT,
    last_search_location TEXT,
    estimated_deal_value REAL,
    total_bookings       INTEGER NOT NULL,
    total_revenue        REAL NOT NULL,
    website_visits       INTEGER NOT NULL,
    score_norm           REAL NOT NULL,
    sort_name            TEXT NOT NULL,
    search               TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) WITHOUT ROWID;
-- The list's sorts, alone and within a status.
CREATE INDEX derived.crm_contacts_score ON crm_contacts (project_id, score_norm);
CREATE INDEX derived.crm_contacts_status_score ON crm_contacts (project_id, lead_status, score_norm);
CREATE INDEX derived.crm_contacts_activity ON crm_contacts (project_id, last_activity);
CREATE INDEX derived.crm_contacts_status_activity ON crm_contacts (project_id, lead_status, last_activity);
CREATE INDEX derived.crm_contacts_created ON crm_contacts (project_id, created_at);
CREATE INDEX derived.crm_contacts_name ON crm_contacts (project_id, sort_name);
CREATE INDEX derived.crm_contacts_revenue ON crm_contacts (project_id, total_revenue);

-- How contacts are known: by user id, email (lowercase) and anonymous id.
-- One contact per identity, so one per email per project.
CREATE TABLE derived.crm_identities (
    project_id INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    PRIMARY KEY (project_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX derived.crm_identities_contact ON crm_identities (contact_id);

-- The timeline. message_id is the event's: an event applied once is never
-- applied again.
CREATE TABLE derived.crm_activities (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    event      TEXT,
    summary    TEXT NOT NULL,
    details    TEXT NOT NULL,
    message_id TEXT
);
CREATE INDEX derived.crm_activities_contact ON crm_activities (contact_id, id);
CREATE UNIQUE INDEX derived.crm_activities_message ON crm_activities (project_id, message_id)
    WHERE message_id IS NOT NULL;

-- Follow-up tasks; source_key is what created one (an event and its rule, or
-- a score threshold), so the same cause never creates two.
CREATE TABLE derived.crm_tasks (
    id           TEXT PRIMARY KEY,
    project_id   INTEGER NOT NULL,
    contact_id   TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT,
    priority     TEXT NOT NULL,
    status       TEXT NOT NULL,
    assignee     TEXT,
    due_at       INTEGER,
    created_at   INTEGER NOT NULL,
    completed_at INTEGER,
    source_key   TEXT NOT NULL,
    source_event TEXT,
    UNIQUE (project_id, source_key)
) WITHOUT ROWID;
CREATE INDEX derived.crm_tasks_due ON crm_tasks (project_id, status, due_at);
CREATE INDEX derived.crm_tasks_contact ON crm_tasks (contact_id);

-- Each change of a contact's score.
CREATE TABLE derived.crm_scores (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    delta      REAL NOT NULL,
    score      REAL NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX derived.crm_scores_contact ON crm_scores (contact_id, id);

-- Anonymous visitors' scores, until they become contacts.
CREATE TABLE derived.crm_visitors (
    project_id   INTEGER NOT NULL,
    anonymous_id TEXT NOT NULL,
    score_norm   REAL NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, anonymous_id)
) WITHOUT ROWID;

-- Bookings started and not yet completed or abandoned: time-based
-- abandonment finds the old ones by their start.
CREATE TABLE derived.crm_bookings (
    project_id INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    properties TEXT NOT NULL,
    PRIMARY KEY (project_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX derived.crm_bookings_started ON crm_bookings (started_at);

-- The statuses each contact has reached, for the funnel.
CREATE TABLE derived.crm_reached (
    project_id INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (project_id, contact_id, status)
) WITHOUT ROWID;
CREATE INDEX derived.crm_reached_status ON crm_reached (project_id, status);

-- Contacts merged into others: their old ids still lead to the contact.
CREATE TABLE derived.crm_merged (
    from_id    TEXT PRIMARY KEY,
    project_id INTEGER NOT NULL,
    into_id    TEXT NOT NULL,
    at         INTEGER NOT NULL
) WITHOUT ROWID;

-- Merges so far: a processor pass that read contacts before a merge finds
-- the count changed when it writes, and reads them again.
CREATE TABLE derived.crm_state (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    merges INTEGER NOT NULL
);
INSERT INTO derived.crm_state (id, merges) VALUES (1, 0);
