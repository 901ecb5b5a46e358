//! The SQLite backend: the embedded default store, `spoor.db` in the data directory.
//!
//! All SQLite SQL lives in this module. The database runs in WAL mode, so readers
//! never wait for the writer; `synchronous=FULL` makes every commit durable before
//! it returns, which is what lets the server answer 2xx only after a commit.
//!
//! Two files: `spoor.db` holds the event log and everything that is not derived
//! from it (projects, keys, accounts, tombstones, job runs); `spoor-derived.db`
//! holds what the processors derive (rollups, sessions, people, their cursors).
//! SQLite has one write lock per file, so the processors' writes never make the
//! event writer wait. Every connection but the writer's attaches the derived
//! file as `derived`, and statements name its tables unqualified.

mod accounts;
mod alerts;
mod backup;
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
mod people;
mod pipeline;
mod rollups;
mod sessions;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rusqlite::{Connection, OptionalExtension, Row, params};
use spoor_core::{Enrichment, Event, MessageType};

pub use writer::SqliteWriter;

use crate::pool::{Pool, Pooled};
use crate::records::EVENT_COLUMNS;
use crate::{EventQuery, KeyRecord, Project, StoreError, StoreResult, StoredEvent};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "0001_init", include_str!("migrations/0001_init.sql")),
    (
        2,
        "0002_coordination",
        include_str!("migrations/0002_coordination.sql"),
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
        "0007_derived_file",
        include_str!("migrations/0007_derived_file.sql"),
    ),
    (
        8,
        "0008_widgets",
        include_str!("migrations/0008_widgets.sql"),
    ),
    (
        9,
        "0009_friction",
        include_str!("migrations/0009_friction.sql"),
    ),
    (10, "0010_files", include_str!("migrations/0010_files.sql")),
    (
        11,
        "0011_pipeline",
        include_str!("migrations/0011_pipeline.sql"),
    ),
    (
        12,
        "0012_key_limits",
        include_str!("migrations/0012_key_limits.sql"),
    ),
    (
        13,
        "0013_people",
        include_str!("migrations/0013_people.sql"),
    ),
    (
        14,
        "0014_boards",
        include_str!("migrations/0014_boards.sql"),
    ),
    (15, "0015_goals", include_str!("migrations/0015_goals.sql")),
    (
        16,
        "0016_segments",
        include_str!("migrations/0016_segments.sql"),
    ),
];
/// The derived file's migrations, recorded in its own `schema_migrations`.
const DERIVED_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "0001_derived", include_str!("derived/0001_derived.sql")),
    (
        2,
        "0002_metering",
        include_str!("derived/0002_metering.sql"),
    ),
    (
        3,
        "0003_friction",
        include_str!("derived/0003_friction.sql"),
    ),
    (4, "0004_crm", include_str!("derived/0004_crm.sql")),
    (
        5,
        "0005_session_lookups",
        include_str!("derived/0005_session_lookups.sql"),
    ),
    (
        6,
        "0006_crm_applied",
        include_str!("derived/0006_crm_applied.sql"),
    ),
    (
        7,
        "0007_person_properties",
        include_str!("derived/0007_person_properties.sql"),
    ),
    (
        8,
        "0008_insight_facts",
        include_str!("derived/0008_insight_facts.sql"),
    ),
    (
        9,
        "0009_insight_fact_parts",
        include_str!("derived/0009_insight_fact_parts.sql"),
    ),
    (
        10,
        "0010_insight_people",
        include_str!("derived/0010_insight_people.sql"),
    ),
    (
        11,
        "0011_insight_fact_header",
        include_str!("derived/0011_insight_fact_header.sql"),
    ),
    (
        12,
        "0012_insight_fact_numbers",
        include_str!("derived/0012_insight_fact_numbers.sql"),
    ),
    (
        13,
        "0013_insight_fact_keys",
        include_str!("derived/0013_insight_fact_keys.sql"),
    ),
    (
        14,
        "0014_crm_contacts_sorts",
        include_str!("derived/0014_crm_contacts_sorts.sql"),
    ),
];
/// The event log's file (and everything not derived from it) in the data
/// directory.
pub const LOG_FILE: &str = "spoor.db";
/// The derived file's name, beside [`LOG_FILE`].
pub const DERIVED_FILE: &str = "spoor-derived.db";
/// Bytes of the derived file the connections that answer reads map into
/// memory (64 GiB: the whole file; the build raises SQLite's own bound to
/// this, `.cargo/config.toml`), where they would copy each page they read
/// into their page cache. A question of the insights reads tens
/// of megabytes of their chunks, more than any page cache the memory budget
/// gives a reader: copied page by page, with a system call each, this was
/// 40% of a trend's time. Mapped pages are the kernel's page cache, which
/// holds them read or mapped alike (and charges them to the process's
/// cgroup alike); mapped, they show in the process's RSS as shared file pages
/// (`RssFile`), which the kernel takes back when memory is short. Only reads
/// are mapped: SQLite writes with system calls, as before.
const DERIVED_MAP_BYTES: i64 = 0x10_0000_0000;
/// Pooled connections at most. WAL readers do not block one another, and the server
/// has few threads that read at once.
const POOL_SIZE: usize = 8;
/// How long a statement waits for a lock held by another process (the CLI beside a
/// running server) before failing.
const BUSY_TIMEOUT_MS: u64 = 5_000;

