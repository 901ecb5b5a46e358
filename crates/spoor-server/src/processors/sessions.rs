//! The sessions processor: folds events into the sessions they belong to (the
//! rules are in `spoor_store::sessions`) and into people's identities and
//! activity summaries (`spoor_store::customers`), in one transaction per pass,
//! and ends sessions idle for longer than the inactivity time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use spoor_store::analytics::Cursor;
use spoor_store::customers::CustomerEvents;
use spoor_store::sessions::{INACTIVITY_MS, SESSION_PROCESSOR, body_condition, fold_pass};
use spoor_store::{Store, StoreError};

use super::{Pass, moved};

#[derive(Default)]
pub struct Sessions {
    /// When idle sessions were last ended.
    last_timeout: Option<Instant>,
    /// The projects' customer-event mappings, and when they were read.
    maps: HashMap<i64, CustomerEvents>,
    maps_read: Option<Instant>,
    /// The condition under which the pass reads an event's body.
    body_when: String,
}

/// How often idle sessions are looked for.
const TIMEOUT_EVERY: Duration = Duration::from_secs(5);
/// How soon a changed customer-event mapping applies.
const MAPS_EVERY: Duration = Duration::from_secs(2);

impl Sessions {
    fn refresh_maps(&mut self, store: &Store) -> Result<(), StoreError> {
        if self.maps_read.is_some_and(|t| t.elapsed() < MAPS_EVERY) {
            return Ok(());
        }
        let mut maps = HashMap::new();
        for project in store.projects()? {
            maps.insert(project.id, store.customer_events(project.id)?);
        }
        self.body_when = body_condition(maps.values().flat_map(|m| m.event_names()));
        self.maps = maps;
        self.maps_read = Some(Instant::now());
        Ok(())
    }
}

impl Pass for Sessions {
    const NAME: &'static str = SESSION_PROCESSOR;
    /// Each event can touch a session row of its own, so a pass's write grows
    /// with it: 250 keeps the writer's wait within a few ms (500 held the
    /// half-load p99 at 18–21 ms, 2,000 at 44 ms).
    const EVENTS_PER_PASS: i64 = 250;

    fn pass(&mut self, store: &Store, cursor: Cursor, up_to: i64) -> Result<usize, StoreError> {
        self.refresh_maps(store)?;
        let events = store.session_events_after(
            cursor.seq,
            up_to,
            Self::EVENTS_PER_PASS,
            &self.body_when,
        )?;
        let read = events.len();
        let last = events.last().map_or(up_to, |e| e.seq);
        let newest = events
            .iter()
            .map(|e| e.received_at)
            .max()
            .unwrap_or(i64::MIN);
        let next = moved(cursor, last, events.iter().map(|e| e.received_at));
        let (mut sessions, people) = fold_pass(store, events, &self.maps)?;
        // Sessions this pass touched that are already idle end now, in the same
        // write, so that a pass leaves them as the timeout would (a rebuild is
        // then complete the moment its passes are).
        let idle_before = spoor_core::time::now_ms().min(newest) - INACTIVITY_MS;
        for session in sessions.iter_mut() {
            if session.ended_at.is_none() && session.last_seen_at < idle_before {
                session.ended_at = Some(session.last_seen_at);
                session.end_reason = Some("timeout".into());
            }
        }
        store.put_sessions(Self::NAME, next, &sessions, &people)?;
        Ok(read)
    }

    /// Sessions whose last message is older than the inactivity time end, at
    /// that message, with reason `timeout`. While the processor is catching up,
    /// "now" is the receive time of the newest event it has read, so that it does
    /// not end sessions whose next events it has yet to read.
    fn after(&mut self, store: &Store, caught_up: bool) -> Result<(), StoreError> {
        if self
            .last_timeout
            .is_some_and(|t| t.elapsed() < TIMEOUT_EVERY)
        {
            return Ok(());
        }
        self.last_timeout = Some(Instant::now());
        let mut now = spoor_core::time::now_ms();
        if !caught_up {
            match store.processor_cursor(Self::NAME)? {
                Some(cursor) => now = now.min(cursor.received_at),
                None => return Ok(()),
            }
        }
        let ended = store.end_idle_sessions(now - INACTIVITY_MS)?;
        if ended > 0 {
            tracing::debug!("sessions: {ended} ended by inactivity");
        }
        Ok(())
    }
}
