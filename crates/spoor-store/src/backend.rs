//! The storage traits, one per area. Each backend (`sqlite::SqliteStore`,
//! `pg::PgStore`) implements every one of them in its own files, one file per
//! area; `Store` is a handle over `Arc<dyn Backend>` and derefs to it, so the
//! compiler, not a forwarding layer, keeps the backends in step, and a test can
//! put any implementation behind a `Store` (`Store::from_backend`).
//!
//! Through a `Store`, every method is callable without an import (they are a
//! trait object's); code that holds a backend itself brings the traits into
//! scope with `use spoor_store::prelude::*;`.

use std::collections::HashMap;
use std::path::Path;

use crate::alerts::*;
use crate::analytics::{Cursor, HourRollup, RollupDelta, TailRow};
use crate::crm::*;
use crate::crm_world::CrmReads;
use crate::customers::*;
use crate::files::*;
use crate::friction::*;
use crate::insights::boards::{Board, SavedInsight};
use crate::insights::definitions::{Defined, Definition};
use crate::metering::*;
use crate::pipeline::{LogEvent, PassWrites};
use crate::records::*;
use crate::sessions::*;
use crate::{StoreError, StoreResult};
use spoor_core::login_backoff::Attempts;

/// A storage backend: every area's trait, plus what describes the backend
/// itself. `Store` holds one behind an `Arc<dyn Backend>`.
pub trait Backend:
    LogStore
    + PipelineStore
    + AccountStore
    + PeopleStore
    + CoordinationStore
    + RollupStore
    + SessionStore
    + CustomerStore
    + MeteringStore
    + FrictionStore
    + AlertStore
    + CrmStore
    + FileRecords
    + InsightStore
    + BoardStore
    + DefinitionStore
    + Send
    + Sync
{
    /// Applies the migrations this version has and the store lacks; returns their names.
    fn migrate(&self) -> StoreResult<Vec<String>>;
    /// Connections the store opens at most for calls (the writer's aside).
    fn max_connections(&self) -> usize;
    /// A description of where the data is, for logs.
    fn describe(&self) -> String;
    /// Whether several processes share this store (PostgreSQL): then rate
    /// limits and sign-in attempts are counted in it rather than in each
    /// process, and calls wait on the network.
    fn is_shared(&self) -> bool;
    /// Writes consistent copies of the embedded store's two files (see
    /// `sqlite::SqliteStore::backup_into`); PostgreSQL is backed up with its
    /// own tools.
    fn backup_into(&self, log: &Path, derived: &Path) -> StoreResult<()> {
        let _ = (log, derived);
        Err(StoreError::Invalid(
            "spoor backup copies the embedded store; back PostgreSQL up with pg_dump or \
             its continuous archiving (see docs/operations.md)"
                .into(),
        ))
    }
}

/// The event log: its one writer, and reading events back.
pub trait LogStore {
    /// One page of events, in the query's order.
    fn events(&self, query: &EventQuery) -> StoreResult<Vec<StoredEvent>>;
    /// Every event the query matches, oldest first, one at a time: memory stays
    /// constant however many there are.
    fn for_each_event(
        &self,
        query: &EventQuery,
        f: &mut dyn FnMut(StoredEvent) -> StoreResult<()>,
    ) -> StoreResult<()>;
    fn count_events(&self, project_id: i64) -> StoreResult<u64>;
    fn event_by_seq(&self, project_id: i64, seq: i64) -> StoreResult<Option<StoredEvent>>;
    /// When the message stored with this id and no client timestamp arrived,
    /// if it arrived at or after `since`.
    fn message_received_at(
        &self,
        project_id: i64,
        message_id: &str,
        since: i64,
    ) -> StoreResult<Option<i64>>;
    /// The event log's one writer (see [`crate::EventWriter`]).
    fn writer(&self) -> StoreResult<Box<dyn LogWriter>>;
}