/// Connections the pipeline's reads use (the log, and the derived rows a
/// fold looks up). Their own, so that their page caches hold the derived
/// tables they keep reading (a pooled connection shared with request handlers
/// would come to them cold).
const PROCESSOR_POOL_SIZE: usize = 2;

/// Prepared statements the pipeline's connections keep (rusqlite keeps 16 by
/// default). Its passes run about fifty distinct statements (every fold's
/// reads and writes; 51 prepared in a 100,000-event catch-up with room for
/// them all), so with 16 kept each pass prepared about fifty again, a parse
/// and plan of some 65,000 instructions each. A kept statement is a few
/// kilobytes.
const PIPELINE_STATEMENTS: usize = 64;

#[derive(Clone)]
pub struct SqliteStore {
    path: Arc<PathBuf>,
    derived_path: Arc<PathBuf>,
    /// Connections for reads and the rare small writes (keys, projects, tokens);
    /// the writer thread has its own.
    pool: Arc<Pool<Connection>>,
    /// Connections for the pipeline's reads.
    processor_pool: Arc<Pool<Connection>>,
    /// The pipeline's connection, opened on first use: a pass's transaction,
    /// and the CRM's reads of contacts, which it rewrites all over their table
    /// and its indexes, so its page cache is the budget's largest.
    pipeline_conn: Arc<OnceLock<Mutex<Connection>>>,
    /// When the pipeline's open transaction began, while it holds passes
    /// (`pipeline.rs`); taken after `pipeline_conn`'s lock.
    passes_held: Arc<Mutex<Option<std::time::Instant>>>,
}

/// Waits for a lock held by another connection. SQLite's own handler sleeps in
/// growing steps of up to 100 ms, so a writer that found the lock held for 2 ms
/// by a checkpoint slept 100 ms (seen as p99 latency spikes); this one retries
/// every 200 µs, up to the same overall timeout.
fn retry_busy(attempt: i32) -> bool {
    const STEP_US: u64 = 200;
    if u64::try_from(attempt)
        .unwrap_or(u64::MAX)
        .saturating_mul(STEP_US)
        >= BUSY_TIMEOUT_MS * 1_000
    {
        return false;
    }
    std::thread::sleep(std::time::Duration::from_micros(STEP_US));
    true
}

/// Opens a connection with the settings every Spoor connection shares, with
/// the derived file attached as `derived` when one is given.
fn connect(path: &Path, cache_kib: i64, derived: Option<(&Path, i64)>) -> StoreResult<Connection> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Database(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_handler(Some(retry_busy))?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -{cache_kib};"
    ))?;
    if let Some((derived, derived_cache_kib)) = derived {
        let name = derived.to_str().ok_or_else(|| {
            StoreError::Database(format!("{} is not a UTF-8 path", derived.display()))
        })?;
        conn.execute("ATTACH DATABASE ?1 AS derived", [name])
            .map_err(|e| StoreError::Database(format!("cannot open {name}: {e}")))?;
        // NORMAL: in WAL mode a commit is still atomic, but reaches the disk at
        // the next checkpoint. Derived rows and their cursor commit together, so
        // a power cut can only take both back to an earlier pass, which is read
        // again.
        conn.execute_batch(&format!(
            "PRAGMA derived.journal_mode = WAL;
             PRAGMA derived.synchronous = NORMAL;
             PRAGMA derived.cache_size = -{derived_cache_kib};"
        ))?;
    }
    Ok(conn)
}

