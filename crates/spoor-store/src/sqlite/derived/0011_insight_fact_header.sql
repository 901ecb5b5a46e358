-- Insights' chunks now begin with a header that holds every column's width
-- (format SPF3), so that a question reading a few columns finds them with one
-- read of the chunk's first bytes, where it touched every part of the chunk
-- to find them. The chunks made before go, with the facts fold's cursor; the
-- pipeline makes them again from the log, and questions read the log until
-- it has (as after `spoor rebuild facts`). People keep their numbers.
DELETE FROM derived.insight_fact_parts;
DELETE FROM derived.insight_facts;
DELETE FROM derived.processor_cursors WHERE name = 'facts';
