//! Spoor's storage. [`Store`] is the one interface the server and the CLI use; each
//! backend (SQLite, the embedded default, and PostgreSQL) keeps its SQL and its
//! migrations in its own module, and the rest of the code never sees which one runs.
//!
//! The API is synchronous: the server calls the store from its writer thread, from
//! blocking tasks, or (for the key lookup on every request) in place on a worker
//! that has been told it blocks.

pub mod analytics;
pub mod backend;
// The rules live in `spoor-domain`; they stay reachable here under the paths
// the store's callers use.
pub use spoor_domain::{alerts, closed, crm, files, friction, insights, metering, traits};
pub mod budget;
pub mod crm_world;
pub mod customers;
mod error;
mod fact_chunks;
mod key_touches;
pub mod pg;
pub mod pipeline;
mod pool;
mod records;
pub mod sessions;
pub mod sqlite;
pub mod working_set;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use backend::{Backend, LogWriter};
pub use error::{StoreError, StoreResult};

/// The storage traits, for code that holds a backend itself (not a `Store`)
/// to bring into scope with `use spoor_store::prelude::*` (unnamed, so they
/// clash with nothing).
pub mod prelude {
    pub use crate::backend::{
        AccountStore as _, AlertStore as _, Backend as _, BoardStore as _, CoordinationStore as _,
        CrmStore as _, CustomerStore as _, DefinitionStore as _, FileRecords as _,
        FrictionStore as _, InsightStore as _, LogStore as _, MeteringStore as _, PeopleStore as _,
        PipelineStore as _, RollupStore as _, SessionStore as _,
    };
    pub use crate::crm_world::CrmReads as _;
}
pub use records::*;

use spoor_core::Event;

/// Where the store lives.
#[derive(Clone, Debug)]
pub enum StoreConfig {
    /// The embedded default: `spoor.db` in this directory.
    Sqlite { data_dir: PathBuf },
    /// A PostgreSQL database.
    Postgres(pg::PgConfig),
}

impl StoreConfig {
    pub fn sqlite(data_dir: impl AsRef<Path>) -> StoreConfig {
        StoreConfig::Sqlite {
            data_dir: data_dir.as_ref().to_path_buf(),
        }
    }
}

/// How long a project keeps raw events and sessions unless set otherwise
/// (seed 004's recommendation); people's summaries are kept.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// The setting that holds a project's retention in days.
fn retention_setting(project_id: i64) -> String {
    format!("retention:{project_id}")
}

/// The setting that holds a project's CRM configuration.
fn crm_setting(project_id: i64) -> String {
    format!("crm:{project_id}")
}

/// A handle on the store; cheap to clone and share between threads. It derefs
/// to the backend, whose traits ([`backend`]) carry every operation (a trait
/// object's supertraits' methods need no import: `store.alert_rules(..)`
/// works anywhere); what is here combines them with the domain's rules.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

impl std::ops::Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &(dyn Backend + 'static) {
        &*self.backend
    }
}

/// The one writer of the event log. Exactly one exists per server; it appends many
/// requests' events in one transaction (group commit).
pub struct EventWriter {
    inner: Box<dyn LogWriter>,
}

impl Store {
    /// Opens the store, creating it when absent, and applies pending migrations.
    pub fn open(config: &StoreConfig) -> StoreResult<Store> {
        let store = match config {
            StoreConfig::Sqlite { data_dir } => {
                Store::from_backend(Arc::new(sqlite::SqliteStore::open(data_dir)?))
            }
            StoreConfig::Postgres(config) => {
                Store::from_backend(Arc::new(pg::PgStore::open(config.clone())?))
            }
        };
        store.migrate()?;
        Ok(store)
    }

    /// A store over any backend, as it is (no migrations run).
    pub fn from_backend(backend: Arc<dyn Backend>) -> Store {
        Store { backend }
    }

    /// Whether calls wait on the network (PostgreSQL) rather than only on local
    /// disk: async callers should then move them off the runtime's workers.
    pub fn waits_on_network(&self) -> bool {
        self.backend.is_shared()
    }

    pub fn writer(&self) -> StoreResult<EventWriter> {
        Ok(EventWriter {
            inner: self.backend.writer()?,
        })
    }

    /// Starts the one-time set-up: the token whose hash is given makes the
    /// first owner until `expires_at` (ms), unless a user is made first.
    pub fn set_setup_token(&self, token_hash: &str, expires_at: i64) -> StoreResult<()> {
        self.set_setting(
            records::SETUP_TOKEN,
            &records::setup_token_value(token_hash, expires_at),
        )
    }
    /// Whether the set-up token with this hash would make the first owner at
    /// `now`: it is the current one, unexpired, and no user exists. A cheap
    /// check before a password is hashed; [`Store::create_first_owner`]
    /// checks again in its transaction.
    pub fn setup_open(&self, token_hash: &str, now: i64) -> StoreResult<bool> {
        let stored = self.setting(records::SETUP_TOKEN)?;
        Ok(
            records::setup_token_admits(stored.as_deref(), token_hash, now)
                && self.count_users()? == 0,
        )
    }

