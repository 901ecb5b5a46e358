//! The records the store reads and writes, independent of any backend.

use serde::Serialize;
use spoor_core::Event;

#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    /// Keep whole client addresses instead of truncating them.
    pub keep_full_ip: bool,
    pub created_at: i64,
}

/// A new key's limit of requests a minute, from every sender together: high
/// enough for a busy public site, whose every visitor's browser sends with the
/// site's one key (5,000 visitors at once, each sending a batch every few
/// seconds, make about 100,000 a minute). The per-address limit below is what
/// stops one abuser.
pub const DEFAULT_KEY_RATE_LIMIT: u32 = 100_000;
/// A new key's limit of requests a minute from one client address (an IPv6
/// /64): 20 a second. A visitor's browser sends a batch every few seconds, an
/// office behind one address a few dozen visitors' worth, and a back end
/// using Segment's or RudderStack's libraries batches its users' events into a
/// few requests a second. Loopback and private addresses are not limited (a
/// proxy Spoor was not told about, or a service on the same network). 0 turns
/// it off for a key.
pub const DEFAULT_PER_ADDRESS_RATE_LIMIT: u32 = 1_200;
/// The highest limit a key may have, either kind: far above what a node
/// serves, and within every backend's integer.
pub const MAX_RATE_LIMIT: u32 = 100_000_000;

pub struct NewKey {
    pub project_id: i64,
    pub name: String,
    pub hash: String,
    pub prefix: String,
    pub domains: Vec<String>,
    pub rate_limit_per_minute: u32,
    pub per_address_rate_limit_per_minute: u32,
}

/// What may change of a key after it is made; `None` leaves it as it is.
#[derive(Clone, Debug, Default)]
pub struct KeyChange {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub domains: Option<Vec<String>>,
    pub rate_limit_per_minute: Option<u32>,
    pub per_address_rate_limit_per_minute: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KeyRecord {
    pub id: i64,
    pub project_id: i64,
    pub project: String,
    pub name: String,
    pub prefix: String,
    pub domains: Vec<String>,
    pub rate_limit_per_minute: u32,
    /// Requests a minute from one client address (0: no such limit).
    pub per_address_rate_limit_per_minute: u32,
    pub active: bool,
    pub keep_full_ip: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// How a command names a key: by its numeric id or by the key itself.
#[derive(Clone, Debug)]
pub enum KeySelector {
    Id(i64),
    Hash(String),
}

pub struct NewToken {
    pub org_id: i64,
    pub name: String,
    pub hash: String,
    pub prefix: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TokenRecord {
    pub id: i64,
    /// The organisation whose projects the token may read.
    pub org_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Which events to read.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub project_id: i64,
    /// Event time at or after, ms.
    pub since: Option<i64>,
    /// Event time before, ms.
    pub until: Option<i64>,
    /// Continue after this (time, seq) position, exclusive, in the query's order.
    pub after: Option<(i64, i64)>,
    pub limit: Option<u32>,
    pub newest_first: bool,
    /// Only events that match all of these.
    pub filter: EventFilter,
}

/// Conditions on an event's fields, for the events explorer.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// The message type: track, page, identify, ...
    pub kind: Option<String>,
    /// The event name (track) or page name.
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub session_id: Option<String>,
    /// A part of the page URL.
    pub url_contains: Option<String>,
    /// Leave out events from bots.
    pub no_bots: bool,
}

/// A value bound to a placeholder in SQL that both backends speak.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlArg {
    Int(i64),
    Text(String),
}

impl EventQuery {
    /// The query's WHERE, ORDER BY and LIMIT clauses, in SQL both backends speak,
    /// with parameters written by `placeholder` (given 1, 2, ...), and their values.
    pub(crate) fn where_clause(&self, placeholder: fn(usize) -> String) -> (String, Vec<SqlArg>) {
        let mut args = vec![SqlArg::Int(self.project_id)];
        let mut sql = format!(" WHERE project_id = {}", placeholder(1));
        let mut add = |sql: &mut String, cond: &str, arg: SqlArg| {
            args.push(arg);
            sql.push_str(&cond.replace('#', &placeholder(args.len())));
        };
        if let Some(since) = self.since {
            add(&mut sql, " AND ts >= #", SqlArg::Int(since));
        }
        if let Some(until) = self.until {
            add(&mut sql, " AND ts < #", SqlArg::Int(until));
        }
        let f = &self.filter;
        let texts = [
            (" AND type = #", &f.kind),
            (" AND name = #", &f.name),
            (" AND user_id = #", &f.user_id),
            (" AND anonymous_id = #", &f.anonymous_id),
            (" AND session_id = #", &f.session_id),
        ];
        for (cond, value) in texts {
            if let Some(v) = value {
                add(&mut sql, cond, SqlArg::Text(v.clone()));
            }
        }
        if let Some(part) = &f.url_contains {
            // Case-insensitive on both stores (SQLite's LIKE is, PostgreSQL's is
            // not); LIKE's wildcards in the text itself match only themselves.
            let escaped = part
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            add(
                &mut sql,
                " AND lower(url) LIKE lower(#) ESCAPE '\\'",
                SqlArg::Text(format!("%{escaped}%")),
            );
        }
        if f.no_bots {
            sql.push_str(" AND NOT is_bot");
        }
        if let Some((ts, seq)) = self.after {
            let op = if self.newest_first { "<" } else { ">" };
            args.extend([SqlArg::Int(ts), SqlArg::Int(seq)]);
            let (a, b) = (placeholder(args.len() - 1), placeholder(args.len()));
            sql.push_str(&format!(" AND (ts, seq) {op} ({a}, {b})"));
        }
        let order = if self.newest_first { "DESC" } else { "ASC" };
        sql.push_str(&format!(" ORDER BY ts {order}, seq {order}"));
        if let Some(limit) = self.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        (sql, args)
    }
}

/// The event log's columns, in the order both backends select them. An event
/// is read back by position ([`event_column`]): a read by name compares the
/// name with every column's, which was 8% of the pipeline's instructions on
/// SQLite.
pub(crate) const EVENT_COLUMNS: &str =
    "seq, project_id, message_id, dedup_ts, type, name, user_id, anonymous_id,
    session_id, ts, received_at, url, referrer, ip, country, region, city, browser, browser_version,
    os, os_version, device_type, is_bot, body";

/// Each column's position in [`EVENT_COLUMNS`].
pub(crate) mod event_column {
    pub const SEQ: usize = 0;
    pub const PROJECT_ID: usize = 1;
    pub const MESSAGE_ID: usize = 2;
    pub const DEDUP_TS: usize = 3;
    pub const KIND: usize = 4;
    pub const NAME: usize = 5;
    pub const USER_ID: usize = 6;
    pub const ANONYMOUS_ID: usize = 7;
    pub const SESSION_ID: usize = 8;
    pub const TIMESTAMP: usize = 9;
    pub const RECEIVED_AT: usize = 10;
    pub const URL: usize = 11;
    pub const REFERRER: usize = 12;
    pub const IP: usize = 13;
    pub const COUNTRY: usize = 14;
    pub const REGION: usize = 15;
    pub const CITY: usize = 16;
    pub const BROWSER: usize = 17;
    pub const BROWSER_VERSION: usize = 18;
    pub const OS: usize = 19;
    pub const OS_VERSION: usize = 20;
    pub const DEVICE_TYPE: usize = 21;
    pub const IS_BOT: usize = 22;
    pub const BODY: usize = 23;
}

/// An event as stored, with its log position.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub seq: i64,
    pub project_id: i64,
    pub event: Event,
}

