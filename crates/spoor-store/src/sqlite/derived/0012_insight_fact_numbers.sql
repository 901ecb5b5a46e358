-- Insights' chunks now keep a property's integer values (amounts, counts) in
-- its values column itself, not in the chunk's dictionary (format SPF4), so
-- that a sum of a property reads no string. The chunks made before go, with
-- the facts fold's cursor; the pipeline makes them again from the log, and
-- questions read the log until it has (as after `spoor rebuild facts`).
-- People keep their numbers.
DELETE FROM derived.insight_fact_parts;
DELETE FROM derived.insight_facts;
DELETE FROM derived.processor_cursors WHERE name = 'facts';