/// Starts a transaction that writes the derived file, by writing first: a
/// deferred transaction takes a file's write lock on its first write to it,
/// where `BEGIN IMMEDIATE` would take every attached file's, the event log's
/// too, and make the event writer wait for the whole pass. `first_write` must
/// write a derived table.
fn derived_transaction<'c>(
    conn: &'c mut Connection,
    first_write: &str,
    params: impl rusqlite::Params,
) -> StoreResult<rusqlite::Transaction<'c>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
    tx.prepare_cached(first_write)?.execute(params)?;
    Ok(tx)
}

/// Runs a batch of reads in one read transaction. Each statement run on its
/// own is a transaction of its own, which takes and gives back the WAL's read
/// lock: two `fcntl` system calls per lookup, about a tenth of the pipeline's
/// CPU when its passes looked rows up one at a time. Inside a transaction
/// already, the reads simply join it.
fn read_batch<T>(
    conn: &Connection,
    reads: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    if !conn.is_autocommit() {
        return reads(conn);
    }
    let tx = conn.unchecked_transaction()?;
    let out = reads(&tx)?;
    tx.commit()?;
    Ok(out)
}

fn key_from_row(row: &Row) -> rusqlite::Result<KeyRecord> {
    let domains: String = row.get("domains")?;
    Ok(KeyRecord {
        id: row.get("id")?,
        project_id: row.get("project_id")?,
        project: row.get("project")?,
        name: row.get("name")?,
        prefix: row.get("prefix")?,
        domains: serde_json::from_str(&domains).unwrap_or_default(),
        rate_limit_per_minute: row.get("rate_limit_per_minute")?,
        per_address_rate_limit_per_minute: row.get("per_address_rate_limit_per_minute")?,
        active: row.get("active")?,
        keep_full_ip: row.get("keep_full_ip")?,
        created_at: row.get("created_at")?,
        last_used_at: row.get("last_used_at")?,
    })
}

const KEY_SELECT: &str =
    "SELECT k.id, k.project_id, p.name AS project, k.name, k.prefix, k.domains,
        k.rate_limit_per_minute, k.per_address_rate_limit_per_minute, k.active, p.keep_full_ip,
        k.created_at, k.last_used_at
    FROM api_keys k JOIN projects p ON p.id = k.project_id";

fn project_from_row(row: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        name: row.get("name")?,
        keep_full_ip: row.get("keep_full_ip")?,
        created_at: row.get("created_at")?,
    })
}

fn event_from_row(row: &Row) -> rusqlite::Result<StoredEvent> {
    use crate::records::event_column as at;
    let kind: String = row.get(at::KIND)?;
    Ok(StoredEvent {
        seq: row.get(at::SEQ)?,
        project_id: row.get(at::PROJECT_ID)?,
        event: Event {
            message_id: row.get(at::MESSAGE_ID)?,
            dedup_ts: row.get(at::DEDUP_TS)?,
            kind: MessageType::parse(&kind).unwrap_or(MessageType::Track),
            name: row.get(at::NAME)?,
            user_id: row.get(at::USER_ID)?,
            anonymous_id: row.get(at::ANONYMOUS_ID)?,
            session_id: row.get(at::SESSION_ID)?,
            timestamp: row.get(at::TIMESTAMP)?,
            received_at: row.get(at::RECEIVED_AT)?,
            url: row.get(at::URL)?,
            referrer: row.get(at::REFERRER)?,
            enrichment: Enrichment {
                ip: row.get(at::IP)?,
                country: row.get(at::COUNTRY)?,
                region: row.get(at::REGION)?,
                city: row.get(at::CITY)?,
                browser: row.get(at::BROWSER)?,
                browser_version: row.get(at::BROWSER_VERSION)?,
                os: row.get(at::OS)?,
                os_version: row.get(at::OS_VERSION)?,
                device_type: row.get(at::DEVICE_TYPE)?,
                is_bot: row.get(at::IS_BOT)?,
            },
            body: row.get(at::BODY)?,
        },
    })
}

