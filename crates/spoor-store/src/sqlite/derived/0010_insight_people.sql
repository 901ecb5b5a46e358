-- Insights' people, numbered: a chunk's row carries the number of its own
-- person (its user, else its anonymous visitor; sqlite/facts.rs, `Numbering`),
-- so that a funnel, retention or paths question tells people apart by a
-- number where it hashed and compared their ids row by row. A person keeps
-- their number; an erasure deletes it with their rows.
CREATE TABLE derived.insight_people (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    person     TEXT NOT NULL,
    identified INTEGER NOT NULL,
    -- (project_id, person) first: a link's alias is either kind of id.
    UNIQUE (project_id, person, identified)
);

-- The chunks made before carry no numbers. They go, with the facts fold's
-- cursor, so the pipeline makes them again from the log; questions read the
-- log until it has (as after `spoor rebuild facts`).
DELETE FROM derived.insight_fact_parts;
DELETE FROM derived.insight_facts;
DELETE FROM derived.processor_cursors WHERE name = 'facts';
