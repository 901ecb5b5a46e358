-- Insights' chunks now keep a property's pairs together, key by key (format
-- SPF5; see the SQLite store's derived migration 13). The chunks made before
-- go, with the facts fold's cursor; the pipeline makes them again from the
-- log, and questions read the log until it has. People keep their numbers.
DELETE FROM insight_facts;
DELETE FROM processor_cursors WHERE name = 'facts';
