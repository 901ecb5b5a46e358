//! The PostgreSQL backend: what teams run in production, and what several Spoor
//! nodes share. All PostgreSQL SQL lives in this module.
//!
//! Spoor keeps its tables in one schema (`spoor` by default), creates it when it
//! may, and needs no superuser: the role needs to own that schema or have CREATE
//! in it. Every connection sets the schema as its search path and a statement
//! timeout.
//!
//! A pass looks up many rows by their unique keys at once (people, sessions'
//! identities, contacts' ids). Such a lookup probes the key's index once a
//! key, `CROSS JOIN LATERAL (… LIMIT 1)` over the keys' arrays, never a join
//! with them: the planner, pricing index probes as disk reads, hashed the
//! whole table once a pass's keys numbered hundreds, so each pass cost as
//! much as the table was large (28 ms for 2,000 keys among 100,000 people,
//! 12 ms probed) and a catch-up slowed as it went. `LIMIT 1` keeps the
//! subquery from being turned back into a join.

mod accounts;
mod alerts;
mod boards;
mod coordination;
mod crm;
mod customers;
mod definitions;
mod facts;
mod files;
mod friction;
mod insights;
mod metering;
mod partitions;
mod people;
mod pipeline;
mod rollups;
pub mod scratch;
mod sessions;
mod tls;
mod writer;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};
use spoor_core::{Enrichment, Event, MessageType};
use tokio_postgres_rustls::MakeRustlsConnect;

pub use writer::PgWriter;

use crate::pool::{Pool, Pooled};
use crate::records::EVENT_COLUMNS;
use crate::{
    EventQuery, KeyRecord, Project, SqlArg, StoreError, StoreResult, StoredEvent, TokenRecord,
};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "0001_init", include_str!("migrations/0001_init.sql")),
    (
        2,
        "0002_partitions_and_coordination",
        include_str!("migrations/0002_partitions_and_coordination.sql"),
    ),
    (
        3,
        "0003_accounts",
        include_str!("migrations/0003_accounts.sql"),
    ),
    (
        4,
        "0004_rollups",
        include_str!("migrations/0004_rollups.sql"),
    ),
    (
        5,
        "0005_sessions",
        include_str!("migrations/0005_sessions.sql"),
    ),
    (
        6,
        "0006_customers",
        include_str!("migrations/0006_customers.sql"),
    ),
    (
        7,
        "0007_session_versions",
        include_str!("migrations/0007_session_versions.sql"),
    ),
    (
        8,
        "0008_metering",
        include_str!("migrations/0008_metering.sql"),
    ),
    (
        9,
        "0009_friction",
        include_str!("migrations/0009_friction.sql"),
    ),
    (10, "0010_crm", include_str!("migrations/0010_crm.sql")),
    (11, "0011_files", include_str!("migrations/0011_files.sql")),
    (
        12,
        "0012_login_attempts",
        include_str!("migrations/0012_login_attempts.sql"),
    ),
    (
        13,
        "0013_pipeline",
        include_str!("migrations/0013_pipeline.sql"),
    ),
    (
        14,
        "0014_key_limits",
        include_str!("migrations/0014_key_limits.sql"),
    ),
    (
        15,
        "0015_people",
        include_str!("migrations/0015_people.sql"),
    ),
    (
        16,
        "0016_crm_applied",
        include_str!("migrations/0016_crm_applied.sql"),
    ),
    (
        17,
        "0017_boards",
        include_str!("migrations/0017_boards.sql"),
    ),
    (18, "0018_goals", include_str!("migrations/0018_goals.sql")),
    (
        19,
        "0019_segments",
        include_str!("migrations/0019_segments.sql"),
    ),
    (
        20,
        "0020_person_properties",
        include_str!("migrations/0020_person_properties.sql"),
    ),
    (
        21,
        "0021_insight_facts",
        include_str!("migrations/0021_insight_facts.sql"),
    ),
    (
        22,
        "0022_insight_fact_header",
        include_str!("migrations/0022_insight_fact_header.sql"),
    ),
    (
        23,
        "0023_insight_fact_numbers",
        include_str!("migrations/0023_insight_fact_numbers.sql"),
    ),
    (
        24,
        "0024_insight_fact_keys",
        include_str!("migrations/0024_insight_fact_keys.sql"),
    ),
    (
        25,
        "0025_sessions_hot",
        include_str!("migrations/0025_sessions_hot.sql"),
    ),
    (
        26,
        "0026_customers_hot",
        include_str!("migrations/0026_customers_hot.sql"),
    ),
];

/// Where and how to reach PostgreSQL.
#[derive(Clone, Debug)]
pub struct PgConfig {
    /// A libpq-style URL or key=value string.
    pub url: String,
    /// The schema that holds Spoor's tables.
    pub schema: String,
    /// Pooled connections at most (the writer has one more of its own).
    pub pool_size: usize,
    /// Longest a statement may run.
    pub statement_timeout: Duration,
    /// CA certificates (PEM) the server's certificate must chain to; without
    /// them, TLS encrypts without checking the certificate (libpq's `require`).
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Clone)]
pub struct PgStore {
    config: Arc<PgConfig>,
    tls: MakeRustlsConnect,
    pool: Arc<Pool<PgConn>>,
}

