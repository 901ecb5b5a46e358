-- Messages the CRM applied that leave no timeline entry to say so (an
-- anonymous visitor's points, a contact's traits): a message resent later is
-- found here, or by its timeline entry, and not applied again. Rows go with
-- their project's retention.
CREATE TABLE derived.crm_applied (
    project_id INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (project_id, message_id)
) WITHOUT ROWID;