/// What one batch's append did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    pub accepted: usize,
    pub duplicates: usize,
}

/// A named right that one node holds until it expires, unless renewed.
#[derive(Clone, Debug, Serialize)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub expires_at: i64,
}

/// The last run of a scheduled job, whichever node ran it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct JobRun {
    pub name: String,
    pub node: String,
    pub started_at: i64,
    /// None while it runs (or when its node died while running it).
    pub finished_at: Option<i64>,
    pub ok: Option<bool>,
    /// What the run did, or why it failed.
    pub detail: String,
    /// Finished runs so far.
    pub runs: i64,
}

/// What a retention pass removed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Retention {
    /// Whole monthly partitions dropped (PostgreSQL).
    pub partitions_dropped: Vec<String>,
    /// Events deleted row by row.
    pub rows_deleted: u64,
}

/// What a project's retention removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProjectExpiry {
    pub events: u64,
    pub sessions: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

/// What a member of an organisation may do there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including the organisation's members.
    Owner,
    /// Projects and keys.
    Admin,
    /// Reads only.
    Viewer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn may_change(self) -> bool {
        self != Role::Viewer
    }
}

/// The first owner, made through the set-up link: valid only with the link's
/// token, unexpired, while no user exists (checked in the transaction that
/// makes them).
pub struct FirstOwner<'a> {
    pub token_hash: &'a str,
    /// Lowercase.
    pub email: &'a str,
    pub password_hash: &'a str,
    /// Made when no organisation has this name.
    pub org: &'a str,
    pub now: i64,
}