/// A connection and the statements prepared on it: preparing the hot statements
/// (the key lookup on every request) once per connection saves a round trip and a
/// plan each time.
pub(crate) struct PgConn {
    client: Client,
    prepared: HashMap<String, Statement>,
}

impl PgConn {
    fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.prepared.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

impl std::ops::Deref for PgConn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Database(match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        })
    }
}

/// A schema name Spoor will put in SQL: a plain lowercase identifier.
fn check_schema(schema: &str) -> StoreResult<()> {
    let mut chars = schema.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 63;
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "schema {schema:?} must be a lowercase identifier (letters, digits, _), at most 63 characters"
        )))
    }
}

/// An error and the errors that caused it, as one line ("error performing TLS
/// handshake: invalid peer certificate: ..."), so the sender learns what to fix.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

fn connect(config: &PgConfig, tls: &MakeRustlsConnect) -> StoreResult<Client> {
    let mut client = Client::connect(&config.url, tls.clone()).map_err(|e| {
        StoreError::Database(format!("cannot connect to PostgreSQL: {}", with_causes(&e)))
    })?;
    client.batch_execute(&format!(
        "SET search_path TO {}; SET statement_timeout = {};",
        config.schema,
        config.statement_timeout.as_millis()
    ))?;
    Ok(client)
}

fn key_from_row(row: &Row) -> KeyRecord {
    let domains: String = row.get("domains");
    let limit: i32 = row.get("rate_limit_per_minute");
    let per_address: i32 = row.get("per_address_rate_limit_per_minute");
    KeyRecord {
        id: row.get("id"),
        project_id: row.get("project_id"),
        project: row.get("project"),
        name: row.get("name"),
        prefix: row.get("prefix"),
        domains: serde_json::from_str(&domains).unwrap_or_default(),
        rate_limit_per_minute: u32::try_from(limit).unwrap_or(0),
        per_address_rate_limit_per_minute: u32::try_from(per_address).unwrap_or(0),
        active: row.get("active"),
        keep_full_ip: row.get("keep_full_ip"),
        created_at: row.get("created_at"),
        last_used_at: row.get("last_used_at"),
    }
}

const KEY_SELECT: &str =
    "SELECT k.id, k.project_id, p.name AS project, k.name, k.prefix, k.domains,
        k.rate_limit_per_minute, k.per_address_rate_limit_per_minute, k.active, p.keep_full_ip,
        k.created_at, k.last_used_at
    FROM api_keys k JOIN projects p ON p.id = k.project_id";

const PROJECT_SELECT: &str = "SELECT id, org_id, name, keep_full_ip, created_at FROM projects";

fn project_from_row(row: &Row) -> Project {
    Project {
        id: row.get("id"),
        org_id: row.get("org_id"),
        name: row.get("name"),
        keep_full_ip: row.get("keep_full_ip"),
        created_at: row.get("created_at"),
    }
}

fn token_from_row(row: &Row) -> TokenRecord {
    TokenRecord {
        id: row.get("id"),
        org_id: row.get("org_id"),
        name: row.get("name"),
        prefix: row.get("prefix"),
        created_at: row.get("created_at"),
        last_used_at: row.get("last_used_at"),
    }
}

fn event_from_row(row: &Row) -> StoredEvent {
    use crate::records::event_column as at;
    let kind: String = row.get(at::KIND);
    StoredEvent {
        seq: row.get(at::SEQ),
        project_id: row.get(at::PROJECT_ID),
        event: Event {
            message_id: row.get(at::MESSAGE_ID),
            dedup_ts: row.get(at::DEDUP_TS),
            kind: MessageType::parse(&kind).unwrap_or(MessageType::Track),
            name: row.get(at::NAME),
            user_id: row.get(at::USER_ID),
            anonymous_id: row.get(at::ANONYMOUS_ID),
            session_id: row.get(at::SESSION_ID),
            timestamp: row.get(at::TIMESTAMP),
            received_at: row.get(at::RECEIVED_AT),
            url: row.get(at::URL),
            referrer: row.get(at::REFERRER),
            enrichment: Enrichment {
                ip: row.get(at::IP),
                country: row.get(at::COUNTRY),
                region: row.get(at::REGION),
                city: row.get(at::CITY),
                browser: row.get(at::BROWSER),
                browser_version: row.get(at::BROWSER_VERSION),
                os: row.get(at::OS),
                os_version: row.get(at::OS_VERSION),
                device_type: row.get(at::DEVICE_TYPE),
                is_bot: row.get(at::IS_BOT),
            },
            body: row.get(at::BODY),
        },
    }
}

