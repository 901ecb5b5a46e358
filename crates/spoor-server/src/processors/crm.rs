//! The CRM processor: turns business events into contacts, timelines, lead
//! status changes, tasks and lead scores (the rules are in `spoor_store::crm`),
//! and after its passes finds bookings that started and never ended.
//!
//! A pass reads the stored state its events touch, folds the events into it
//! in memory, and writes what changed with its cursor in one transaction. A
//! contact merge between the read and the write makes the write fail and the
//! pass run again, so a merge is never undone by a pass that read before it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use spoor_core::time::now_ms;
use spoor_store::analytics::Cursor;
use spoor_store::crm::{self, BookingChange, CRM_PROCESSOR, Configs, CrmEvent};
use spoor_store::crm_world::CrmCache;
use spoor_store::{Store, StoreError};

use super::{Pass, moved};

/// How often, once caught up, open bookings are checked for abandonment.
const ABANDON_CHECK: Duration = Duration::from_secs(1);
/// Stale bookings handled per check.
const ABANDON_BATCH: i64 = 1_000;

#[derive(Default)]
pub struct Crm {
    checked_at: Option<Instant>,
    /// The last pass read every event that had settled.
    drained: bool,
    /// Stored contacts and identities recent passes read or wrote.
    cache: CrmCache,
    /// Events read since the last `after`: none means the processor is idle.
    last_read: usize,
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

impl Pass for Crm {
    const NAME: &'static str = CRM_PROCESSOR;
    /// A pass's writes grow with the contacts it touches more than with its
    /// events (a contact's row and index entries are written once however
    /// many of its events the pass holds). So when events arrive faster than
    /// the passes go, the passes grow to catch up, up to this.
    const EVENTS_PER_PASS: i64 = 100_000;
    /// Seed 003 syncs critical events within seconds: while events arrive,
    /// the CRM works four fifths of the time rather than one, so that it
    /// keeps up with a steady stream instead of catching up after it (its
    /// thread's lower priority still gives request handlers the cores first).
    const REST_PER_WORK: f64 = 0.25;

    fn pass(&mut self, store: &Store, cursor: Cursor, up_to: i64) -> Result<usize, StoreError> {
        let started = Instant::now();
        let events = store.crm_events_after(cursor.seq, up_to, Self::EVENTS_PER_PASS)?;
        let read = started.elapsed();
        let configs = configs(store, events.iter().map(|e| e.project_id))?;
        let mut world = store.crm_world(&events, &configs, &mut self.cache)?;
        let loaded = started.elapsed();
        let delta = crm::fold(&events, &configs, &mut world, now_ms());
        let folded = started.elapsed();
        // A short read found every such event up to `up_to`.
        let last = match events.last() {
            Some(e) if events.len() as i64 >= Self::EVENTS_PER_PASS => e.seq,
            _ => up_to,
        };
        let next = moved(cursor, last, events.iter().map(|e| e.received_at));
        store.apply_crm(Some((Self::NAME, next)), &delta)?;
        self.cache.wrote(&delta);
        self.drained = (events.len() as i64) < Self::EVENTS_PER_PASS;
        self.last_read = events.len();
        tracing::debug!(
            events = events.len(),
            contacts = delta.contacts.len(),
            cached = self.cache.len(),
            "crm pass: read {read:?}, state {:?}, fold {:?}, write {:?}",
            loaded - read,
            folded - loaded,
            started.elapsed() - folded
        );
        Ok(events.len())
    }

    fn after(&mut self, store: &Store, caught_up: bool) -> Result<(), StoreError> {
        // The caches that keep up with a busy site are worth their memory
        // only while events come: once none do, it goes back.
        if caught_up && self.last_read == 0 && !self.cache.is_empty() {
            self.cache.clear();
            store.crm_release_memory()?;
        }
        // Until a pass says otherwise, the next check finds none read.
        self.last_read = 0;
        // Only with every settled event read, so that a completion still
        // unread does not count as missing. On PostgreSQL events arrive
        // within the settle time all along, so "settled and read" is what
        // can be waited for, and a booking counts as abandoned only once its
        // time ran out before the events that settled.
        if !(caught_up || self.drained)
            || self.checked_at.is_some_and(|t| t.elapsed() < ABANDON_CHECK)
        {
            return Ok(());
        }
        self.checked_at = Some(Instant::now());
        let settled = now_ms() - store.log_settle_time().as_millis() as i64;
        abandon_stale_bookings(store, settled, &mut self.cache)
    }

    /// A pass failed (or another node ran passes): what the cache holds may
    /// not be what is stored.
    fn reset(&mut self) {
        self.cache.clear();
    }
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
