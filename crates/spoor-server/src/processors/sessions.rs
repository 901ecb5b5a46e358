//! The sessions processor: folds events into the sessions they belong to (the
//! rules are in `spoor_store::sessions`) and into people's identities and
//! activity summaries (`spoor_store::customers`), and ends sessions idle for
//! longer than the inactivity time.
//!
//! Passes fold into a working set in memory (`spoor_store::working_set`) and a
//! flush writes what changed with the cursor, in one transaction, every
//! [`FLUSH_EVERY`] or once the log is read to its end.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use spoor_store::analytics::Cursor;
use spoor_store::customers::CustomerEvents;
use spoor_store::sessions::{INACTIVITY_MS, SESSION_PROCESSOR, body_names, fold_pass};
use spoor_store::working_set::WorkingSet;
use spoor_store::{Store, StoreError};

use super::{Pass, moved};

pub struct Sessions {
    /// When idle sessions were last ended.
    last_timeout: Option<Instant>,
    /// The projects' customer-event mappings, and when they were read.
    maps: HashMap<i64, CustomerEvents>,
    maps_read: Option<Instant>,
    /// The condition under which the pass reads an event's body.
    body_names: Vec<String>,
    set: WorkingSet,
    /// When the working set was last written.
    flushed: Instant,
    /// Events the last pass read (0 once `after` has seen it).
    last_read: usize,
}

impl Sessions {
    /// A processor that holds about `people` people in memory (see
    /// `spoor_store::working_set`).
    pub fn new(people: usize) -> Sessions {
        Sessions {
            last_timeout: None,
            maps: HashMap::new(),
            maps_read: None,
            body_names: Vec::new(),
            set: WorkingSet::new(people),
            flushed: Instant::now(),
            last_read: 0,
        }
    }
}

/// How often idle sessions are looked for.
const TIMEOUT_EVERY: Duration = Duration::from_secs(5);
/// How soon a changed customer-event mapping applies.
const MAPS_EVERY: Duration = Duration::from_secs(2);
/// How long folded work waits in memory before it is written while the
/// processor keeps up: what the metrics API shows is then at most this much (and
/// a pass) behind the log.
const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// The same while it is catching up (its last pass read a whole pass): what it
/// shows is behind by its backlog anyway, and a flush that waits longer writes
/// each row once for more of its messages (a flush costs by the rows and pages
/// it writes, not by the messages folded into them).
const FLUSH_BEHIND_EVERY: Duration = Duration::from_secs(10);

impl Sessions {
    fn refresh_maps(&mut self, store: &Store) -> Result<(), StoreError> {
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

    fn flush(&mut self, store: &Store) -> Result<(), StoreError> {
        self.set.flush(store, Self::NAME)?;
        self.flushed = Instant::now();
        Ok(())
    }
}

impl Pass for Sessions {
    const NAME: &'static str = SESSION_PROCESSOR;
    /// Passes fold in memory; the flush's write is what costs, and on SQLite it
    /// writes the derived file, which the event writer never waits for.
    const EVENTS_PER_PASS: i64 = 5_000;
    /// No rest: it runs at a lower priority than request handling (see
    /// `PROCESSOR_NICE`), and to keep up it needs a core of its own under load.
    const REST_PER_WORK: f64 = 0.0;

    fn cursor(&mut self, store: &Store) -> Result<Cursor, StoreError> {
        match self.set.cursor() {
            Some(cursor) => Ok(cursor),
            None => Ok(store.processor_cursor(Self::NAME)?.unwrap_or_default()),
        }
    }

    fn reset(&mut self) {
        self.set.clear();
    }

    fn pass(&mut self, store: &Store, cursor: Cursor, up_to: i64) -> Result<usize, StoreError> {
        self.refresh_maps(store)?;
        let events = store.session_events_after(
            cursor.seq,
            up_to,
            Self::EVENTS_PER_PASS,
            &self.body_names,
        )?;
        let read = events.len();
        let last = events.last().map_or(up_to, |e| e.seq);
        let newest = events
            .iter()
            .map(|e| e.received_at)
            .max()
            .unwrap_or(i64::MIN);
        let next = moved(cursor, last, events.iter().map(|e| e.received_at));
        let (mut sessions, people) = fold_pass(&self.set.reads(store), events, &self.maps)?;
        // Sessions this pass touched that are already idle end now, so that a
        // pass leaves them as the timeout would (a rebuild is then complete the
        // moment its passes are).
        // A pass may read no event at all (an erasure emptied its stretch of
        // the log), and then `newest` is `i64::MIN`.
        let idle_before = spoor_core::time::now_ms()
            .min(newest)
            .saturating_sub(INACTIVITY_MS);
        for session in sessions.iter_mut() {
            if session.ended_at.is_none() && session.last_seen_at < idle_before {
                session.ended_at = Some(session.last_seen_at);
                session.end_reason = Some("timeout".into());
            }
        }
        self.set.keep(next, sessions, people)?;
        self.last_read = read;
        let behind = read as i64 >= Self::EVENTS_PER_PASS;
        let every = if behind {
            FLUSH_BEHIND_EVERY
        } else {
            FLUSH_EVERY
        };
        if self.flushed.elapsed() >= every || self.set.full() {
            self.flush(store)?;
        }
        Ok(read)
    }

    /// Writes what is held once a pass finds nothing new. Then, every
    /// [`TIMEOUT_EVERY`], sessions whose last message is older than the
    /// inactivity time end, at that message, with reason `timeout`. While the
    /// processor is catching up, "now" is the receive time of the newest event
    /// it has read, so that it does not end sessions whose next events it has
    /// yet to read.
    fn after(&mut self, store: &Store, caught_up: bool) -> Result<(), StoreError> {
        // Nothing new since the last pass (or no pass ran): the log is read to
        // its end. Under steady load that is rare, and FLUSH_EVERY applies.
        let idle = std::mem::take(&mut self.last_read) == 0;
        if caught_up && idle && self.set.has_unflushed() {
            self.flush(store)?;
        }
        if self
            .last_timeout
            .is_some_and(|t| t.elapsed() < TIMEOUT_EVERY)
        {
            return Ok(());
        }
        // The timeout is a statement over the stored sessions: everything held
        // is written first.
        self.flush(store)?;
        self.last_timeout = Some(Instant::now());
        let mut now = spoor_core::time::now_ms();
        if !caught_up {
            match store.processor_cursor(Self::NAME)? {
                Some(cursor) => now = now.min(cursor.received_at),
                None => return Ok(()),
            }
        }
        let ended = store.end_idle_sessions(now - INACTIVITY_MS)?;
        self.set.end_idle(now - INACTIVITY_MS);
        if ended > 0 {
            tracing::debug!("sessions: {ended} ended by inactivity");
        }
        Ok(())
    }
}
