-- A person's properties: the traits their identify calls set, each key's
-- latest value with the event time it was set at ({"plan": ["pro", AT]}),
-- NULL when none (spoor-domain/src/traits.rs). Insights filter people by them.
ALTER TABLE customers ADD COLUMN properties TEXT;
