//! The folds: each takes from the pass's events what it needs, derives its
//! part of the pass, and hands it to the pass's one transaction.
//!
//! To add a fold: its rules go in the store crate's domain modules (pure, with
//! a conversion from `spoor_store::pipeline::LogEvent`), its writes in each
//! backend (a `write_NAME` called by `apply_pass`, a part of `PassWrites`),
//! and here a struct with `take`, `derive` and `committed`, a field of
//! [`Folds`], and its name in `spoor_store::pipeline::FOLDS`.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use spoor_core::time::now_ms;
use spoor_store::analytics::{Cursor, LogRow, RollupDelta};
use spoor_store::budget::MemoryBudget;
use spoor_store::crm::{self, BookingChange, Configs, CrmDelta, CrmEvent};
use spoor_store::crm_world::CrmCache;
use spoor_store::customers::CustomerEvents;
use spoor_store::friction::{FrictionDelta, FrictionEvent};
use spoor_store::metering::{self, MeteringDelta, WidgetEvent};
use spoor_store::pipeline::{self, Body, FactsDelta, LogEvent};
use spoor_store::sessions::{INACTIVITY_MS, SessionEvent, body_names, fold_pass};
use spoor_store::working_set::WorkingSet;
use spoor_store::{Store, StoreError};

/// The overview's hourly rollups.
#[derive(Default)]
pub struct Rollups {
    rows: Vec<LogRow>,
    pub delta: RollupDelta,
}

impl Rollups {
    pub fn take(&mut self, e: &LogEvent) {
        self.rows.push(LogRow::from_log(e));
    }
    pub fn derive(&mut self) {
        self.delta = RollupDelta::default();
        self.delta.add(&std::mem::take(&mut self.rows));
    }
    pub fn reset(&mut self) {
        *self = Rollups::default();
    }
}

/// Widget sessions and their day totals (usage metering).
#[derive(Default)]
pub struct Metering {
    events: Vec<WidgetEvent>,
    pub delta: MeteringDelta,
}

impl Metering {
    pub fn take(&mut self, e: &LogEvent, body: &Body) {
        self.events.extend(pipeline::widget_event(e, body));
    }
    pub fn derive(&mut self, store: &Store) -> Result<(), StoreError> {
        let events = std::mem::take(&mut self.events);
        let stored = if events.is_empty() {
            Vec::new()
        } else {
            store.call_sessions(&metering::touched(&events))?
        };
        self.delta = metering::fold(&events, stored);
        Ok(())
    }
    pub fn reset(&mut self) {
        *self = Metering::default();
    }
}

/// The friction day tables (clicks, errors, vitals, scroll).
#[derive(Default)]
pub struct Friction {
    events: Vec<FrictionEvent>,
    pub delta: FrictionDelta,
}

impl Friction {
    pub fn take(&mut self, e: &LogEvent, body: &Body) {
        self.events.extend(pipeline::friction_event(e, body));
    }
    pub fn derive(&mut self) {
        self.delta = FrictionDelta::fold(&std::mem::take(&mut self.events));
    }
    pub fn reset(&mut self) {
        *self = Friction::default();
    }
}

/// Insights' facts: each page view and track event a question may ask for,
/// in compact chunks by project and day (`spoor_domain::insights::facts`).
/// Off on a backend that keeps none.
pub struct Facts {
    on: bool,
    pub delta: FactsDelta,
    /// Events left in the pass: a day's rows are given room for all of them
    /// when its first comes (most passes fall in one day).
    left: usize,
}

impl Facts {
    pub fn new(on: bool) -> Facts {
        Facts {
            on,
            delta: FactsDelta::new(),
            left: 0,
        }
    }
    /// Room for a pass of `events`, given to each day as it first comes.
    pub fn make_room(&mut self, events: usize) {
        self.left = events;
    }
    pub fn take(&mut self, e: &LogEvent, body: &Body) {
        let left = self.left;
        self.left = left.saturating_sub(1);
        if !self.on {
            return;
        }
        if let Some(row) = pipeline::fact_row(e, body) {
            self.delta
                .entry((e.project_id, row.day()))
                .or_insert_with(|| Vec::with_capacity(left))
                .push(row);
        }
    }
    /// Forgets the last pass's rows, once written.
    pub fn committed(&mut self) {
        self.delta.clear();
    }
    pub fn reset(&mut self) {
        self.delta.clear();
    }
}

