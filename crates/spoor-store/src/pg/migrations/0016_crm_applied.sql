-- Messages the CRM applied that leave no timeline entry to say so (an
-- anonymous visitor's points, a contact's traits): a message resent later is
-- found here, or by its timeline entry, and not applied again. Rows go with
-- their project's retention.
CREATE TABLE crm_applied (
    project_id BIGINT NOT NULL,
    message_id TEXT COLLATE "C" NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (project_id, message_id)
);