/// The derivation pipeline's side of the event log: reading it up to the
/// horizon, the one transaction a pass writes with its cursors, and the backlog.
pub trait PipelineStore {
    /// Whether the backend keeps insights' facts (`insight_facts`, written
    /// by the facts fold and read by questions).
    fn keeps_facts(&self) -> bool {
        false
    }
    /// The tables of the insights' facts, which `spoor rebuild facts` empties.
    fn facts_tables(&self) -> &'static [&'static str] {
        &[]
    }
    /// Up to `limit` events after `cursor`, in the pipeline's order, and only
    /// events nothing committed later can still come before (see
    /// [`pipeline`]).
    fn log_events_after(&self, cursor: Cursor, limit: i64) -> StoreResult<Vec<LogEvent>>;
    /// Writes what a pipeline pass derived and moves the cursors of `folds`
    /// to `cursor` (never back: a fold ahead of the others keeps its own), in
    /// one transaction. `Conflict` when an erasure or a contact merge came
    /// between the pass's reads and this write: the pass is then read again.
    fn apply_pass(&self, folds: &[&str], cursor: Cursor, w: &PassWrites<'_>) -> StoreResult<()>;
    /// Commits what passes the backend holds uncommitted (see
    /// `PassWrites::more_follow`); the pipeline calls it when a pass finds
    /// the log's end, before a rebuild and when it stops.
    fn settle_passes(&self) -> StoreResult<()>;
    /// Rolls back what passes the backend holds uncommitted, after a pass
    /// failed: the pipeline then reads from its stored cursors again.
    fn abandon_passes(&self) -> StoreResult<()>;
    /// How many events the log holds past the cursor `after`, in the order
    /// the pipeline reads them (zero exactly when none is left), and the
    /// receive time of the next one, if there is one.
    fn log_backlog(&self, after: Cursor) -> StoreResult<(i64, Option<i64>)>;
    /// The highest seq in the log (0 when empty).
    fn max_seq(&self) -> StoreResult<i64>;
    fn processor_cursor(&self, name: &str) -> StoreResult<Option<Cursor>>;
    fn reset_tables(&self, name: &str, tables: &[&str]) -> StoreResult<()>;
}

/// Projects and their keys, organisations, users and their browser sessions,
/// and settings.
pub trait AccountStore {
    /// A project in the organisation; names are unique in the store.
    fn create_project(&self, org_id: i64, name: &str) -> StoreResult<Project>;
    fn project_by_id(&self, id: i64) -> StoreResult<Project>;
    fn rename_project(&self, id: i64, name: &str) -> StoreResult<Project>;
    fn projects(&self) -> StoreResult<Vec<Project>>;
    /// A project by name; `NotFound` names the missing project.
    fn project(&self, name: &str) -> StoreResult<Project>;
    fn set_keep_full_ip(&self, project: &str, keep: bool) -> StoreResult<Project>;
    fn create_key(&self, key: &NewKey) -> StoreResult<KeyRecord>;
    fn keys(&self) -> StoreResult<Vec<KeyRecord>>;
    /// The key with this hash, active or not. The hot path of every ingestion request.
    fn key_by_hash(&self, hash: &str) -> StoreResult<Option<KeyRecord>>;
    fn set_key_active(&self, key: &KeySelector, active: bool) -> StoreResult<KeyRecord>;
    fn keys_of_project(&self, project_id: i64) -> StoreResult<Vec<KeyRecord>>;
    /// Changes what `change` names of a key (name, enabled, domains, limits).
    fn update_key(&self, id: i64, change: &KeyChange) -> StoreResult<KeyRecord>;
    /// A deleted key gets 401 at once; the events it sent stay.
    fn delete_key(&self, id: i64) -> StoreResult<()>;
    fn create_org(&self, name: &str) -> StoreResult<Org>;
    fn orgs(&self) -> StoreResult<Vec<Org>>;
    /// An organisation by name; `NotFound` names it.
    fn org(&self, name: &str) -> StoreResult<Org>;
    /// Makes the first owner of an organisation (and of the first one, so
    /// what was collected before set-up stays visible), in one transaction
    /// that checks the set-up token and that no user exists, and ends the
    /// set-up. `None` when the token is wrong or expired, or a user exists.
    fn create_first_owner(&self, o: &FirstOwner) -> StoreResult<Option<User>>;
    /// Reserves sign-in attempts for every key at once, in one transaction
    /// shared by every node: `decide` sees each key's attempts (in the order
    /// given) and changes them, and what it leaves is stored. Only a shared
    /// store keeps them; see [`Backend::is_shared`].
    fn login_attempts(
        &self,
        keys: &[String],
        decide: &mut dyn FnMut(&mut [Attempts]),
    ) -> StoreResult<()> {
        let _ = (keys, decide);
        Err(StoreError::Invalid(
            "the embedded store is not shared: sign-in attempts are counted in the process".into(),
        ))
    }
    /// A user; the email must be given lowercase. Ends the one-time set-up.
    fn create_user(&self, email: &str, password_hash: &str) -> StoreResult<User>;
    /// The user with this (lowercase) email and their password hash.
    fn user_login(&self, email: &str) -> StoreResult<Option<(User, String)>>;
    fn user(&self, id: i64) -> StoreResult<Option<User>>;
    fn count_users(&self) -> StoreResult<u64>;
    fn record_login(&self, user_id: i64) -> StoreResult<()>;
    /// Gives the user this role in the organisation, replacing any other.
    fn set_role(&self, user_id: i64, org_id: i64, role: Role) -> StoreResult<()>;
    fn memberships(&self, user_id: i64) -> StoreResult<Vec<Membership>>;
    /// Records a browser session by the hash of its cookie value.
    fn create_web_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The session with this hash, unless it has expired.
    fn web_session(&self, id_hash: &str) -> StoreResult<Option<WebSession>>;
    fn delete_web_session(&self, id_hash: &str) -> StoreResult<()>;
    fn set_setting(&self, name: &str, value: &str) -> StoreResult<()>;
    fn setting(&self, name: &str) -> StoreResult<Option<String>>;
    /// Removes a setting and returns what it was: one caller gets it, once.
    fn take_setting(&self, name: &str) -> StoreResult<Option<String>>;
}

