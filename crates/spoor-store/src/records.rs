//! The records the store reads and writes, independent of any backend.

use serde::Serialize;
use spoor_core::Event;

#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    /// Keep whole client addresses instead of truncating them.
    pub keep_full_ip: bool,
    pub created_at: i64,
}

pub struct NewKey {
    pub project_id: i64,
    pub name: String,
    pub hash: String,
    pub prefix: String,
    pub domains: Vec<String>,
    pub rate_limit_per_minute: u32,
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
    pub name: String,
    pub hash: String,
    pub prefix: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct TokenRecord {
    pub id: i64,
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
}

impl EventQuery {
    /// The query's WHERE, ORDER BY and LIMIT clauses, in SQL both backends speak,
    /// with parameters written by `placeholder` (given 1, 2, ...), and their values.
    pub(crate) fn where_clause(&self, placeholder: fn(usize) -> String) -> (String, Vec<i64>) {
        let mut args = vec![self.project_id];
        let mut sql = format!(" WHERE project_id = {}", placeholder(1));
        if let Some(since) = self.since {
            args.push(since);
            sql.push_str(&format!(" AND ts >= {}", placeholder(args.len())));
        }
        if let Some(until) = self.until {
            args.push(until);
            sql.push_str(&format!(" AND ts < {}", placeholder(args.len())));
        }
        if let Some((ts, seq)) = self.after {
            args.extend([ts, seq]);
            let op = if self.newest_first { "<" } else { ">" };
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
#[derive(Clone, Debug, Serialize)]
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