    /// Totals, a time series and top lists for a project and a time range, as
    /// of `now` (see [`analytics`]).
    pub fn overview(
        &self,
        q: &analytics::OverviewQuery,
        now: i64,
    ) -> StoreResult<analytics::Overview> {
        analytics::overview(self, q, now)
    }

    /// Deletes what a processor derived and its cursor, in one transaction, so
    /// that its next pass starts again from the first event.
    pub fn reset_processor(&self, name: &str) -> StoreResult<()> {
        let tables: &[&str] = match name {
            analytics::ROLLUP_PROCESSOR => &["rollup_hours", "rollup_dims"],
            sessions::SESSION_PROCESSOR => &["sessions", "customers", "identities"],
            metering::METERING_PROCESSOR => &["call_sessions", "usage_days"],
            friction::FRICTION_PROCESSOR => &[
                "friction_sessions",
                "heatmap_cells",
                "heatmap_elements",
                "page_days",
                "scroll_days",
                "error_issues",
                "error_days",
                "error_sessions",
                "vital_days",
            ],
            pipeline::FACTS_PROCESSOR => self.backend.facts_tables(),
            other => {
                return Err(StoreError::Invalid(format!(
                    "no processor named {other:?}; there are {}, {}, {}, {} and {}",
                    analytics::ROLLUP_PROCESSOR,
                    sessions::SESSION_PROCESSOR,
                    metering::METERING_PROCESSOR,
                    friction::FRICTION_PROCESSOR,
                    pipeline::FACTS_PROCESSOR
                )));
            }
        };
        self.backend.reset_tables(name, tables)
    }

    /// How far the slowest fold is behind the log.
    pub fn pipeline_backlog(&self) -> StoreResult<pipeline::Backlog> {
        let mut slowest: Option<analytics::Cursor> = None;
        for fold in pipeline::FOLDS {
            let c = self.processor_cursor(fold)?.unwrap_or_default();
            if slowest.is_none_or(|s| (c.xid, c.seq) < (s.xid, s.seq)) {
                slowest = Some(c);
            }
        }
        self.backlog_after(slowest.unwrap_or_default())
    }
    /// How far the log goes past `cursor` (the pipeline's own, which it holds
    /// in memory).
    pub fn backlog_after(&self, cursor: analytics::Cursor) -> StoreResult<pipeline::Backlog> {
        let (events, first_unread) = self.backend.log_backlog(cursor)?;
        Ok(pipeline::Backlog {
            events,
            ms: first_unread.map_or(0, |at| spoor_core::time::now_ms().saturating_sub(at).max(0)),
        })
    }

    /// A project's customer-event mapping (the defaults when none was set).
    pub fn customer_events(&self, project_id: i64) -> StoreResult<customers::CustomerEvents> {
        match self.setting(&customers::CustomerEvents::setting(project_id))? {
            Some(json) => customers::CustomerEvents::parse(&json).map_err(StoreError::Invalid),
            None => Ok(customers::CustomerEvents::default()),
        }
    }
    pub fn set_customer_events(
        &self,
        project_id: i64,
        map: &customers::CustomerEvents,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(map)
            .map_err(|e| StoreError::Invalid(format!("the mapping does not serialise: {e}")))?;
        self.set_setting(&customers::CustomerEvents::setting(project_id), &json)
    }

    /// A project's retention in days for raw events and sessions (0: kept for
    /// ever); [`DEFAULT_RETENTION_DAYS`] unless set.
    pub fn project_retention(&self, project_id: i64) -> StoreResult<u32> {
        match self.setting(&retention_setting(project_id))? {
            Some(days) => days.parse().map_err(|_| {
                StoreError::Invalid(format!("project {project_id}'s retention is not a number"))
            }),
            None => Ok(DEFAULT_RETENTION_DAYS),
        }
    }
    pub fn set_project_retention(&self, project_id: i64, days: u32) -> StoreResult<()> {
        self.set_setting(&retention_setting(project_id), &days.to_string())
    }

    /// A usage report: each widget's totals per period over the days in
    /// `[from, to)` (ms; days are UTC), optionally one widget's.
    pub fn usage(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        group: metering::Group,
        widget: Option<&str>,
    ) -> StoreResult<Vec<metering::UsageRow>> {
        let days = self.backend.usage_days(project_id, from, to, widget)?;
        Ok(metering::group_days(days, group))
    }