/// Managing people: members and their roles (never leaving an organisation
/// without an owner), invitations, password resets, a person's browser
/// sessions, and organisations' admin tokens.
pub trait PeopleStore {
    /// Makes an organisation whose one member, its owner, is this user;
    /// `Conflict` when the name is taken.
    fn create_org_owned_by(&self, name: &str, user_id: i64, now: i64) -> StoreResult<Org>;
    /// An organisation's members, by email.
    fn org_members(&self, org_id: i64) -> StoreResult<Vec<Member>>;
    /// Changes a member's role or removes them; `NotFound` when they are not a
    /// member, `Conflict` when the change would leave no owner (checked in the
    /// transaction that changes it).
    fn change_member(&self, org_id: i64, user_id: i64, change: MemberChange) -> StoreResult<()>;
    fn create_invite(&self, new: &NewInvite) -> StoreResult<Invite>;
    /// An organisation's unexpired invitations, newest first (expired ones are
    /// deleted).
    fn invites(&self, org_id: i64, now: i64) -> StoreResult<Vec<Invite>>;
    fn delete_invite(&self, org_id: i64, id: i64) -> StoreResult<()>;
    /// The unexpired invitation with this token hash.
    fn invite(&self, token_hash: &str, now: i64) -> StoreResult<Option<Invite>>;
    /// Uses up the invitation: the joiner (made now, for a new account)
    /// becomes a member with its role, all in one transaction.
    fn accept_invite(&self, token_hash: &str, joiner: Joiner, now: i64) -> StoreResult<Joined>;
    /// A password-reset link for the user, replacing any earlier one.
    fn create_password_reset(
        &self,
        user_id: i64,
        token_hash: &str,
        created_by: Option<i64>,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// Whose unexpired password-reset link this is.
    fn password_reset_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<User>>;
    /// Uses up the reset link: the new password, and every session of the
    /// person ended, in one transaction; `None` when the link is not valid.
    fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<User>>;
    /// Sets the user's password and ends their sessions but the one kept;
    /// returns how many ended. Any reset link stops working.
    fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<u64>;
    /// The user's unexpired sessions, newest first.
    fn web_sessions_of(&self, user_id: i64, now: i64) -> StoreResult<Vec<WebSessionInfo>>;
    /// Ends some of the user's sessions; returns how many.
    fn end_web_sessions(&self, user_id: i64, which: SessionsToEnd) -> StoreResult<u64>;
    fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord>;
    /// The admin token with this hash; records that it was used.
    fn use_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>>;
    /// An organisation's admin tokens (never the tokens themselves).
    fn tokens_of_org(&self, org_id: i64) -> StoreResult<Vec<TokenRecord>>;
    /// Revokes an organisation's admin token; `NotFound` when it has none
    /// with this id.
    fn delete_token(&self, org_id: i64, id: i64) -> StoreResult<()>;
}

/// What nodes share: leases, job runs, rate windows, partitions and retention.
pub trait CoordinationStore {
    /// Takes the lease `name` for `holder` for `ttl_ms` when it is free or has
    /// expired, or renews it when `holder` has it. True when `holder` holds it now.
    fn acquire_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> StoreResult<bool>;
    /// Gives the lease up, if `holder` has it, so another can take it at once.
    fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()>;
    fn leases(&self) -> StoreResult<Vec<Lease>>;
    /// Records that `node` started the job `name`.
    fn job_started(&self, name: &str, node: &str) -> StoreResult<()>;
    /// Records how the job's current run ended.
    fn job_finished(&self, name: &str, ok: bool, detail: &str) -> StoreResult<()>;
    /// The last run of every job that has run.
    fn job_runs(&self) -> StoreResult<Vec<JobRun>>;
    /// Counts `take` requests for the key in the one-minute window starting at
    /// `window_start` (ms) and returns the window's count after it. Only a
    /// shared store counts; see [`Backend::is_shared`].
    fn take_rate_tokens(&self, key_id: i64, window_start: i64, take: i64) -> StoreResult<i64> {
        let _ = (key_id, window_start, take);
        Err(StoreError::Invalid(
            "the embedded store is not shared: rate limits are counted in the process".into(),
        ))
    }
    /// Makes the event log's partitions for the coming months (PostgreSQL; the
    /// embedded store has none). Returns the ones it made.
    fn maintain_partitions(&self, now: i64) -> StoreResult<Vec<String>> {
        let _ = now;
        Ok(Vec::new())
    }
    /// Deletes a project's events older than `cutoff` (ms, by event time) and
    /// its sessions last seen before it. People's summaries stay.
    fn expire_project(&self, project_id: i64, cutoff: i64) -> StoreResult<ProjectExpiry>;
    /// Removes events older than `cutoff` (ms): on PostgreSQL by dropping whole
    /// monthly partitions, on SQLite row by row.
    fn drop_events_before(&self, cutoff: i64) -> StoreResult<Retention>;
}

/// The overview's hourly rollups and the log's tail beside them.
pub trait RollupStore: PipelineStore {
    /// The overview's fields of a project's events in a time range.
    fn overview_rows(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
    ) -> StoreResult<Vec<TailRow>>;
    /// Adds a processor pass's rollups and moves its cursor, atomically.
    fn apply_rollup(&self, name: &str, cursor: Cursor, delta: &RollupDelta) -> StoreResult<()> {
        let writes = PassWrites {
            rollups: Some(delta),
            ..PassWrites::default()
        };
        self.apply_pass(&[name], cursor, &writes)
    }
    /// Rollup rows of whole hours in `[from, to)`.
    fn rollup_hours(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
    ) -> StoreResult<Vec<(i64, HourRollup)>>;
    /// The top `per_dim` values of each dimension over hours in `[from, to)`.
    fn rollup_top(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        include_bots: bool,
        per_dim: usize,
    ) -> StoreResult<Vec<(String, String, i64)>>;
}

/// Sessions: the sessions fold's reads and writes, the inactivity timeout,
/// and the sessions API's pages.
pub trait SessionStore: PipelineStore {
    fn session(&self, project_id: i64, session_id: &str) -> StoreResult<Option<Session>>;
    /// The identity's latest session derived by inactivity.
    fn latest_derived_session(
        &self,
        project_id: i64,
        identity: &str,
    ) -> StoreResult<Option<Session>>;
    /// Writes sessions whole, with what the pass derived about people, and
    /// moves the processor's cursor, atomically. Refused (`Conflict`) when a
    /// person was erased after the pass read its events.
    fn put_sessions(
        &self,
        name: &str,
        cursor: Cursor,
        sessions: &[Session],
        people: &People,
    ) -> StoreResult<()> {
        let writes = PassWrites {
            sessions: Some((sessions, people)),
            ..PassWrites::default()
        };
        self.apply_pass(&[name], cursor, &writes)
    }
    /// Ends open sessions last seen before the time, with reason `timeout`.
    fn end_idle_sessions(&self, last_seen_before: i64) -> StoreResult<u64>;
    /// A project's sessions, newest first, optionally one user's, after a
    /// (started_at, session_id) position.
    fn sessions_page(
        &self,
        project_id: i64,
        user_id: Option<&str>,
        started_before: Option<(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<Session>>;
}

/// People and identity links: the sessions fold's reads of them, the
/// customers and metrics API's reads, and erasure.
pub trait CustomerStore {
    /// The sessions, links and people among these keys that are stored, in a
    /// statement per table (the sessions fold's reads of a pass at once).
    fn derived_rows(
        &self,
        keys: &crate::working_set::Keys,
    ) -> StoreResult<crate::working_set::Rows>;
    /// The user an anonymous or former id is linked to.
    fn linked_user(&self, project_id: i64, id: &str) -> StoreResult<Option<String>>;
    fn customer(
        &self,
        project_id: i64,
        identified: bool,
        person: &str,
    ) -> StoreResult<Option<Customer>>;
    /// Whether the id was erased (a tombstone stands for it).
    fn is_erased(&self, project_id: i64, id: &str) -> StoreResult<bool>;
    /// The newest erasure's mark (0 when there was none); it only grows.
    fn erasure_mark(&self) -> StoreResult<i64>;
    /// Tombstones (project, id, mark) newer than the mark.
    fn erased_since(&self, after: i64) -> StoreResult<Vec<(i64, String, i64)>>;
    /// One page of identified people, and how many match.
    fn customers_page(&self, q: &CustomerQuery) -> StoreResult<(Vec<Customer>, i64)>;
    /// A user's latest sessions, newest first.
    fn recent_sessions_of(
        &self,
        project_id: i64,
        user_id: &str,
        since: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Session>>;
    /// Seed 004's monitoring figures over sessions started since the time.
    fn session_monitoring(
        &self,
        project_id: i64,
        since: Option<i64>,
        week_start: i64,
    ) -> StoreResult<Monitoring>;
    /// Erases a user, every id linked to them, and all that was derived from
    /// them, and leaves tombstones so that nothing of theirs is stored again.
    fn erase_person(&self, project_id: i64, user_id: &str, now: i64) -> StoreResult<Erased>;
}

/// Usage metering: widgets, widget call sessions and their day totals.
pub trait MeteringStore: PipelineStore {
    fn create_widget(&self, w: &Widget) -> StoreResult<Widget>;
    /// The widget with this id, active or not. The hot path of widget tracking.
    fn widget(&self, id: &str) -> StoreResult<Option<Widget>>;
    /// A project's widgets (every project's with `None`), oldest first.
    fn widgets(&self, project_id: Option<i64>) -> StoreResult<Vec<Widget>>;
    fn update_widget(&self, id: &str, change: &WidgetChange) -> StoreResult<Widget>;
    /// The stored widget sessions among these keys.
    fn call_sessions(&self, keys: &[SessionKey]) -> StoreResult<Vec<CallSession>>;
    /// Writes a metering pass's sessions and day totals and moves its cursor,
    /// atomically.
    fn apply_metering(&self, name: &str, cursor: Cursor, delta: &MeteringDelta) -> StoreResult<()> {
        let writes = PassWrites {
            metering: Some(delta),
            ..PassWrites::default()
        };
        self.apply_pass(&[name], cursor, &writes)
    }
    /// Calls started before the time with no end of any kind, in the order of
    /// [`metering::OpenCallKey`], after the given one.
    fn open_calls(
        &self,
        started_before: i64,
        after: Option<&OpenCallKey>,
        limit: i64,
    ) -> StoreResult<Vec<CallSession>>;
    fn usage_days(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
        widget: Option<&str>,
    ) -> StoreResult<Vec<(String, i64, Usage)>>;
}

/// Friction analytics' day tables, heatmaps, error issues and vitals, as rows
/// the domain's reports are computed from.
pub trait FrictionStore: PipelineStore {
    /// Adds a friction pass's counts and moves its cursor, atomically.
    fn apply_friction(&self, name: &str, cursor: Cursor, d: &FrictionDelta) -> StoreResult<()> {
        let writes = PassWrites {
            friction: Some(d),
            ..PassWrites::default()
        };
        self.apply_pass(&[name], cursor, &writes)
    }
    fn friction_rows(&self, f: &Filter) -> StoreResult<Vec<FrictionRow>>;
    fn friction_counts(&self, f: &Filter) -> StoreResult<Vec<ElementCount>>;
    /// A heatmap's cells (column, row, count) of one kind of click.
    fn heatmap_cells(&self, f: &Filter, kind: &str) -> StoreResult<Vec<(i64, i64, i64)>>;
    /// The most-clicked elements (selector, text, count).
    fn heatmap_elements(
        &self,
        f: &Filter,
        kind: &str,
        limit: i64,
    ) -> StoreResult<Vec<(String, String, i64)>>;
    /// Per page: clicks, rage clicks, dead clicks, views, widest viewport and
    /// tallest document.
    fn page_totals(&self, f: &Filter) -> StoreResult<Vec<(String, [i64; 6])>>;
    /// Page views per deepest scroll, in tens of percent.
    fn scroll_depths(&self, f: &Filter) -> StoreResult<Vec<(i64, i64)>>;
    fn error_issues(
        &self,
        project_id: i64,
        fingerprint: Option<&str>,
    ) -> StoreResult<Vec<IssueRecord>>;
    fn error_day_rows(&self, f: &Filter) -> StoreResult<Vec<ErrorDayRow>>;
    /// Per issue: the sessions and the people it touched in the range (the
    /// page filter does not apply: sessions are not kept per page).
    fn error_people(&self, f: &Filter) -> StoreResult<HashMap<String, (i64, i64)>>;
    /// Issues first received after the time (new-error alerts).
    fn new_issues(&self, project_id: i64, received_after: i64) -> StoreResult<Vec<IssueRecord>>;
    /// Marks an issue resolved at the time, or open again with `None`.
    fn set_issue_resolved(
        &self,
        project_id: i64,
        fingerprint: &str,
        resolved_at: Option<i64>,
    ) -> StoreResult<()>;
    fn vital_rows(&self, f: &Filter) -> StoreResult<Vec<VitalRow>>;
    /// The project's signals with event time in `[from, to)` that alerts
    /// measure: (type, name, url, body for web vitals).
    fn alert_signal_rows(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<crate::alerts::SignalRow>>;
}

/// Insights: the rows a trend, funnel or retention question folds
/// (`spoor_domain::insights`).
pub trait InsightStore {
    /// Streams the rows `q` asks for, oldest first by `(ts, seq)`, each with
    /// its person resolved through the identity links; stops when `each`
    /// answers false.
    fn insight_rows(
        &self,
        q: &crate::insights::RowQuery,
        each: &mut dyn FnMut(&crate::insights::InsightRow<'_>) -> bool,
    ) -> StoreResult<()>;

    /// The same rows, read from the event log alone whatever derived data a
    /// backend keeps for questions (the conformance suite compares the two).
    fn log_insight_rows(
        &self,
        q: &crate::insights::RowQuery,
        each: &mut dyn FnMut(&crate::insights::InsightRow<'_>) -> bool,
    ) -> StoreResult<()> {
        self.insight_rows(q, each)
    }

    /// Streams the project's known people (users, and visitors not yet
    /// identified) with their properties, only those who have any when
    /// `with_properties`; stops when `each` answers false.
    fn people_properties(
        &self,
        project_id: i64,
        with_properties: bool,
        each: &mut dyn FnMut(bool, &str, &crate::traits::Traits) -> bool,
    ) -> StoreResult<()>;
}

/// Saved insights and boards (`spoor_domain::insights::boards`). Every call
/// but [`BoardStore::shared_board`] names the project, so one project's ids
/// never reach another's rows.
pub trait BoardStore {
    /// Stores a saved insight (its id and times are the store's) unless the
    /// project keeps `max` already: then `None`.
    fn create_saved_insight(
        &self,
        s: &SavedInsight,
        max: usize,
    ) -> StoreResult<Option<SavedInsight>>;
    fn saved_insight(&self, project_id: i64, id: i64) -> StoreResult<Option<SavedInsight>>;
    /// A project's saved insights, oldest first.
    fn saved_insights(&self, project_id: i64) -> StoreResult<Vec<SavedInsight>>;
    /// Writes the name, question and days; `None` when there is no such insight.
    fn update_saved_insight(&self, s: &SavedInsight) -> StoreResult<Option<SavedInsight>>;
    fn delete_saved_insight(&self, project_id: i64, id: i64) -> StoreResult<bool>;
    /// Stores a board unless the project keeps `max` already: then `None`.
    fn create_board(&self, b: &Board, max: usize) -> StoreResult<Option<Board>>;
    fn board(&self, project_id: i64, id: i64) -> StoreResult<Option<Board>>;
    /// A project's boards, oldest first.
    fn boards(&self, project_id: i64) -> StoreResult<Vec<Board>>;
    /// Writes the name and items; `None` when there is no such board.
    fn update_board(&self, b: &Board) -> StoreResult<Option<Board>>;
    fn delete_board(&self, project_id: i64, id: i64) -> StoreResult<bool>;
    /// Keeps `hash` as the board's share token's (replacing any before), or
    /// forgets it with `None`; false when there is no such board.
    fn set_board_share(
        &self,
        project_id: i64,
        id: i64,
        hash: Option<&str>,
        now: i64,
    ) -> StoreResult<bool>;
    /// The board whose share token hashes to `hash`.
    fn shared_board(&self, hash: &str) -> StoreResult<Option<Board>>;
}

/// A project's goals and segments (`spoor_domain::insights::definitions`),
/// each kind in its own table.
pub trait DefinitionStore {
    /// Stores one unless the project keeps the kind's most already: then `None`.
    fn create_definition(&self, of: Defined, d: &Definition) -> StoreResult<Option<Definition>>;
    /// A project's, oldest first.
    fn definitions(&self, of: Defined, project_id: i64) -> StoreResult<Vec<Definition>>;
    /// Writes the name and definition; `None` when there is no such one.
    fn update_definition(&self, of: Defined, d: &Definition) -> StoreResult<Option<Definition>>;
    fn delete_definition(&self, of: Defined, project_id: i64, id: i64) -> StoreResult<bool>;
}

/// Alert rules and the notification log.
pub trait AlertStore {
    fn create_alert_rule(&self, r: &AlertRule) -> StoreResult<AlertRule>;
    fn alert_rule(&self, id: i64) -> StoreResult<Option<AlertRule>>;
    /// A project's rules (every project's with `None`), oldest first.
    fn alert_rules(&self, project_id: Option<i64>) -> StoreResult<Vec<AlertRule>>;
    /// Writes a rule's editable fields; a rule switched off stops firing.
    fn update_alert_rule(&self, r: &AlertRule) -> StoreResult<AlertRule>;
    fn delete_alert_rule(&self, id: i64) -> StoreResult<bool>;
    /// Records a rule's evaluation (when given) and queues notifications, atomically.
    fn record_evaluation(
        &self,
        rule_id: Option<i64>,
        state: Option<&RuleState>,
        queue: &[NewNotification],
        now: i64,
    ) -> StoreResult<()>;
    /// Pending notifications whose next attempt is due.
    fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<Notification>>;
    /// Records a delivery attempt; `status` is `sent`, `pending` or `failed`.
    fn notification_attempted(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        next_attempt_at: i64,
        now: i64,
    ) -> StoreResult<()>;
    /// A project's newest notifications, newest first.
    fn notifications(&self, project_id: i64, limit: i64) -> StoreResult<Vec<Notification>>;
}

/// The CRM: a pass's writes, and contacts, timelines, tasks, scores, merges
/// and the funnel's counts (its pass's lookups are [`CrmReads`]).
pub trait CrmStore: CrmReads + PipelineStore {
    /// Gives back the memory the CRM processor's reads hold (it is idle).
    fn crm_release_memory(&self) -> StoreResult<()>;
    /// Writes a CRM pass, and moves the processor's cursor when given, in one
    /// transaction; `Conflict` when contacts were merged since its world was read.
    fn apply_crm(&self, cursor: Option<(&str, Cursor)>, d: &CrmDelta) -> StoreResult<()> {
        let writes = PassWrites {
            crm: Some(d),
            ..PassWrites::default()
        };
        match cursor {
            Some((name, c)) => self.apply_pass(&[name], c, &writes),
            None => self.apply_pass(&[], Cursor::default(), &writes),
        }
    }
    /// The contact a person is, or the id their contact will get.
    fn crm_contact_for(
        &self,
        project_id: i64,
        user_id: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<String>;
    /// A page of contacts (each with its open tasks) and how many match.
    fn crm_contacts(&self, q: &ContactQuery) -> StoreResult<(Vec<(Contact, i64)>, i64)>;
    /// A contact by id, or the contact it was merged into.
    fn crm_contact(&self, project_id: i64, id: &str) -> StoreResult<Option<Contact>>;
    /// A contact's timeline, newest first, from before an entry id.
    fn crm_timeline(
        &self,
        contact_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Activity>>;
    /// A contact's newest score changes, oldest first.
    fn crm_score_history(&self, contact_id: &str, limit: i64) -> StoreResult<Vec<ScoreChange>>;
    /// Tasks with their contacts, soonest due first, and how many match.
    fn crm_tasks(&self, q: &TaskQuery) -> StoreResult<(Vec<(Task, Contact)>, i64)>;
    fn crm_task(&self, project_id: i64, id: &str) -> StoreResult<Option<Task>>;
    /// Writes a task's changed fields with the timeline entry that tells of it.
    fn crm_update_task(&self, t: &Task, entry: &Activity) -> StoreResult<()>;
    /// Merges `from` into the contact `merged` (already combined by
    /// [`crm::merge`]), atomically.
    fn crm_merge(&self, merged: &Contact, from: &Contact, entry: &Activity) -> StoreResult<()>;
    /// Per status: contacts that reached it, and contacts in it now.
    fn crm_funnel_counts(
        &self,
        project_id: i64,
    ) -> StoreResult<(HashMap<String, i64>, HashMap<String, i64>)>;
    /// Score changes after `after` that took a contact's score to
    /// `threshold` or over it from below, oldest first.
    fn crm_score_crossings(
        &self,
        project_id: i64,
        threshold: f64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ScoreCrossing>>;
    /// The newest score change's id.
    fn crm_last_score_id(&self) -> StoreResult<i64>;
    /// Open bookings started before the time, oldest first.
    fn crm_stale_bookings(&self, started_before: i64, limit: i64) -> StoreResult<Vec<OpenBooking>>;
    /// Multiplies a project's stored scores (a new half-life rescales them).
    fn crm_rescale(&self, project_id: i64, factor: f64) -> StoreResult<()>;
}

/// What is kept about stored files: recordings, screenshots, export jobs,
/// report schedules, storage use.
pub trait FileRecords {
    /// Adds a chunk to its session's rrweb recording, unless the chunk is stored
    /// already or the project's quota (bytes, 0 for none) would be passed.
    fn add_recording_chunk(&self, c: &NewChunk, quota: i64) -> StoreResult<Stored<i64>>;
    /// Records a session's uploaded video; a session has one.
    fn add_video(&self, v: &NewVideo, quota: i64) -> StoreResult<Stored<i64>>;
    /// A page of recordings, newest first, and how many match in all.
    fn recordings(&self, f: &RecordingFilter) -> StoreResult<(Vec<Recording>, i64)>;
    fn recording(&self, project_id: i64, id: i64) -> StoreResult<Option<Recording>>;
    /// A recording's chunks in playback order.
    fn recording_chunks(&self, recording_id: i64) -> StoreResult<Vec<Chunk>>;
    /// Deletes a recording, its chunks and its session's screenshots; the caller
    /// removes the freed files.
    fn delete_recording(&self, project_id: i64, id: i64) -> StoreResult<Freed>;
    /// Stores a friction event's screenshot; an event has one.
    fn add_screenshot(&self, s: &Screenshot, quota: i64) -> StoreResult<Stored<Screenshot>>;
    fn screenshots(&self, f: &ScreenshotFilter) -> StoreResult<Vec<Screenshot>>;
    /// The recordings and newest screenshots of a page of sessions.
    fn session_media(&self, project_id: i64, sessions: &[String]) -> StoreResult<SessionMedia>;
    fn screenshot(&self, project_id: i64, id: i64) -> StoreResult<Option<Screenshot>>;
    /// Notes that the file `key` is about to be put in the file store. The
    /// transaction that commits the row naming it fulfils the intent; one left
    /// over names a file that no row does.
    fn intend_file(&self, project_id: i64, key: &str, now: i64) -> StoreResult<()>;
    /// Intents made before `before` and never fulfilled, oldest first.
    fn stale_file_intents(&self, before: i64, limit: i64) -> StoreResult<Vec<String>>;
    /// Drops intents whose files were removed (or never made).
    fn forget_file_intents(&self, keys: &[String]) -> StoreResult<()>;
    fn create_export_job(&self, j: &NewExportJob) -> StoreResult<ExportJob>;
    /// A project's newest export jobs first.
    fn export_jobs(&self, project_id: i64, limit: i64) -> StoreResult<Vec<ExportJob>>;
    fn export_job(&self, id: i64) -> StoreResult<Option<ExportJob>>;
    /// Puts jobs left running by a runner that died back in the queue. Only the
    /// holder of the `exports` job's lease may call it.
    fn requeue_running_exports(&self) -> StoreResult<u64>;
    /// Takes the oldest queued job and marks it running.
    fn claim_export_job(&self, now: i64) -> StoreResult<Option<ExportJob>>;
    fn export_progress(&self, id: i64, progress: i64) -> StoreResult<()>;
    /// Records a running job's outcome: its file and size, or why it failed.
    /// A scheduled job's report gets `delivery` (pending) to be sent.
    fn finish_export(
        &self,
        id: i64,
        result: Result<(&str, i64), &str>,
        delivery: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
    /// Scheduled jobs whose report is due to be (re)sent.
    fn due_deliveries(&self, now: i64, limit: i64) -> StoreResult<Vec<ExportJob>>;
    fn delivery_attempted(
        &self,
        id: i64,
        delivery: &str,
        error: Option<&str>,
        next_at: i64,
    ) -> StoreResult<()>;
    fn delete_export_job(&self, project_id: i64, id: i64) -> StoreResult<Freed>;
    fn create_schedule(&self, s: &ReportSchedule) -> StoreResult<ReportSchedule>;
    fn schedules(&self, project_id: Option<i64>) -> StoreResult<Vec<ReportSchedule>>;
    fn delete_schedule(&self, project_id: i64, id: i64) -> StoreResult<bool>;
    /// Moves a due schedule to its next run and queues its job, in one
    /// transaction; `None` when another run moved it first.
    fn queue_scheduled(
        &self,
        schedule: &ReportSchedule,
        next_run_at: i64,
        job: &NewExportJob,
    ) -> StoreResult<Option<ExportJob>>;
    /// Bytes a project stores, by kind (`quota_bytes` is left for the caller,
    /// who knows the default: see `file_quota`).
    fn storage_use(&self, project_id: i64) -> StoreResult<StorageUse>;
    /// Deletes the recordings of these people (user or anonymous ids), their
    /// sessions' screenshots, and the finished exports whose range covers
    /// `span` (when their events happened); the caller removes the freed files.
    fn erase_files(
        &self,
        project_id: i64,
        ids: &[String],
        span: Option<(i64, i64)>,
    ) -> StoreResult<Freed>;
    /// Deletes recordings that ended, and screenshots taken, before `cutoff`.
    fn expire_files(&self, project_id: i64, cutoff: i64) -> StoreResult<Freed>;
}

/// A backend's writer of the event log: one per process, on the writer thread.
pub trait LogWriter: Send {
    /// Appends the batches in one transaction and commits durably (see
    /// [`crate::EventWriter::append`]).
    fn append(&mut self, batches: &[crate::Batch<'_>], now: i64) -> StoreResult<Vec<Appended>>;
}
