//! Spoor's storage. [`Store`] is the one interface the server and the CLI use; each
//! backend (SQLite, the embedded default, and PostgreSQL) keeps its SQL and its
//! migrations in its own module, and the rest of the code never sees which one runs.
//!
//! The API is synchronous: the server calls the store from its writer thread, from
//! blocking tasks, or (for the key lookup on every request) in place on a worker
//! that has been told it blocks.

pub mod analytics;
// The rules live in `spoor-domain`; they stay reachable here under the paths
// the store's callers use.
pub use spoor_domain::{alerts, crm, files, friction, metering};
pub mod budget;
pub mod crm_world;
pub mod customers;
mod error;
mod key_touches;
pub mod pg;
pub mod pipeline;
mod pool;
mod records;
pub mod sessions;
pub mod sqlite;
pub mod working_set;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use error::{StoreError, StoreResult};
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

/// A handle on the store; cheap to clone and share between threads.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(pg::PgStore),
}

/// The one writer of the event log. Exactly one exists per server; it appends many
/// requests' events in one transaction (group commit).
pub struct EventWriter {
    inner: WriterBackend,
}

// One writer exists per process, so the variants' size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum WriterBackend {
    Sqlite(sqlite::SqliteWriter),
    Postgres(pg::PgWriter),
}

macro_rules! dispatch {
    ($self:expr, $s:ident => $body:expr) => {
        match &$self.backend {
            Backend::Sqlite($s) => $body,
            Backend::Postgres($s) => $body,
        }
    };
}

impl Store {
    /// Opens the store, creating it when absent, and applies pending migrations.
    pub fn open(config: &StoreConfig) -> StoreResult<Store> {
        let store = match config {
            StoreConfig::Sqlite { data_dir } => Store {
                backend: Backend::Sqlite(sqlite::SqliteStore::open(data_dir)?),
            },
            StoreConfig::Postgres(config) => Store {
                backend: Backend::Postgres(pg::PgStore::open(config.clone())?),
            },
        };
        store.migrate()?;
        Ok(store)
    }

    /// Applies the migrations this version has and the store lacks; returns their names.
    pub fn migrate(&self) -> StoreResult<Vec<String>> {
        dispatch!(self, s => s.migrate())
    }