impl SqliteStore {
    pub fn open(data_dir: &Path) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Database(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join(LOG_FILE);
        let derived = data_dir.join(DERIVED_FILE);
        let budget = crate::budget::MemoryBudget::get();
        let reader_kib = budget.reader_cache_kib(POOL_SIZE + PROCESSOR_POOL_SIZE);
        let (at, derived_at) = (path.clone(), derived.clone());
        let pool = Pool::new(
            POOL_SIZE,
            Box::new(move || {
                let conn = connect(&at, reader_kib, Some((&derived_at, reader_kib / 2)))?;
                conn.execute_batch(&format!("PRAGMA derived.mmap_size = {DERIVED_MAP_BYTES}"))?;
                Ok(conn)
            }),
            |_| false,
        );
        let (at, derived_at) = (path.clone(), derived.clone());
        let processor_pool = Pool::new(
            PROCESSOR_POOL_SIZE,
            Box::new(move || {
                let conn = connect(&at, reader_kib, Some((&derived_at, reader_kib)))?;
                conn.set_prepared_statement_cache_capacity(PIPELINE_STATEMENTS);
                Ok(conn)
            }),
            |_| false,
        );
        let store = SqliteStore {
            path: Arc::new(path),
            derived_path: Arc::new(derived),
            pool: Arc::new(pool),
            processor_pool: Arc::new(processor_pool),
            pipeline_conn: Arc::new(OnceLock::new()),
            passes_held: Arc::new(Mutex::new(None)),
        };
        // SQLite's own bound on its heap, every connection together: past
        // it, page caches give pages back before they take new ones.
        let limit = i64::try_from(budget.sqlite_bytes()).unwrap_or(i64::MAX);
        store
            .conn()?
            .query_row(&format!("PRAGMA soft_heap_limit = {limit}"), [], |_| Ok(()))?;
        drop(store.conn()?);
        Ok(store)
    }

    fn conn(&self) -> StoreResult<Pooled<'_, Connection>> {
        self.pool.get()
    }

    /// A connection for a processor's pass (see [`PROCESSOR_POOL_SIZE`]).
    fn processor_conn(&self) -> StoreResult<Pooled<'_, Connection>> {
        self.processor_pool.get()
    }

    /// The pipeline's connection (see `pipeline_conn`).
    fn pipeline_conn(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        let kib = crate::budget::MemoryBudget::get().pipeline_cache_kib();
        self.own_conn(&self.pipeline_conn, kib)
    }

    /// A processor's own connection with this page cache for the derived
    /// file, opened on first use.
    fn own_conn<'a>(
        &self,
        cell: &'a OnceLock<Mutex<Connection>>,
        cache_kib: i64,
    ) -> StoreResult<MutexGuard<'a, Connection>> {
        if cell.get().is_none() {
            let conn = connect(&self.path, 1024, Some((&self.derived_path, cache_kib)))?;
            conn.set_prepared_statement_cache_capacity(PIPELINE_STATEMENTS);
            // One thread uses it; a connection made by a racing caller is dropped.
            let _ = cell.set(Mutex::new(conn));
        }
        let conn = cell.get().expect("set above");
        Ok(conn.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn key_where(&self, cond: &str, arg: impl rusqlite::ToSql) -> StoreResult<Option<KeyRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!("{KEY_SELECT} WHERE {cond}"))?;
        Ok(stmt.query_row([arg], key_from_row).optional()?)
    }
}