    /// The friction report over the filter's days (see [`friction`]).
    pub fn friction_report(&self, f: &friction::Filter) -> StoreResult<friction::FrictionReport> {
        let days = f.days;
        let rows = self.backend.friction_rows(f)?;
        let previous = friction::Filter {
            days: days.previous(),
            ..f.clone()
        };
        let previous = self.backend.friction_counts(&previous)?;
        Ok(friction::friction_report(days, &rows, &previous))
    }
    /// The sessions where the filter's friction happened, newest first.
    pub fn friction_sessions(
        &self,
        f: &friction::Filter,
        limit: usize,
    ) -> StoreResult<Vec<friction::FrictionSession>> {
        let rows = self.backend.friction_rows(f)?;
        Ok(friction::friction_sessions(&rows, limit))
    }

    /// The errors report: issues with their counts in the filter's days.
    pub fn errors_report(
        &self,
        f: &friction::Filter,
        status: friction::IssueStatus,
        with_series: bool,
    ) -> StoreResult<friction::ErrorsReport> {
        let days = f.days;
        let issues = self
            .backend
            .error_issues(f.project_id, f.fingerprint.as_deref())?;
        let rows = self.backend.error_day_rows(f)?;
        let people = self.backend.error_people(f)?;
        Ok(friction::errors_report(
            days,
            status,
            issues,
            &rows,
            &people,
            with_series,
        ))
    }
    pub fn error_issue(
        &self,
        project_id: i64,
        fingerprint: &str,
    ) -> StoreResult<Option<friction::IssueRecord>> {
        Ok(self
            .backend
            .error_issues(project_id, Some(fingerprint))?
            .into_iter()
            .next())
    }

    /// The web vitals report over the filter's days.
    pub fn vitals_report(&self, f: &friction::Filter) -> StoreResult<friction::VitalsReport> {
        let days = f.days;
        let rows = self.backend.vital_rows(f)?;
        Ok(friction::vitals_report(days, &rows))
    }
    /// The events alerts measure, with event time in `[from, to)`.
    pub fn alert_signals(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<alerts::Signal>> {
        let rows = self.backend.alert_signal_rows(project_id, from, to)?;
        Ok(rows
            .into_iter()
            .map(|(kind, name, url, body)| alerts::Signal {
                kind,
                name,
                url,
                body,
            })
            .collect())
    }

    /// The stored contacts, identities, visitors and applied events these
    /// events touch, from the cache where it has them.
    pub fn crm_world(
        &self,
        events: &[crm::CrmEvent],
        configs: &crm::Configs,
        cache: &mut crm_world::CrmCache,
    ) -> StoreResult<crm::CrmWorld> {
        crm_world::read_world(&*self.backend, events, configs, cache)
    }

    /// The lead-status funnel of a project under its configuration.
    pub fn crm_funnel(&self, project_id: i64, config: &crm::CrmConfig) -> StoreResult<crm::Funnel> {
        let (reached, current) = self.backend.crm_funnel_counts(project_id)?;
        Ok(crm::funnel(config, &reached, &current))
    }

    /// A project's CRM configuration (the default until one is set).
    pub fn crm_config(&self, project_id: i64) -> StoreResult<crm::CrmConfig> {
        match self.setting(&crm_setting(project_id))? {
            Some(json) => crm::CrmConfig::parse(&json).map_err(StoreError::Invalid),
            None => Ok(crm::CrmConfig::default()),
        }
    }
    /// Sets a project's CRM configuration. A new half-life rescales stored
    /// scores so that every score stays what it is now.
    pub fn set_crm_config(
        &self,
        project_id: i64,
        config: &crm::CrmConfig,
        now: i64,
    ) -> StoreResult<()> {
        let old = self.crm_config(project_id)?;
        let json = serde_json::to_string(config)
            .map_err(|e| StoreError::Invalid(format!("the CRM configuration: {e}")))?;
        if old.scoring.half_life_days != config.scoring.half_life_days {
            let factor = config.scale(now) / old.scale(now);
            self.backend.crm_rescale(project_id, factor)?;
        }
        self.set_setting(&crm_setting(project_id), &json)
    }

    /// A project's own storage quota in bytes, if one was set.
    pub fn file_quota(&self, project_id: i64) -> StoreResult<Option<i64>> {
        Ok(self
            .setting(&files::quota_setting(project_id))?
            .and_then(|v| v.parse().ok()))
    }
    pub fn set_file_quota(&self, project_id: i64, bytes: i64) -> StoreResult<()> {
        self.set_setting(&files::quota_setting(project_id), &bytes.to_string())
    }
}

impl EventWriter {
    /// Appends the batches in one transaction and commits durably. Returns, per
    /// batch, how many events were new and how many were duplicates. On error
    /// nothing of any batch was stored.
    pub fn append(&mut self, batches: &[Batch<'_>], now: i64) -> StoreResult<Vec<Appended>> {
        self.inner.append(batches, now)
    }
}

/// One request's events, for [`EventWriter::append`].
pub struct Batch<'a> {
    pub project_id: i64,
    pub key_id: Option<i64>,
    pub events: &'a [Event],
}