/// The setting that holds the set-up token's hash and when it expires, as
/// `HASH EXPIRES_MS`. Making any user removes it, in the same transaction.
pub(crate) const SETUP_TOKEN: &str = "setup_token";

pub(crate) fn setup_token_value(hash: &str, expires_at: i64) -> String {
    format!("{hash} {expires_at}")
}

/// Whether a stored set-up token is this hash and unexpired at `now`.
pub(crate) fn setup_token_admits(stored: Option<&str>, hash: &str, now: i64) -> bool {
    let Some((stored_hash, expires)) = stored.and_then(|s| s.split_once(' ')) else {
        return false;
    };
    stored_hash == hash && expires.parse::<i64>().is_ok_and(|e| now < e)
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// A user's place in one organisation.
#[derive(Clone, Debug, Serialize)]
pub struct Membership {
    pub org_id: i64,
    pub org: String,
    pub role: Role,
}

/// A signed-in browser session.
#[derive(Clone, Debug)]
pub struct WebSession {
    pub user_id: i64,
    /// Sent back by the dashboard in `X-CSRF-Token` on every change.
    pub csrf_token: String,
    pub expires_at: i64,
}

/// One of a person's signed-in browser sessions, as listed to them.
#[derive(Clone, Debug)]
pub struct WebSessionInfo {
    /// The SHA-256 of the cookie's value (never the value itself).
    pub id_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Which of a person's sessions to end.
#[derive(Clone, Copy, Debug)]
pub enum SessionsToEnd<'a> {
    All,
    /// Every one but the session with this hash (the caller's own).
    AllBut(&'a str),
    /// The one whose hash starts with this (the id the API shows).
    Starting(&'a str),
}

/// A person in an organisation, as its members list shows them.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// What to do to one member.
#[derive(Clone, Copy, Debug)]
pub enum MemberChange {
    Role(Role),
    Remove,
}

/// An invitation to make.
pub struct NewInvite<'a> {
    pub org_id: i64,
    pub token_hash: &'a str,
    pub role: Role,
    /// Lowercase; only this address may accept, when given.
    pub email: Option<&'a str>,
    pub created_by: Option<i64>,
    pub now: i64,
    pub expires_at: i64,
}

/// A pending invitation.
#[derive(Clone, Debug, Serialize)]
pub struct Invite {
    pub id: i64,
    pub org_id: i64,
    /// The organisation's name.
    pub org: String,
    pub role: Role,
    pub email: Option<String>,
    /// The email of who made it, while they have an account.
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Who accepts an invitation.
#[derive(Clone, Copy, Debug)]
pub enum Joiner<'a> {
    /// A signed-in person.
    Existing(i64),
    /// A new account, made in the same transaction.
    New {
        email: &'a str,
        password_hash: &'a str,
    },
}

/// How accepting an invitation ended. Every refusal changes nothing, and an
/// accepted invitation is used up in the transaction that adds the member.
#[derive(Clone, Debug)]
pub enum Joined {
    Member(User, Membership),
    /// No unexpired invitation has this token.
    NotValid,
    /// The invitation names another email.
    OtherEmail,
    /// The person is in the organisation already.
    AlreadyMember,
    /// A new account was asked for with an email that has one.
    EmailTaken,
}

#[cfg(test)]
mod tests {
    use super::{EVENT_COLUMNS, event_column as at};

    #[test]
    fn event_column_positions_name_their_columns() {
        let names: Vec<&str> = EVENT_COLUMNS.split(',').map(str::trim).collect();
        let positions = [
            (at::SEQ, "seq"),
            (at::PROJECT_ID, "project_id"),
            (at::MESSAGE_ID, "message_id"),
            (at::DEDUP_TS, "dedup_ts"),
            (at::KIND, "type"),
            (at::NAME, "name"),
            (at::USER_ID, "user_id"),
            (at::ANONYMOUS_ID, "anonymous_id"),
            (at::SESSION_ID, "session_id"),
            (at::TIMESTAMP, "ts"),
            (at::RECEIVED_AT, "received_at"),
            (at::URL, "url"),
            (at::REFERRER, "referrer"),
            (at::IP, "ip"),
            (at::COUNTRY, "country"),
            (at::REGION, "region"),
            (at::CITY, "city"),
            (at::BROWSER, "browser"),
            (at::BROWSER_VERSION, "browser_version"),
            (at::OS, "os"),
            (at::OS_VERSION, "os_version"),
            (at::DEVICE_TYPE, "device_type"),
            (at::IS_BOT, "is_bot"),
            (at::BODY, "body"),
        ];
        assert_eq!(names.len(), positions.len(), "every column has a position");
        for (at, name) in positions {
            assert_eq!(names[at], name, "position {at}");
        }
    }
}
