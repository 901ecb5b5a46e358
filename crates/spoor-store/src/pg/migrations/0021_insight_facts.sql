-- Insights' facts, as on SQLite (see spoor-store/src/fact_chunks.rs): what a
-- question reads of each page view and track event, in compact chunks of one
-- project and one UTC day made by the pipeline's facts fold, and people
-- numbered, so that a question reads a few dozen bytes an event instead of
-- its row and tells people apart by number. Derived data: deleting the rows
-- and the fold's cursor rebuilds them from the log.
CREATE TABLE insight_facts (
    id         BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL,
    day        BIGINT NOT NULL, -- ms since the epoch, a whole UTC day
    min_ts     BIGINT NOT NULL,
    max_ts     BIGINT NOT NULL,
    rows       BIGINT NOT NULL,
    data       BYTEA NOT NULL
);
-- A chunk is dense already: stored out of line without compression, so
-- reading one costs no decompression.
ALTER TABLE insight_facts ALTER COLUMN data SET STORAGE EXTERNAL;
-- A question finds its chunks, and the fold a day's latest, without reading
-- the chunks themselves.
CREATE INDEX insight_facts_day ON insight_facts (project_id, day, id) INCLUDE (min_ts, max_ts, rows);

CREATE TABLE insight_people (
    id         BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL,
    person     TEXT NOT NULL,
    identified BOOLEAN NOT NULL,
    -- (project_id, person) first: a link's alias is either kind of id.
    UNIQUE (project_id, person, identified)
);

-- Until now the facts fold only moved its cursor here. It starts again from
-- the first event, and questions read the log until it is near the end.
DELETE FROM processor_cursors WHERE name = 'facts';
