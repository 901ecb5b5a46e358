-- Insights' chunks now keep a property's pairs together, key by key, with
-- the keys right after the header (format SPF5), so that a question about
-- one event's property (the amounts of orders) reads that property's pairs
-- and not every row's properties. The chunks made before go, with the facts
-- fold's cursor; the pipeline makes them again from the log, and questions
-- read the log until it has (as after `spoor rebuild facts`). People keep
-- their numbers.
DELETE FROM derived.insight_fact_parts;
DELETE FROM derived.insight_facts;
DELETE FROM derived.processor_cursors WHERE name = 'facts';