fn params(args: &[SqlArg]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter()
        .map(|a| match a {
            SqlArg::Int(i) => i as &(dyn ToSql + Sync),
            SqlArg::Text(t) => t as &(dyn ToSql + Sync),
        })
        .collect()
}

fn now() -> i64 {
    spoor_core::time::now_ms()
}

impl PgStore {
    pub fn open(config: PgConfig) -> StoreResult<PgStore> {
        check_schema(&config.schema)?;
        let tls = tls::connector(config.ca_file.as_deref())?;
        let config = Arc::new(config);
        let (for_pool, tls_for_pool) = (config.clone(), tls.clone());
        let pool = Pool::new(
            config.pool_size,
            Box::new(move || {
                Ok(PgConn {
                    client: connect(&for_pool, &tls_for_pool)?,
                    prepared: HashMap::new(),
                })
            }),
            PgConn::is_closed,
        );
        let store = PgStore {
            config,
            tls,
            pool: Arc::new(pool),
        };
        drop(store.conn()?);
        Ok(store)
    }

    pub fn statement_timeout(&self) -> Duration {
        self.config.statement_timeout
    }

    fn conn(&self) -> StoreResult<Pooled<'_, PgConn>> {
        self.pool.get()
    }

    fn key_where(&self, cond: &str, arg: &(dyn ToSql + Sync)) -> StoreResult<Option<KeyRecord>> {
        let row = self
            .conn()?
            .query_opt(&format!("{KEY_SELECT} WHERE {cond}"), &[arg])?;
        Ok(row.map(|r| key_from_row(&r)))
    }
}

impl crate::backend::LogStore for PgStore {
    fn events(&self, query: &EventQuery) -> StoreResult<Vec<StoredEvent>> {
        let (filter, args) = query.where_clause(|n| format!("${n}"));
        let rows = self.conn()?.query(
            &format!("SELECT {EVENT_COLUMNS} FROM events{filter}"),
            &params(&args),
        )?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    fn for_each_event(
        &self,
        query: &EventQuery,
        f: &mut dyn FnMut(StoredEvent) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let (filter, args) = query.where_clause(|n| format!("${n}"));
        let mut conn = self.conn()?;
        // A portal read in slices keeps memory constant however many rows match.
        let mut tx = conn.transaction()?;
        let portal = tx.bind(
            &format!("SELECT {EVENT_COLUMNS} FROM events{filter}"),
            &params(&args),
        )?;
        loop {
            let rows = tx.query_portal(&portal, 1_000)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                f(event_from_row(row))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn count_events(&self, project_id: i64) -> StoreResult<u64> {
        let n: i64 = self
            .conn()?
            .query_one(
                "SELECT count(*) FROM events WHERE project_id = $1",
                &[&project_id],
            )?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn event_by_seq(&self, project_id: i64, seq: i64) -> StoreResult<Option<StoredEvent>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE project_id = $1 AND seq = $2"),
                &[&project_id, &seq],
            )?
            .map(|r| event_from_row(&r)))
    }

    /// When the message stored with this id and no client timestamp arrived,
    /// if it arrived at or after `since`.
    fn message_received_at(
        &self,
        project_id: i64,
        message_id: &str,
        since: i64,
    ) -> StoreResult<Option<i64>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT received_at FROM events
                 WHERE project_id = $1 AND dedup_ts = 0 AND message_id = $2 AND received_at >= $3",
                &[&project_id, &message_id, &since],
            )?
            .map(|r| r.get(0)))
    }

    fn writer(&self) -> StoreResult<Box<dyn crate::backend::LogWriter>> {
        let config = self.config.clone();
        let tls = self.tls.clone();
        Ok(Box::new(PgWriter::new(Box::new(move || {
            connect(&config, &tls)
        }))?))
    }
}

impl crate::backend::Backend for PgStore {
    fn migrate(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.conn()?;
        let schema = &self.config.schema;
        let exists = conn
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[schema])?
            .is_some();
        if !exists {
            conn.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).map_err(|e| {
                StoreError::Database(format!(
                    "cannot create schema {schema} ({e}); create it for Spoor's role, or give the role CREATE on the database"
                ))
            })?;
        }
        conn.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )?;
        let mut applied = Vec::new();
        for (version, name, sql) in MIGRATIONS {
            let mut tx = conn.transaction()?;
            // Nodes starting at once take turns; the one that comes second finds
            // the migration applied.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                &[&format!("spoor-migrate:{schema}")],
            )?;
            let done = tx
                .query_opt(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    &[version],
                )?
                .is_some();
            if !done {
                tx.batch_execute(sql)
                    .map_err(|e| StoreError::Database(format!("migration {name} failed: {e}")))?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    &[version, name, &now()],
                )?;
                applied.push(name.to_string());
            }
            tx.commit()?;
        }
        Ok(applied)
    }

    fn max_connections(&self) -> usize {
        self.config.pool_size
    }

    fn describe(&self) -> String {
        format!("postgresql schema {}", self.config.schema)
    }

    fn is_shared(&self) -> bool {
        true
    }
}