/// How often idle sessions are looked for.
const TIMEOUT_EVERY: Duration = Duration::from_secs(5);
/// How soon a changed customer-event mapping applies.
const MAPS_EVERY: Duration = Duration::from_secs(2);

/// Sessions and people: passes fold into a working set in memory
/// (`spoor_store::working_set`), whose changes are written with each pass.
pub struct Sessions {
    events: Vec<SessionEvent>,
    maps: HashMap<i64, CustomerEvents>,
    maps_read: Option<Instant>,
    /// The track events whose bodies the rules read.
    body_names: Vec<String>,
    pub set: WorkingSet,
    last_timeout: Option<Instant>,
}

impl Sessions {
    pub fn new(budget: MemoryBudget) -> Sessions {
        Sessions {
            events: Vec::new(),
            maps: HashMap::new(),
            maps_read: None,
            body_names: body_names(std::iter::empty()),
            set: WorkingSet::new(budget.working_set_people()),
            last_timeout: None,
        }
    }

    /// Reads the projects' customer-event mappings when they are due, before
    /// a pass takes its events.
    pub fn refresh(&mut self, store: &Store) -> Result<(), StoreError> {
        if self.maps_read.is_some_and(|t| t.elapsed() < MAPS_EVERY) {
            return Ok(());
        }
        let mut maps = HashMap::new();
        for project in store.projects()? {
            maps.insert(project.id, store.customer_events(project.id)?);
        }
        self.body_names = body_names(maps.values().flat_map(|m| m.event_names()));
        self.maps = maps;
        self.maps_read = Some(Instant::now());
        Ok(())
    }

    /// Room for a pass of `events`, each of which this fold keeps.
    pub fn make_room(&mut self, events: usize) {
        self.events.reserve_exact(events);
    }

    pub fn take(&mut self, e: &LogEvent, body: &Body) {
        self.events
            .push(pipeline::session_event(e, body, &self.body_names));
    }

    pub fn derive(&mut self, store: &Store, next: Cursor) -> Result<(), StoreError> {
        let events = std::mem::take(&mut self.events);
        if events.is_empty() {
            return Ok(());
        }
        let newest = events
            .iter()
            .map(|e| e.received_at)
            .max()
            .unwrap_or(i64::MIN);
        let mark = self.set.prefetch(store, &events)?;
        let (mut sessions, people) = fold_pass(&self.set.reads(store), events, &self.maps)?;
        if people.erasure_mark != mark {
            return Err(StoreError::Conflict(
                "a person was erased while the pass read its rows; reading it again".into(),
            ));
        }
        // Sessions this pass touched that are already idle end now, so that a
        // pass leaves them as the timeout would (a rebuild is then complete the
        // moment its passes are).
        let idle_before = now_ms().min(newest).saturating_sub(INACTIVITY_MS);
        for session in sessions.iter_mut() {
            if session.ended_at.is_none() && session.last_seen_at < idle_before {
                session.ended_at = Some(session.last_seen_at);
                session.end_reason = Some("timeout".into());
            }
        }
        self.set.keep(next, sessions, people)
    }

    /// Every [`TIMEOUT_EVERY`], sessions whose last message is older than the
    /// inactivity time end, at that message, with reason `timeout`. While the
    /// pipeline is catching up, "now" is the receive time of the newest event
    /// it has read, so that it does not end sessions whose next events it has
    /// yet to read.
    pub fn after(
        &mut self,
        store: &Store,
        caught_up: bool,
        cursor: Cursor,
    ) -> Result<(), StoreError> {
        if self
            .last_timeout
            .is_some_and(|t| t.elapsed() < TIMEOUT_EVERY)
        {
            return Ok(());
        }
        self.last_timeout = Some(Instant::now());
        let mut now = now_ms();
        if !caught_up {
            now = now.min(cursor.received_at);
        }
        let ended = store.end_idle_sessions(now - INACTIVITY_MS)?;
        self.set.end_idle(now - INACTIVITY_MS);
        if ended > 0 {
            tracing::debug!("sessions: {ended} ended by inactivity");
        }
        Ok(())
    }

    pub fn reset(&mut self) {
        self.events.clear();
        self.set.clear();
    }
}

