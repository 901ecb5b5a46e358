-- Each key gets a limit per client address (records.rs:
-- DEFAULT_PER_ADDRESS_RATE_LIMIT; 0 turns it off), which is what stops one
-- abuser, so the key's own limit can fit a busy public site. Keys still at
-- the old default of 1,000 requests a minute, which every browser of a site
-- shared, get the new default (DEFAULT_KEY_RATE_LIMIT).
ALTER TABLE api_keys ADD COLUMN per_address_rate_limit_per_minute INTEGER NOT NULL DEFAULT 1200;
UPDATE api_keys SET rate_limit_per_minute = 100000 WHERE rate_limit_per_minute = 1000;