    /// Writes consistent copies of the embedded store's two files (see
    /// `sqlite::SqliteStore::backup_into`); PostgreSQL is backed up with its
    /// own tools.
    pub fn backup_into(&self, log: &Path, derived: &Path) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.backup_into(log, derived),
            Backend::Postgres(_) => Err(StoreError::Invalid(
                "spoor backup copies the embedded store; back PostgreSQL up with pg_dump or \
                 its continuous archiving (see docs/operations.md)"
                    .into(),
            )),
        }
    }

    /// Whether calls wait on the network (PostgreSQL) rather than only on local
    /// disk: async callers should then move them off the runtime's workers.
    pub fn waits_on_network(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Connections the store opens at most for calls (the writer's aside).
    pub fn max_connections(&self) -> usize {
        dispatch!(self, s => s.max_connections())
    }

    /// A description of where the data is, for logs.
    pub fn describe(&self) -> String {
        dispatch!(self, s => s.describe())
    }

    pub fn writer(&self) -> StoreResult<EventWriter> {
        match &self.backend {
            Backend::Sqlite(s) => Ok(EventWriter {
                inner: WriterBackend::Sqlite(s.writer()?),
            }),
            Backend::Postgres(s) => Ok(EventWriter {
                inner: WriterBackend::Postgres(s.writer()?),
            }),
        }
    }

    /// A project in the organisation; names are unique in the store.
    pub fn create_project(&self, org_id: i64, name: &str) -> StoreResult<Project> {
        dispatch!(self, s => s.create_project(org_id, name))
    }
    pub fn project_by_id(&self, id: i64) -> StoreResult<Project> {
        dispatch!(self, s => s.project_by_id(id))
    }
    pub fn rename_project(&self, id: i64, name: &str) -> StoreResult<Project> {
        dispatch!(self, s => s.rename_project(id, name))
    }
    pub fn projects(&self) -> StoreResult<Vec<Project>> {
        dispatch!(self, s => s.projects())
    }
    /// A project by name; `NotFound` names the missing project.
    pub fn project(&self, name: &str) -> StoreResult<Project> {
        dispatch!(self, s => s.project(name))
    }
    pub fn set_keep_full_ip(&self, project: &str, keep: bool) -> StoreResult<Project> {
        dispatch!(self, s => s.set_keep_full_ip(project, keep))
    }

    pub fn create_key(&self, key: &NewKey) -> StoreResult<KeyRecord> {
        dispatch!(self, s => s.create_key(key))
    }
    pub fn keys(&self) -> StoreResult<Vec<KeyRecord>> {
        dispatch!(self, s => s.keys())
    }
    /// The key with this hash, active or not. The hot path of every ingestion request.
    pub fn key_by_hash(&self, hash: &str) -> StoreResult<Option<KeyRecord>> {
        dispatch!(self, s => s.key_by_hash(hash))
    }
    pub fn set_key_active(&self, key: &KeySelector, active: bool) -> StoreResult<KeyRecord> {
        dispatch!(self, s => s.set_key_active(key, active))
    }
    pub fn keys_of_project(&self, project_id: i64) -> StoreResult<Vec<KeyRecord>> {
        dispatch!(self, s => s.keys_of_project(project_id))
    }
    /// Changes what `change` names of a key (name, enabled, domains, limits).
    pub fn update_key(&self, id: i64, change: &KeyChange) -> StoreResult<KeyRecord> {
        dispatch!(self, s => s.update_key(id, change))
    }
    /// A deleted key gets 401 at once; the events it sent stay.
    pub fn delete_key(&self, id: i64) -> StoreResult<()> {
        dispatch!(self, s => s.delete_key(id))
    }

    pub fn create_org(&self, name: &str) -> StoreResult<Org> {
        dispatch!(self, s => s.create_org(name))
    }
    pub fn orgs(&self) -> StoreResult<Vec<Org>> {
        dispatch!(self, s => s.orgs())
    }
    /// An organisation by name; `NotFound` names it.
    pub fn org(&self, name: &str) -> StoreResult<Org> {
        dispatch!(self, s => s.org(name))
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
    /// Makes the first owner of an organisation (and of the first one, so
    /// what was collected before set-up stays visible), in one transaction
    /// that checks the set-up token and that no user exists, and ends the
    /// set-up. `None` when the token is wrong or expired, or a user exists.
    pub fn create_first_owner(&self, owner: &FirstOwner) -> StoreResult<Option<User>> {
        dispatch!(self, s => s.create_first_owner(owner))
    }

    /// Reserves sign-in attempts for every key at once, in one transaction
    /// shared by every node: `decide` sees each key's attempts (in the order
    /// given) and changes them, and what it leaves is stored. Only a shared
    /// store keeps them; see [`Store::is_shared`].
    pub fn login_attempts(
        &self,
        keys: &[String],
        decide: &mut dyn FnMut(&mut [spoor_core::login_backoff::Attempts]),
    ) -> StoreResult<()> {
        match &self.backend {
            Backend::Postgres(s) => s.login_attempts(keys, decide),
            Backend::Sqlite(_) => Err(StoreError::Invalid(
                "the embedded store is not shared: sign-in attempts are counted in the process"
                    .into(),
            )),
        }
    }

    /// A user; the email must be given lowercase. Ends the one-time set-up.
    pub fn create_user(&self, email: &str, password_hash: &str) -> StoreResult<User> {
        dispatch!(self, s => s.create_user(email, password_hash))
    }
    /// The user with this (lowercase) email and their password hash.
    pub fn user_login(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        dispatch!(self, s => s.user_login(email))
    }
    pub fn user(&self, id: i64) -> StoreResult<Option<User>> {
        dispatch!(self, s => s.user(id))
    }
    pub fn count_users(&self) -> StoreResult<u64> {
        dispatch!(self, s => s.count_users())
    }
    pub fn record_login(&self, user_id: i64) -> StoreResult<()> {
        dispatch!(self, s => s.record_login(user_id))
    }
    /// Gives the user this role in the organisation, replacing any other.
    pub fn set_role(&self, user_id: i64, org_id: i64, role: Role) -> StoreResult<()> {
        dispatch!(self, s => s.set_role(user_id, org_id, role))
    }
    pub fn memberships(&self, user_id: i64) -> StoreResult<Vec<Membership>> {
        dispatch!(self, s => s.memberships(user_id))
    }

    /// Records a browser session by the hash of its cookie value.
    pub fn create_web_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.create_web_session(id_hash, user_id, csrf_token, expires_at))
    }
    /// The session with this hash, unless it has expired.
    pub fn web_session(&self, id_hash: &str) -> StoreResult<Option<WebSession>> {
        dispatch!(self, s => s.web_session(id_hash))
    }
    pub fn delete_web_session(&self, id_hash: &str) -> StoreResult<()> {
        dispatch!(self, s => s.delete_web_session(id_hash))
    }

    /// Makes an organisation whose one member, its owner, is this user;
    /// `Conflict` when the name is taken.
    pub fn create_org_owned_by(&self, name: &str, user_id: i64, now: i64) -> StoreResult<Org> {
        dispatch!(self, s => s.create_org_owned_by(name, user_id, now))
    }
    /// An organisation's members, by email.
    pub fn org_members(&self, org_id: i64) -> StoreResult<Vec<Member>> {
        dispatch!(self, s => s.org_members(org_id))
    }
    /// Changes a member's role or removes them; `NotFound` when they are not a
    /// member, `Conflict` when the change would leave no owner (checked in the
    /// transaction that changes it).
    pub fn change_member(
        &self,
        org_id: i64,
        user_id: i64,
        change: MemberChange,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.change_member(org_id, user_id, change))
    }
    pub fn create_invite(&self, new: &NewInvite) -> StoreResult<Invite> {
        dispatch!(self, s => s.create_invite(new))
    }
    /// An organisation's unexpired invitations, newest first (expired ones are
    /// deleted).
    pub fn invites(&self, org_id: i64, now: i64) -> StoreResult<Vec<Invite>> {
        dispatch!(self, s => s.invites(org_id, now))
    }
    pub fn delete_invite(&self, org_id: i64, id: i64) -> StoreResult<()> {
        dispatch!(self, s => s.delete_invite(org_id, id))
    }
    /// The unexpired invitation with this token hash.
    pub fn invite(&self, token_hash: &str, now: i64) -> StoreResult<Option<Invite>> {
        dispatch!(self, s => s.invite(token_hash, now))
    }
    /// Uses up the invitation: the joiner (made now, for a new account)
    /// becomes a member with its role, all in one transaction.
    pub fn accept_invite(&self, token_hash: &str, joiner: Joiner, now: i64) -> StoreResult<Joined> {
        dispatch!(self, s => s.accept_invite(token_hash, joiner, now))
    }
    /// A password-reset link for the user, replacing any earlier one.
    pub fn create_password_reset(
        &self,
        user_id: i64,
        token_hash: &str,
        created_by: Option<i64>,
        expires_at: i64,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.create_password_reset(user_id, token_hash, created_by, expires_at))
    }
    /// Whose unexpired password-reset link this is.
    pub fn password_reset_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<User>> {
        dispatch!(self, s => s.password_reset_user(token_hash, now))
    }
    /// Uses up the reset link: the new password, and every session of the
    /// person ended, in one transaction; `None` when the link is not valid.
    pub fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<User>> {
        dispatch!(self, s => s.reset_password(token_hash, password_hash, now))
    }
    /// Sets the user's password and ends their sessions but the one kept;
    /// returns how many ended. Any reset link stops working.
    pub fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<u64> {
        dispatch!(self, s => s.set_password(user_id, password_hash, keep_session))
    }
    /// The user's unexpired sessions, newest first.
    pub fn web_sessions_of(&self, user_id: i64, now: i64) -> StoreResult<Vec<WebSessionInfo>> {
        dispatch!(self, s => s.web_sessions_of(user_id, now))
    }
    /// Ends some of the user's sessions; returns how many.
    pub fn end_web_sessions(&self, user_id: i64, which: SessionsToEnd) -> StoreResult<u64> {
        dispatch!(self, s => s.end_web_sessions(user_id, which))
    }

    pub fn set_setting(&self, name: &str, value: &str) -> StoreResult<()> {
        dispatch!(self, s => s.set_setting(name, value))
    }
    pub fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        dispatch!(self, s => s.setting(name))
    }
    /// Removes a setting and returns what it was: one caller gets it, once.
    pub fn take_setting(&self, name: &str) -> StoreResult<Option<String>> {
        dispatch!(self, s => s.take_setting(name))
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
    /// The overview's fields of a project's events in a time range.
    pub fn overview_rows(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
    ) -> StoreResult<Vec<analytics::TailRow>> {
        dispatch!(self, s => s.overview_rows(project_id, from, to, include_bots))
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
            other => {
                return Err(StoreError::Invalid(format!(
                    "no processor named {other:?}; there are {}, {}, {} and {}",
                    analytics::ROLLUP_PROCESSOR,
                    sessions::SESSION_PROCESSOR,
                    metering::METERING_PROCESSOR,
                    friction::FRICTION_PROCESSOR
                )));
            }
        };
        dispatch!(self, s => s.reset_processor(name, tables))
    }
    /// Up to `limit` events after `cursor`, in the pipeline's order, and only
    /// events nothing committed later can still come before (see
    /// [`pipeline`]).
    pub fn log_events_after(
        &self,
        cursor: analytics::Cursor,
        limit: i64,
    ) -> StoreResult<Vec<pipeline::LogEvent>> {
        dispatch!(self, s => s.log_events_after(cursor, limit))
    }
    /// Writes what a pipeline pass derived and moves the cursors of `folds`
    /// to `cursor` (never back: a fold ahead of the others keeps its own), in
    /// one transaction. `Conflict` when an erasure or a contact merge came
    /// between the pass's reads and this write: the pass is then read again.
    pub fn apply_pass(
        &self,
        folds: &[&str],
        cursor: analytics::Cursor,
        writes: &pipeline::PassWrites<'_>,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.apply_pass(folds, cursor, writes))
    }
    /// Commits what passes the backend holds uncommitted (see
    /// `PassWrites::more_follow`); the pipeline calls it when a pass finds
    /// the log's end, before a rebuild and when it stops.
    pub fn settle_passes(&self) -> StoreResult<()> {
        dispatch!(self, s => s.settle_passes())
    }
    /// Rolls back what passes the backend holds uncommitted, after a pass
    /// failed: the pipeline then reads from its stored cursors again.
    pub fn abandon_passes(&self) -> StoreResult<()> {
        dispatch!(self, s => s.abandon_passes())
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
        let after = cursor.seq;
        let (newest, first_unread) = dispatch!(self, s => s.log_backlog(after))?;
        Ok(pipeline::Backlog {
            events: newest.saturating_sub(after).max(0),
            ms: first_unread.map_or(0, |at| spoor_core::time::now_ms().saturating_sub(at).max(0)),
        })
    }
    /// The highest seq in the log (0 when empty).
    pub fn max_seq(&self) -> StoreResult<i64> {
        dispatch!(self, s => s.max_seq())
    }
    pub fn processor_cursor(&self, name: &str) -> StoreResult<Option<analytics::Cursor>> {
        dispatch!(self, s => s.processor_cursor(name))
    }
    /// Adds a processor pass's rollups and moves its cursor, atomically.
    pub fn apply_rollup(
        &self,
        name: &str,
        cursor: analytics::Cursor,
        delta: &analytics::RollupDelta,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.apply_rollup(name, cursor, delta))
    }
    /// Rollup rows of whole hours in `[from, to)`.
    pub fn rollup_hours(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
    ) -> StoreResult<Vec<(i64, analytics::HourRollup)>> {
        dispatch!(self, s => s.rollup_hours(project_id, from, to, include_bots))
    }
    /// The top `per_dim` values of each dimension over hours in `[from, to)`.
    pub fn rollup_top(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
        per_dim: usize,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        dispatch!(self, s => s.rollup_top(project_id, from, to, include_bots, per_dim))
    }

    pub fn session(
        &self,
        project_id: i64,
        session_id: &str,
    ) -> StoreResult<Option<sessions::Session>> {
        dispatch!(self, s => s.session(project_id, session_id))
    }
    /// The identity's latest session derived by inactivity.
    pub fn latest_derived_session(
        &self,
        project_id: i64,
        identity: &str,
    ) -> StoreResult<Option<sessions::Session>> {
        dispatch!(self, s => s.latest_derived_session(project_id, identity))
    }
    /// Writes sessions whole, with what the pass derived about people, and
    /// moves the processor's cursor, atomically. Refused (`Conflict`) when a
    /// person was erased after the pass read its events.
    pub fn put_sessions(
        &self,
        name: &str,
        cursor: analytics::Cursor,
        sessions: &[sessions::Session],
        people: &customers::People,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.put_sessions(name, cursor, sessions, people))
    }

    /// The sessions, links and people among these keys that are stored, in a
    /// statement per table (the sessions fold's reads of a pass at once).
    pub fn derived_rows(&self, keys: &working_set::Keys) -> StoreResult<working_set::Rows> {
        dispatch!(self, s => s.derived_rows(keys))
    }
    /// The user an anonymous or former id is linked to.
    pub fn linked_user(&self, project_id: i64, id: &str) -> StoreResult<Option<String>> {
        dispatch!(self, s => s.linked_user(project_id, id))
    }
    pub fn customer(
        &self,
        project_id: i64,
        identified: bool,
        person: &str,
    ) -> StoreResult<Option<customers::Customer>> {
        dispatch!(self, s => s.customer(project_id, identified, person))
    }
    /// Whether the id was erased (a tombstone stands for it).
    pub fn is_erased(&self, project_id: i64, id: &str) -> StoreResult<bool> {
        dispatch!(self, s => s.is_erased(project_id, id))
    }
    /// The newest erasure's mark (0 when there was none); it only grows.
    pub fn erasure_mark(&self) -> StoreResult<i64> {
        dispatch!(self, s => s.erasure_mark())
    }
    /// Tombstones (project, id, mark) newer than the mark.
    pub fn erased_since(&self, after: i64) -> StoreResult<Vec<(i64, String, i64)>> {
        dispatch!(self, s => s.erased_since(after))
    }
    /// One page of identified people, and how many match.
    pub fn customers_page(
        &self,
        q: &customers::CustomerQuery,
    ) -> StoreResult<(Vec<customers::Customer>, i64)> {
        dispatch!(self, s => s.customers_page(q))
    }
    /// A user's latest sessions, newest first.
    pub fn recent_sessions_of(
        &self,
        project_id: i64,
        user_id: &str,
        since: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<sessions::Session>> {
        dispatch!(self, s => s.recent_sessions_of(project_id, user_id, since, limit))
    }
    /// Seed 004's monitoring figures over sessions started since the time.
    pub fn session_monitoring(
        &self,
        project_id: i64,
        since: Option<i64>,
        week_start: i64,
    ) -> StoreResult<customers::Monitoring> {
        dispatch!(self, s => s.session_monitoring(project_id, since, week_start))
    }
    /// Erases a user, every id linked to them, and all that was derived from
    /// them, and leaves tombstones so that nothing of theirs is stored again.
    pub fn erase_person(
        &self,
        project_id: i64,
        user_id: &str,
        now: i64,
    ) -> StoreResult<customers::Erased> {
        dispatch!(self, s => s.erase_person(project_id, user_id, now))
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
    /// Ends open sessions last seen before the time, with reason `timeout`.
    pub fn end_idle_sessions(&self, last_seen_before: i64) -> StoreResult<u64> {
        dispatch!(self, s => s.end_idle_sessions(last_seen_before))
    }
    /// A project's sessions, newest first, optionally one user's, after a
    /// (started_at, session_id) position.
    pub fn sessions_page(
        &self,
        project_id: i64,
        user_id: Option<&str>,
        started_before: Option<(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<sessions::Session>> {
        dispatch!(self, s => s.sessions_page(project_id, user_id, started_before, limit))
    }

    /// When the message stored with this id and no client timestamp arrived,
    /// if it arrived at or after `since`.
    pub fn message_received_at(
        &self,
        project_id: i64,
        message_id: &str,
        since: i64,
    ) -> StoreResult<Option<i64>> {
        dispatch!(self, s => s.message_received_at(project_id, message_id, since))
    }

    pub fn event_by_seq(&self, project_id: i64, seq: i64) -> StoreResult<Option<StoredEvent>> {
        dispatch!(self, s => s.event_by_seq(project_id, seq))
    }

    pub fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        dispatch!(self, s => s.create_token(token))
    }
    /// The admin token with this hash; records that it was used.
    pub fn use_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        dispatch!(self, s => s.use_token(hash))
    }
    /// An organisation's admin tokens (never the tokens themselves).
    pub fn tokens_of_org(&self, org_id: i64) -> StoreResult<Vec<TokenRecord>> {
        dispatch!(self, s => s.tokens_of_org(org_id))
    }
    /// Revokes an organisation's admin token; `NotFound` when it has none
    /// with this id.
    pub fn delete_token(&self, org_id: i64, id: i64) -> StoreResult<()> {
        dispatch!(self, s => s.delete_token(org_id, id))
    }

    /// One page of events, in the query's order.
    pub fn events(&self, query: &EventQuery) -> StoreResult<Vec<StoredEvent>> {
        dispatch!(self, s => s.events(query))
    }
    /// Every event the query matches, oldest first, one at a time: memory stays
    /// constant however many there are.
    pub fn for_each_event(
        &self,
        query: &EventQuery,
        f: &mut dyn FnMut(StoredEvent) -> StoreResult<()>,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.for_each_event(query, f))
    }
    pub fn count_events(&self, project_id: i64) -> StoreResult<u64> {
        dispatch!(self, s => s.count_events(project_id))
    }

    /// Whether several processes share this store (PostgreSQL): then rate
    /// limits are counted in it rather than in each process.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Takes the lease `name` for `holder` for `ttl_ms` when it is free or has
    /// expired, or renews it when `holder` has it. True when `holder` holds it now.
    pub fn acquire_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> StoreResult<bool> {
        dispatch!(self, s => s.acquire_lease(name, holder, ttl_ms))
    }
    /// Gives the lease up, if `holder` has it, so another can take it at once.
    pub fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        dispatch!(self, s => s.release_lease(name, holder))
    }
    pub fn leases(&self) -> StoreResult<Vec<Lease>> {
        dispatch!(self, s => s.leases())
    }

    /// Records that `node` started the job `name`.
    pub fn job_started(&self, name: &str, node: &str) -> StoreResult<()> {
        dispatch!(self, s => s.job_started(name, node))
    }
    /// Records how the job's current run ended.
    pub fn job_finished(&self, name: &str, ok: bool, detail: &str) -> StoreResult<()> {
        dispatch!(self, s => s.job_finished(name, ok, detail))
    }
    /// The last run of every job that has run.
    pub fn job_runs(&self) -> StoreResult<Vec<JobRun>> {
        dispatch!(self, s => s.job_runs())
    }

    /// Counts `take` requests for the key in the one-minute window starting at
    /// `window_start` (ms) and returns the window's count after it. Only a
    /// shared store counts; see [`Store::is_shared`].
    pub fn take_rate_tokens(&self, key_id: i64, window_start: i64, take: i64) -> StoreResult<i64> {
        match &self.backend {
            Backend::Postgres(s) => s.take_rate_tokens(key_id, window_start, take),
            Backend::Sqlite(_) => Err(StoreError::Invalid(
                "the embedded store is not shared: rate limits are counted in the process".into(),
            )),
        }
    }

    /// Makes the event log's partitions for the coming months (PostgreSQL; the
    /// embedded store has none). Returns the ones it made.
    pub fn maintain_partitions(&self, now: i64) -> StoreResult<Vec<String>> {
        match &self.backend {
            Backend::Postgres(s) => s.maintain_partitions(now),
            Backend::Sqlite(_) => Ok(Vec::new()),
        }
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
    /// Deletes a project's events older than `cutoff` (ms, by event time) and
    /// its sessions last seen before it. People's summaries stay.
    pub fn expire_project(&self, project_id: i64, cutoff: i64) -> StoreResult<ProjectExpiry> {
        dispatch!(self, s => s.expire_project(project_id, cutoff))
    }

    pub fn create_widget(&self, widget: &metering::Widget) -> StoreResult<metering::Widget> {
        dispatch!(self, s => s.create_widget(widget))
    }
    /// The widget with this id, active or not. The hot path of widget tracking.
    pub fn widget(&self, id: &str) -> StoreResult<Option<metering::Widget>> {
        dispatch!(self, s => s.widget(id))
    }
    /// A project's widgets (every project's with `None`), oldest first.
    pub fn widgets(&self, project_id: Option<i64>) -> StoreResult<Vec<metering::Widget>> {
        dispatch!(self, s => s.widgets(project_id))
    }
    pub fn update_widget(
        &self,
        id: &str,
        change: &metering::WidgetChange,
    ) -> StoreResult<metering::Widget> {
        dispatch!(self, s => s.update_widget(id, change))
    }
    /// The stored widget sessions among these keys.
    pub fn call_sessions(
        &self,
        keys: &[metering::SessionKey],
    ) -> StoreResult<Vec<metering::CallSession>> {
        dispatch!(self, s => s.call_sessions(keys))
    }
    /// Writes a metering pass's sessions and day totals and moves its cursor,
    /// atomically.
    pub fn apply_metering(
        &self,
        name: &str,
        cursor: analytics::Cursor,
        delta: &metering::MeteringDelta,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.apply_metering(name, cursor, delta))
    }
    /// Calls started before the time with no end of any kind, in the order of
    /// [`metering::OpenCallKey`], after the given one.
    pub fn open_calls(
        &self,
        started_before: i64,
        after: Option<&metering::OpenCallKey>,
        limit: i64,
    ) -> StoreResult<Vec<metering::CallSession>> {
        dispatch!(self, s => s.open_calls(started_before, after, limit))
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
        let days = dispatch!(self, s => s.usage_days(project_id, from, to, widget))?;
        Ok(metering::group_days(days, group))
    }

    /// Adds a friction pass's counts and moves its cursor, atomically.
    pub fn apply_friction(
        &self,
        name: &str,
        cursor: analytics::Cursor,
        delta: &friction::FrictionDelta,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.apply_friction(name, cursor, delta))
    }
    /// The friction report over the filter's days (see [`friction`]).
    pub fn friction_report(&self, f: &friction::Filter) -> StoreResult<friction::FrictionReport> {
        let days = f.days;
        let rows = dispatch!(self, s => s.friction_rows(f))?;
        let previous = friction::Filter {
            days: days.previous(),
            ..f.clone()
        };
        let previous = dispatch!(self, s => s.friction_counts(&previous))?;
        Ok(friction::friction_report(days, &rows, &previous))
    }
    /// The sessions where the filter's friction happened, newest first.
    pub fn friction_sessions(
        &self,
        f: &friction::Filter,
        limit: usize,
    ) -> StoreResult<Vec<friction::FrictionSession>> {
        let rows = dispatch!(self, s => s.friction_rows(f))?;
        Ok(friction::friction_sessions(&rows, limit))
    }
    /// A heatmap's cells (column, row, count) of one kind of click.
    pub fn heatmap_cells(
        &self,
        f: &friction::Filter,
        kind: &str,
    ) -> StoreResult<Vec<(i64, i64, i64)>> {
        dispatch!(self, s => s.heatmap_cells(f, kind))
    }
    /// The most-clicked elements (selector, text, count).
    pub fn heatmap_elements(
        &self,
        f: &friction::Filter,
        kind: &str,
        limit: i64,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        dispatch!(self, s => s.heatmap_elements(f, kind, limit))
    }
    /// Per page: clicks, rage clicks, dead clicks, views, widest viewport and
    /// tallest document.
    pub fn page_totals(&self, f: &friction::Filter) -> StoreResult<Vec<(String, [i64; 6])>> {
        dispatch!(self, s => s.page_totals(f))
    }
    /// Page views per deepest scroll, in tens of percent.
    pub fn scroll_depths(&self, f: &friction::Filter) -> StoreResult<Vec<(i64, i64)>> {
        dispatch!(self, s => s.scroll_depths(f))
    }
    /// The errors report: issues with their counts in the filter's days.
    pub fn errors_report(
        &self,
        f: &friction::Filter,
        status: friction::IssueStatus,
        with_series: bool,
    ) -> StoreResult<friction::ErrorsReport> {
        let days = f.days;
        let issues = dispatch!(self, s => s.error_issues(f.project_id, f.fingerprint.as_deref()))?;
        let rows = dispatch!(self, s => s.error_day_rows(f))?;
        let people = dispatch!(self, s => s.error_people(f))?;
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
        Ok(
            dispatch!(self, s => s.error_issues(project_id, Some(fingerprint)))?
                .into_iter()
                .next(),
        )
    }
    /// Issues first received after the time (new-error alerts).
    pub fn new_issues(
        &self,
        project_id: i64,
        received_after: i64,
    ) -> StoreResult<Vec<friction::IssueRecord>> {
        dispatch!(self, s => s.new_issues(project_id, received_after))
    }
    /// Marks an issue resolved at the time, or open again with `None`.
    pub fn set_issue_resolved(
        &self,
        project_id: i64,
        fingerprint: &str,
        resolved_at: Option<i64>,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.set_issue_resolved(project_id, fingerprint, resolved_at))
    }
    /// The web vitals report over the filter's days.
    pub fn vitals_report(&self, f: &friction::Filter) -> StoreResult<friction::VitalsReport> {
        let days = f.days;
        let rows = dispatch!(self, s => s.vital_rows(f))?;
        Ok(friction::vitals_report(days, &rows))
    }
    /// The events alerts measure, with event time in `[from, to)`.
    pub fn alert_signals(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<alerts::Signal>> {
        let rows = dispatch!(self, s => s.alert_signals(project_id, from, to))?;
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

    pub fn create_alert_rule(&self, rule: &alerts::AlertRule) -> StoreResult<alerts::AlertRule> {
        dispatch!(self, s => s.create_alert_rule(rule))
    }
    pub fn alert_rule(&self, id: i64) -> StoreResult<Option<alerts::AlertRule>> {
        dispatch!(self, s => s.alert_rule(id))
    }
    /// A project's rules (every project's with `None`), oldest first.
    pub fn alert_rules(&self, project_id: Option<i64>) -> StoreResult<Vec<alerts::AlertRule>> {
        dispatch!(self, s => s.alert_rules(project_id))
    }
    /// Writes a rule's editable fields; a rule switched off stops firing.
    pub fn update_alert_rule(&self, rule: &alerts::AlertRule) -> StoreResult<alerts::AlertRule> {
        dispatch!(self, s => s.update_alert_rule(rule))
    }
    pub fn delete_alert_rule(&self, id: i64) -> StoreResult<bool> {
        dispatch!(self, s => s.delete_alert_rule(id))
    }
    /// Records a rule's evaluation (when given) and queues notifications, atomically.
    pub fn record_evaluation(
        &self,
        rule_id: Option<i64>,
        state: Option<&alerts::RuleState>,
        queue: &[alerts::NewNotification],
        now: i64,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.record_evaluation(rule_id, state, queue, now))
    }
    /// Pending notifications whose next attempt is due.
    pub fn due_notifications(
        &self,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<alerts::Notification>> {
        dispatch!(self, s => s.due_notifications(now, limit))
    }
    /// Records a delivery attempt; `status` is `sent`, `pending` or `failed`.
    pub fn notification_attempted(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        next_attempt_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.notification_attempted(id, status, error, next_attempt_at, now))
    }
    /// A project's newest notifications, newest first.
    pub fn notifications(
        &self,
        project_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<alerts::Notification>> {
        dispatch!(self, s => s.notifications(project_id, limit))
    }

    /// The stored contacts, identities, visitors and applied events these
    /// events touch, from the cache where it has them.
    pub fn crm_world(
        &self,
        events: &[crm::CrmEvent],
        configs: &crm::Configs,
        cache: &mut crm_world::CrmCache,
    ) -> StoreResult<crm::CrmWorld> {
        crm_world::read_world(self, events, configs, cache)
    }
    /// Gives back the memory the CRM processor's reads hold (it is idle).
    pub fn crm_release_memory(&self) -> StoreResult<()> {
        dispatch!(self, s => s.crm_release_memory())
    }
    /// The count of contact merges, erasures and score rescales so far: a
    /// CRM write made from reads before it changed is refused.
    pub fn crm_changes(&self) -> StoreResult<i64> {
        dispatch!(self, s => s.crm_changes())
    }
    /// Writes a CRM pass, and moves the processor's cursor when given, in one
    /// transaction; `Conflict` when contacts were merged since its world was read.
    pub fn apply_crm(
        &self,
        cursor: Option<(&str, analytics::Cursor)>,
        delta: &crm::CrmDelta,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.apply_crm(cursor, delta))
    }
    /// The contact a person is, or the id their contact will get.
    pub fn crm_contact_for(
        &self,
        project_id: i64,
        user_id: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<String> {
        dispatch!(self, s => s.crm_contact_for(project_id, user_id, email))
    }
    /// A page of contacts (each with its open tasks) and how many match.
    pub fn crm_contacts(
        &self,
        q: &crm::ContactQuery,
    ) -> StoreResult<(Vec<(crm::Contact, i64)>, i64)> {
        dispatch!(self, s => s.crm_contacts(q))
    }
    /// A contact by id, or the contact it was merged into.
    pub fn crm_contact(&self, project_id: i64, id: &str) -> StoreResult<Option<crm::Contact>> {
        dispatch!(self, s => s.crm_contact(project_id, id))
    }
    /// A contact's timeline, newest first, from before an entry id.
    pub fn crm_timeline(
        &self,
        contact_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<crm::Activity>> {
        dispatch!(self, s => s.crm_timeline(contact_id, before, limit))
    }
    /// A contact's newest score changes, oldest first.
    pub fn crm_score_history(
        &self,
        contact_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<crm::ScoreChange>> {
        dispatch!(self, s => s.crm_score_history(contact_id, limit))
    }
    /// Tasks with their contacts, soonest due first, and how many match.
    pub fn crm_tasks(
        &self,
        q: &crm::TaskQuery,
    ) -> StoreResult<(Vec<(crm::Task, crm::Contact)>, i64)> {
        dispatch!(self, s => s.crm_tasks(q))
    }
    pub fn crm_task(&self, project_id: i64, id: &str) -> StoreResult<Option<crm::Task>> {
        dispatch!(self, s => s.crm_task(project_id, id))
    }
    /// Writes a task's changed fields with the timeline entry that tells of it.
    pub fn crm_update_task(&self, task: &crm::Task, entry: &crm::Activity) -> StoreResult<()> {
        dispatch!(self, s => s.crm_update_task(task, entry))
    }
    /// Merges `from` into the contact `merged` (already combined by
    /// [`crm::merge`]), atomically.
    pub fn crm_merge(
        &self,
        merged: &crm::Contact,
        from: &crm::Contact,
        entry: &crm::Activity,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.crm_merge(merged, from, entry))
    }
    /// The lead-status funnel of a project under its configuration.
    pub fn crm_funnel(&self, project_id: i64, config: &crm::CrmConfig) -> StoreResult<crm::Funnel> {
        let (reached, current) = dispatch!(self, s => s.crm_funnel_counts(project_id))?;
        Ok(crm::funnel(config, &reached, &current))
    }
    /// Score changes after `after` that took a contact's score to
    /// `threshold` or over it from below, oldest first.
    pub fn crm_score_crossings(
        &self,
        project_id: i64,
        threshold: f64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<crm::ScoreCrossing>> {
        dispatch!(self, s => s.crm_score_crossings(project_id, threshold, after, limit))
    }
    /// The newest score change's id.
    pub fn crm_last_score_id(&self) -> StoreResult<i64> {
        dispatch!(self, s => s.crm_last_score_id())
    }
    /// Open bookings started before the time, oldest first.
    pub fn crm_stale_bookings(
        &self,
        started_before: i64,
        limit: i64,
    ) -> StoreResult<Vec<crm::OpenBooking>> {
        dispatch!(self, s => s.crm_stale_bookings(started_before, limit))
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
            dispatch!(self, s => s.crm_rescale(project_id, factor))?;
        }
        self.set_setting(&crm_setting(project_id), &json)
    }

    /// Adds a chunk to its session's rrweb recording, unless the chunk is stored
    /// already or the project's quota (bytes, 0 for none) would be passed.
    pub fn add_recording_chunk(
        &self,
        chunk: &files::NewChunk,
        quota: i64,
    ) -> StoreResult<files::Stored<i64>> {
        dispatch!(self, s => s.add_recording_chunk(chunk, quota))
    }
    /// Records a session's uploaded video; a session has one.
    pub fn add_video(
        &self,
        video: &files::NewVideo,
        quota: i64,
    ) -> StoreResult<files::Stored<i64>> {
        dispatch!(self, s => s.add_video(video, quota))
    }
    /// A page of recordings, newest first, and how many match in all.
    pub fn recordings(
        &self,
        filter: &files::RecordingFilter,
    ) -> StoreResult<(Vec<files::Recording>, i64)> {
        dispatch!(self, s => s.recordings(filter))
    }
    pub fn recording(&self, project_id: i64, id: i64) -> StoreResult<Option<files::Recording>> {
        dispatch!(self, s => s.recording(project_id, id))
    }
    /// A recording's chunks in playback order.
    pub fn recording_chunks(&self, recording_id: i64) -> StoreResult<Vec<files::Chunk>> {
        dispatch!(self, s => s.recording_chunks(recording_id))
    }
    /// Deletes a recording, its chunks and its session's screenshots; the caller
    /// removes the freed files.
    pub fn delete_recording(&self, project_id: i64, id: i64) -> StoreResult<files::Freed> {
        dispatch!(self, s => s.delete_recording(project_id, id))
    }
    /// Stores a friction event's screenshot; an event has one.
    pub fn add_screenshot(
        &self,
        shot: &files::Screenshot,
        quota: i64,
    ) -> StoreResult<files::Stored<files::Screenshot>> {
        dispatch!(self, s => s.add_screenshot(shot, quota))
    }
    pub fn screenshots(
        &self,
        filter: &files::ScreenshotFilter,
    ) -> StoreResult<Vec<files::Screenshot>> {
        dispatch!(self, s => s.screenshots(filter))
    }
    /// The recordings and newest screenshots of a page of sessions.
    pub fn session_media(
        &self,
        project_id: i64,
        sessions: &[String],
    ) -> StoreResult<files::SessionMedia> {
        dispatch!(self, s => s.session_media(project_id, sessions))
    }
    pub fn screenshot(&self, project_id: i64, id: i64) -> StoreResult<Option<files::Screenshot>> {
        dispatch!(self, s => s.screenshot(project_id, id))
    }
    /// Notes that the file `key` is about to be put in the file store. The
    /// transaction that commits the row naming it fulfils the intent; one left
    /// over names a file that no row does.
    pub fn intend_file(&self, project_id: i64, key: &str, now: i64) -> StoreResult<()> {
        dispatch!(self, s => s.intend_file(project_id, key, now))
    }
    /// Intents made before `before` and never fulfilled, oldest first.
    pub fn stale_file_intents(&self, before: i64, limit: i64) -> StoreResult<Vec<String>> {
        dispatch!(self, s => s.stale_file_intents(before, limit))
    }
    /// Drops intents whose files were removed (or never made).
    pub fn forget_file_intents(&self, keys: &[String]) -> StoreResult<()> {
        dispatch!(self, s => s.forget_file_intents(keys))
    }
    pub fn create_export_job(&self, job: &files::NewExportJob) -> StoreResult<files::ExportJob> {
        dispatch!(self, s => s.create_export_job(job))
    }
    /// A project's newest export jobs first.
    pub fn export_jobs(&self, project_id: i64, limit: i64) -> StoreResult<Vec<files::ExportJob>> {
        dispatch!(self, s => s.export_jobs(project_id, limit))
    }
    pub fn export_job(&self, id: i64) -> StoreResult<Option<files::ExportJob>> {
        dispatch!(self, s => s.export_job(id))
    }
    /// Puts jobs left running by a runner that died back in the queue. Only the
    /// holder of the `exports` job's lease may call it.
    pub fn requeue_running_exports(&self) -> StoreResult<u64> {
        dispatch!(self, s => s.requeue_running_exports())
    }
    /// Takes the oldest queued job and marks it running.
    pub fn claim_export_job(&self, now: i64) -> StoreResult<Option<files::ExportJob>> {
        dispatch!(self, s => s.claim_export_job(now))
    }
    pub fn export_progress(&self, id: i64, progress: i64) -> StoreResult<()> {
        dispatch!(self, s => s.export_progress(id, progress))
    }
    /// Records a running job's outcome: its file and size, or why it failed.
    /// A scheduled job's report gets `delivery` (pending) to be sent.
    pub fn finish_export(
        &self,
        id: i64,
        result: Result<(&str, i64), &str>,
        delivery: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.finish_export(id, result, delivery, now))
    }
    /// Scheduled jobs whose report is due to be (re)sent.
    pub fn due_deliveries(&self, now: i64, limit: i64) -> StoreResult<Vec<files::ExportJob>> {
        dispatch!(self, s => s.due_deliveries(now, limit))
    }
    pub fn delivery_attempted(
        &self,
        id: i64,
        delivery: &str,
        error: Option<&str>,
        next_at: i64,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.delivery_attempted(id, delivery, error, next_at))
    }
    pub fn delete_export_job(&self, project_id: i64, id: i64) -> StoreResult<files::Freed> {
        dispatch!(self, s => s.delete_export_job(project_id, id))
    }
    pub fn create_schedule(
        &self,
        schedule: &files::ReportSchedule,
    ) -> StoreResult<files::ReportSchedule> {
        dispatch!(self, s => s.create_schedule(schedule))
    }
    pub fn schedules(&self, project_id: Option<i64>) -> StoreResult<Vec<files::ReportSchedule>> {
        dispatch!(self, s => s.schedules(project_id))
    }
    pub fn delete_schedule(&self, project_id: i64, id: i64) -> StoreResult<bool> {
        dispatch!(self, s => s.delete_schedule(project_id, id))
    }
    /// Moves a due schedule to its next run and queues its job, in one
    /// transaction; `None` when another run moved it first.
    pub fn queue_scheduled(
        &self,
        schedule: &files::ReportSchedule,
        next_run_at: i64,
        job: &files::NewExportJob,
    ) -> StoreResult<Option<files::ExportJob>> {
        dispatch!(self, s => s.queue_scheduled(schedule, next_run_at, job))
    }
    /// Bytes a project stores, by kind (`quota_bytes` is left for the caller,
    /// who knows the default: see `file_quota`).
    pub fn storage_use(&self, project_id: i64) -> StoreResult<files::StorageUse> {
        dispatch!(self, s => s.storage_use(project_id))
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
    /// Deletes the recordings of these people (user or anonymous ids), their
    /// sessions' screenshots, and the finished exports whose range covers
    /// `span` (when their events happened); the caller removes the freed files.
    pub fn erase_files(
        &self,
        project_id: i64,
        ids: &[String],
        span: Option<(i64, i64)>,
    ) -> StoreResult<files::Freed> {
        dispatch!(self, s => s.erase_files(project_id, ids, span))
    }
    /// Deletes recordings that ended, and screenshots taken, before `cutoff`.
    pub fn expire_files(&self, project_id: i64, cutoff: i64) -> StoreResult<files::Freed> {
        dispatch!(self, s => s.expire_files(project_id, cutoff))
    }

    /// Removes events older than `cutoff` (ms): on PostgreSQL by dropping whole
    /// monthly partitions, on SQLite row by row.
    pub fn drop_events_before(&self, cutoff: i64) -> StoreResult<Retention> {
        dispatch!(self, s => s.drop_events_before(cutoff))
    }
}

impl EventWriter {
    /// Appends the batches in one transaction and commits durably. Returns, per
    /// batch, how many events were new and how many were duplicates. On error
    /// nothing of any batch was stored.
    pub fn append(&mut self, batches: &[Batch<'_>], now: i64) -> StoreResult<Vec<Appended>> {
        match &mut self.inner {
            WriterBackend::Sqlite(w) => w.append(batches, now),
            WriterBackend::Postgres(w) => w.append(batches, now),
        }
    }
}

/// One request's events, for [`EventWriter::append`].
pub struct Batch<'a> {
    pub project_id: i64,
    pub key_id: Option<i64>,
    pub events: &'a [Event],
}

impl crm_world::CrmReads for Store {
    fn crm_changes(&self) -> StoreResult<i64> {
        dispatch!(self, s => s.crm_changes())
    }
    fn crm_seen(&self, keys: &[(i64, String)]) -> StoreResult<HashSet<(i64, String)>> {
        dispatch!(self, s => s.crm_seen(keys))
    }
    fn crm_identities(&self, keys: &[crm::IdKey]) -> StoreResult<HashMap<crm::IdKey, String>> {
        dispatch!(self, s => s.crm_identities(keys))
    }
    fn crm_visitor_scores(
        &self,
        keys: &[(i64, String)],
    ) -> StoreResult<HashMap<(i64, String), f64>> {
        dispatch!(self, s => s.crm_visitor_scores(keys))
    }
    fn crm_merged_into(&self, ids: &[String]) -> StoreResult<HashMap<String, String>> {
        dispatch!(self, s => s.crm_merged_into(ids))
    }
    fn crm_contacts_by_id(&self, ids: &[String]) -> StoreResult<Vec<crm::Contact>> {
        dispatch!(self, s => s.crm_contacts_by_id(ids))
    }
}
