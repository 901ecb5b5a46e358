-- The CRM loop and lead scores (spoor-store/src/crm.rs has the rules), kept by
-- the CRM processor from the event log, and changed by people through the API
-- (tasks done, contacts merged).

-- Contacts. score_norm is the score scaled to a fixed epoch, so that one
-- index sorts every contact by its score now.
CREATE TABLE crm_contacts (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    project_id           BIGINT NOT NULL,
    user_id              TEXT COLLATE "C",
    email                TEXT COLLATE "C",
    first_name           TEXT COLLATE "C",
    last_name            TEXT COLLATE "C",
    phone                TEXT COLLATE "C",
    lead_source          TEXT COLLATE "C" NOT NULL,
    lead_status          TEXT COLLATE "C" NOT NULL,
    last_activity        BIGINT,
    last_action          TEXT,
    last_vehicle_viewed  TEXT,
    last_search_location TEXT,
    estimated_deal_value DOUBLE PRECISION,
    total_bookings       BIGINT NOT NULL,
    total_revenue        DOUBLE PRECISION NOT NULL,
    website_visits       BIGINT NOT NULL,
    score_norm           DOUBLE PRECISION NOT NULL,
    sort_name            TEXT COLLATE "C" NOT NULL,
    search               TEXT COLLATE "C" NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
-- The list's sorts, alone and within a status.
CREATE INDEX crm_contacts_score ON crm_contacts (project_id, score_norm);
CREATE INDEX crm_contacts_status_score ON crm_contacts (project_id, lead_status, score_norm);
CREATE INDEX crm_contacts_activity ON crm_contacts (project_id, last_activity);
CREATE INDEX crm_contacts_status_activity ON crm_contacts (project_id, lead_status, last_activity);
CREATE INDEX crm_contacts_created ON crm_contacts (project_id, created_at);
CREATE INDEX crm_contacts_name ON crm_contacts (project_id, sort_name);
CREATE INDEX crm_contacts_revenue ON crm_contacts (project_id, total_revenue);

-- How contacts are known: by user id, email (lowercase) and anonymous id.
-- One contact per identity, so one per email per project.
CREATE TABLE crm_identities (
    project_id BIGINT NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    contact_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (project_id, kind, value)
);
CREATE INDEX crm_identities_contact ON crm_identities (contact_id);

-- The timeline. message_id is the event's: an event applied once is never
-- applied again.
CREATE TABLE crm_activities (
    id         BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL,
    contact_id TEXT COLLATE "C" NOT NULL,
    at         BIGINT NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    event      TEXT COLLATE "C",
    summary    TEXT NOT NULL,
    details    TEXT NOT NULL,
    message_id TEXT COLLATE "C"
);
CREATE INDEX crm_activities_contact ON crm_activities (contact_id, id);
CREATE UNIQUE INDEX crm_activities_message ON crm_activities (project_id, message_id)
    WHERE message_id IS NOT NULL;

-- Follow-up tasks; source_key is what created one (an event and its rule, or
-- a score threshold), so the same cause never creates two.
CREATE TABLE crm_tasks (
    id           TEXT COLLATE "C" PRIMARY KEY,
    project_id   BIGINT NOT NULL,
    contact_id   TEXT COLLATE "C" NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT,
    priority     TEXT NOT NULL,
    status       TEXT COLLATE "C" NOT NULL,
    assignee     TEXT,
    due_at       BIGINT,
    created_at   BIGINT NOT NULL,
    completed_at BIGINT,
    source_key   TEXT COLLATE "C" NOT NULL,
    source_event TEXT,
    UNIQUE (project_id, source_key)
);
CREATE INDEX crm_tasks_due ON crm_tasks (project_id, status, due_at);
CREATE INDEX crm_tasks_contact ON crm_tasks (contact_id);

-- Each change of a contact's score.
CREATE TABLE crm_scores (
    id         BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL,
    contact_id TEXT COLLATE "C" NOT NULL,
    at         BIGINT NOT NULL,
    delta      DOUBLE PRECISION NOT NULL,
    score      DOUBLE PRECISION NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX crm_scores_contact ON crm_scores (contact_id, id);

-- Anonymous visitors' scores, until they become contacts.
CREATE TABLE crm_visitors (
    project_id   BIGINT NOT NULL,
    anonymous_id TEXT COLLATE "C" NOT NULL,
    score_norm   DOUBLE PRECISION NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (project_id, anonymous_id)
);

-- Bookings started and not yet completed or abandoned: time-based
-- abandonment finds the old ones by their start.
CREATE TABLE crm_bookings (
    project_id BIGINT NOT NULL,
    contact_id TEXT COLLATE "C" NOT NULL,
    started_at BIGINT NOT NULL,
    message_id TEXT COLLATE "C" NOT NULL,
    properties TEXT NOT NULL,
    PRIMARY KEY (project_id, contact_id)
);
CREATE INDEX crm_bookings_started ON crm_bookings (started_at);

-- The statuses each contact has reached, for the funnel.
CREATE TABLE crm_reached (
    project_id BIGINT NOT NULL,
    contact_id TEXT COLLATE "C" NOT NULL,
    status     TEXT COLLATE "C" NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (project_id, contact_id, status)
);
CREATE INDEX crm_reached_status ON crm_reached (project_id, status);

-- Contacts merged into others: their old ids still lead to the contact.
CREATE TABLE crm_merged (
    from_id    TEXT COLLATE "C" PRIMARY KEY,
    project_id BIGINT NOT NULL,
    into_id    TEXT COLLATE "C" NOT NULL,
    at         BIGINT NOT NULL
);

-- Merges so far: a processor pass that read contacts before a merge finds
-- the count changed when it writes, and reads them again.
CREATE TABLE crm_state (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    merges BIGINT NOT NULL
);
INSERT INTO crm_state (id, merges) VALUES (1, 0);
