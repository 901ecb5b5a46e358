-- A chunk's bytes in parts of 16 KiB, each its own row (id: the chunk's id
-- times 65,536 plus the part's number), instead of one blob: SQLite reaches a
-- byte of a blob by following its overflow pages from the first, so a
-- question that reads a few columns of a chunk read every page before them.
-- Now it reads the pages of the parts those columns lie in
-- (sqlite/facts.rs, `Stored`).
CREATE TABLE derived.insight_fact_parts (
    id   INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

INSERT INTO derived.insight_fact_parts (id, data)
WITH RECURSIVE part (chunk, n, size) AS (
    SELECT id, 0, length(data) FROM derived.insight_facts
    UNION ALL
    SELECT chunk, n + 1, size FROM part WHERE (n + 1) * 16384 < size
)
SELECT part.chunk * 65536 + part.n, substr(f.data, part.n * 16384 + 1, 16384)
FROM part JOIN derived.insight_facts f ON f.id = part.chunk;

ALTER TABLE derived.insight_facts ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
UPDATE derived.insight_facts SET bytes = length(data);
ALTER TABLE derived.insight_facts DROP COLUMN data;

-- A chunk's parts go with it, whatever deletes it.
CREATE TRIGGER derived.insight_fact_parts_go AFTER DELETE ON insight_facts
BEGIN
    DELETE FROM insight_fact_parts WHERE id BETWEEN old.id * 65536 AND old.id * 65536 + 65535;
END;
