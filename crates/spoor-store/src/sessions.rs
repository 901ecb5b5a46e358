//! Sessions: the rules are `spoor-domain`'s (`spoor_domain::sessions`),
//! re-exported here under the path the store's callers use; what is the
//! store's is the columns both backends read and write.

pub use spoor_domain::sessions::*;

/// A session's columns, in order (both backends).
pub const SESSION_COLUMNS: &str = "project_id, session_id, identity, user_id, anonymous_id, \
    started_at, last_seen_at, ended_at, end_reason, entry_url, exit_url, pageviews, events, \
    device_type, browser, os, country, region, city, ip, browser_version, os_version";
