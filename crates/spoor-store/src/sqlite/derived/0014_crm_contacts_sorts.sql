-- The contacts list's sorts by score and by last activity over every status
-- read each status's index and merge them (sqlite/crm.rs, `crm_contacts`), so
-- the two indexes over every status go. Every event of a known person moves
-- the contact's last activity, and most move its score: each such update took
-- an entry out of both of these and put it back elsewhere, beside the same in
-- the status indexes.
DROP INDEX derived.crm_contacts_score;
DROP INDEX derived.crm_contacts_activity;