/// How often, once caught up, open bookings are checked for abandonment.
const ABANDON_CHECK: Duration = Duration::from_secs(1);
/// Stale bookings handled per check.
const ABANDON_BATCH: i64 = 1_000;

/// The CRM: contacts, timelines, lead status, tasks, scores, bookings.
pub struct Crm {
    events: Vec<CrmEvent>,
    /// Stored contacts and identities recent passes read or wrote.
    cache: CrmCache,
    pub delta: Option<CrmDelta>,
    checked_at: Option<Instant>,
}

impl Crm {
    pub fn new(budget: MemoryBudget) -> Crm {
        Crm {
            events: Vec::new(),
            cache: CrmCache::with_generation(budget.crm_cache_generation()),
            delta: None,
            checked_at: None,
        }
    }

    /// Room for a pass of `events`: this fold keeps every track, page and
    /// identify, most of a pass.
    pub fn make_room(&mut self, events: usize) {
        self.events.reserve_exact(events);
    }

    pub fn take(&mut self, e: &LogEvent, body: &Body) {
        self.events.extend(pipeline::crm_event(e, body));
    }

    /// Reads the state the pass's events touch and folds them into it. A
    /// contact merge between the read and the write makes the write fail and
    /// the pass run again, so a merge is never undone by a pass that read
    /// before it.
    pub fn derive(&mut self, store: &Store) -> Result<(), StoreError> {
        let events = std::mem::take(&mut self.events);
        if events.is_empty() {
            self.delta = None;
            return Ok(());
        }
        let configs = configs(store, events.iter().map(|e| e.project_id))?;
        let mut world = store.crm_world(&events, &configs, &mut self.cache)?;
        self.delta = Some(crm::fold(&events, &configs, &mut world, now_ms()));
        Ok(())
    }

    pub fn committed(&mut self) {
        if let Some(d) = self.delta.take() {
            self.cache.wrote(&d);
        }
    }

    /// Once caught up: bookings whose time ran out are abandoned; and when no
    /// event came, the cache's memory goes back.
    pub fn after(&mut self, store: &Store, caught_up: bool, idle: bool) -> Result<(), StoreError> {
        if caught_up && idle && !self.cache.is_empty() {
            self.cache.clear();
            store.crm_release_memory()?;
        }
        if !caught_up || self.checked_at.is_some_and(|t| t.elapsed() < ABANDON_CHECK) {
            return Ok(());
        }
        self.checked_at = Some(Instant::now());
        abandon_stale_bookings(store, now_ms(), &mut self.cache)
    }

    pub fn reset(&mut self) {
        self.events.clear();
        self.delta = None;
        self.cache.clear();
    }
}

/// The configurations of the projects among these events.
fn configs(store: &Store, projects: impl Iterator<Item = i64>) -> Result<Configs, StoreError> {
    let mut configs = HashMap::new();
    for p in projects {
        if let Entry::Vacant(v) = configs.entry(p) {
            v.insert(store.crm_config(p)?);
        }
    }
    Ok(configs)
}

/// Applies the abandonment rule to bookings that were open longer than
/// their project allows at `now`.
fn abandon_stale_bookings(store: &Store, now: i64, cache: &mut CrmCache) -> Result<(), StoreError> {
    let open = store.crm_stale_bookings(now, ABANDON_BATCH)?;
    let configs = configs(store, open.iter().map(|b| b.project_id))?;
    let stale: Vec<_> = open
        .iter()
        .filter(|b| {
            let a = &configs[&b.project_id].abandonment;
            a.after_minutes > 0.0 && b.started_at + (a.after_minutes * 60_000.0) as i64 <= now
        })
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let events: Vec<CrmEvent> = stale
        .iter()
        .map(|b| crm::abandonment_event(b, &configs[&b.project_id], now))
        .collect();
    let mut world = store.crm_world(&events, &configs, cache)?;
    let mut delta = crm::fold(&events, &configs, &mut world, now);
    // Closed whatever the rules did, so a booking is abandoned once.
    delta.bookings.extend(
        stale
            .iter()
            .map(|b| BookingChange::Close(b.project_id, b.contact_id.clone())),
    );
    store.apply_crm(None, &delta)?;
    cache.wrote(&delta);
    tracing::info!(
        "crm: {} bookings abandoned after their time ran out",
        stale.len()
    );
    Ok(())
}