/// Applies the migrations of one file (`schema` is `main` or `derived`) that
/// its `schema_migrations` does not list yet.
fn apply_migrations(
    conn: &mut Connection,
    schema: &str,
    migrations: &[(i64, &str, &str)],
) -> StoreResult<Vec<String>> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    ))?;
    let mut applied = Vec::new();
    for (version, name, sql) in migrations {
        // IMMEDIATE: two processes starting at once must not both apply a migration.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: Option<i64> = tx
            .query_row(
                &format!("SELECT version FROM {schema}.schema_migrations WHERE version = ?1"),
                [version],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_none() {
            tx.execute_batch(sql)
                .map_err(|e| StoreError::Database(format!("migration {name} failed: {e}")))?;
            tx.execute(
                &format!(
                    "INSERT INTO {schema}.schema_migrations (version, name, applied_at)
                     VALUES (?1, ?2, ?3)"
                ),
                params![version, name, spoor_core::time::now_ms()],
            )?;
            applied.push(name.to_string());
        }
        tx.commit()?;
    }
    Ok(applied)
}

impl rusqlite::ToSql for crate::SqlArg {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            crate::SqlArg::Int(i) => i.to_sql(),
            crate::SqlArg::Text(t) => t.to_sql(),
        }
    }
}

impl crate::backend::LogStore for SqliteStore {
    fn events(&self, query: &EventQuery) -> StoreResult<Vec<StoredEvent>> {
        let mut out = Vec::new();
        self.for_each_event(query, &mut |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    fn for_each_event(
        &self,
        query: &EventQuery,
        f: &mut dyn FnMut(StoredEvent) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let conn = self.conn()?;
        let (filter, args) = query.where_clause(|n| format!("?{n}"));
        let mut stmt = conn.prepare(&format!("SELECT {EVENT_COLUMNS} FROM events{filter}"))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        while let Some(row) = rows.next()? {
            f(event_from_row(row)?)?;
        }
        Ok(())
    }

    fn count_events(&self, project_id: i64) -> StoreResult<u64> {
        let conn = self.conn()?;
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM events WHERE project_id = ?1",
            [project_id],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn event_by_seq(&self, project_id: i64, seq: i64) -> StoreResult<Option<StoredEvent>> {
        Ok(self
            .conn()?
            .query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE project_id = ?1 AND seq = ?2"),
                params![project_id, seq],
                event_from_row,
            )
            .optional()?)
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
            .query_row(
                "SELECT received_at FROM events
                 WHERE project_id = ?1 AND dedup_ts = 0 AND message_id = ?2 AND received_at >= ?3",
                params![project_id, message_id, since],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn writer(&self) -> StoreResult<Box<dyn crate::backend::LogWriter>> {
        Ok(Box::new(SqliteWriter::new(connect(
            &self.path,
            crate::budget::MemoryBudget::get().writer_cache_kib(),
            None,
        )?)?))
    }
}

impl crate::backend::Backend for SqliteStore {
    fn is_shared(&self) -> bool {
        false
    }

    fn migrate(&self) -> StoreResult<Vec<String>> {
        let mut conn = connect(&self.path, 2 * 1024, Some((&self.derived_path, 2 * 1024)))?;
        let mut applied = apply_migrations(&mut conn, "main", MIGRATIONS)?;
        applied.extend(apply_migrations(&mut conn, "derived", DERIVED_MIGRATIONS)?);
        customers::reapply_erasures(&mut conn)?;
        Ok(applied)
    }

    fn max_connections(&self) -> usize {
        POOL_SIZE
    }

    fn describe(&self) -> String {
        format!(
            "sqlite {} (derived data in {})",
            self.path.display(),
            self.derived_path.display()
        )
    }

    fn backup_into(&self, log: &Path, derived: &Path) -> StoreResult<()> {
        self.backup_files(log, derived)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The readers map the derived file whole: the build raised SQLite's own
    /// bound (2 GiB by default, which a pragma asking more is cut to).
    #[test]
    fn readers_map_the_derived_file_and_the_pipeline_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let mapped = |conn: &Connection| -> i64 {
            conn.query_row("PRAGMA derived.mmap_size", [], |r| r.get(0))
                .unwrap()
        };
        // More than SQLite's own bound, so that a build without the raised
        // bound reads back less.
        const { assert!(DERIVED_MAP_BYTES > 0x7fff_0000) };
        assert_eq!(mapped(&store.conn().unwrap()), DERIVED_MAP_BYTES);
        assert_eq!(mapped(&store.pipeline_conn().unwrap()), 0);
        assert_eq!(mapped(&store.processor_conn().unwrap()), 0);
    }
}
