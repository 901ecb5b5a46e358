//! The friction processor: folds clicks, rage and dead clicks, form errors,
//! errors, page leaves and web vitals into per-day tables (the rules are in
//! `spoor_store::friction`), so that a 30-day report reads day rows rather
//! than the log. It reads those events through an index that holds only
//! theirs.

use spoor_store::analytics::Cursor;
use spoor_store::friction::{FRICTION_PROCESSOR, FrictionDelta};
use spoor_store::{Store, StoreError};

use super::{Pass, moved};

pub struct Friction;

impl Pass for Friction {
    const NAME: &'static str = FRICTION_PROCESSOR;
    const EVENTS_PER_PASS: i64 = 20_000;

    fn pass(&mut self, store: &Store, cursor: Cursor, up_to: i64) -> Result<usize, StoreError> {
        let events = store.friction_events_after(cursor.seq, up_to, Self::EVENTS_PER_PASS)?;
        let delta = FrictionDelta::fold(&events);
        // A short read found every such event up to `up_to`.
        let last = match events.last() {
            Some(e) if events.len() as i64 >= Self::EVENTS_PER_PASS => e.seq,
            _ => up_to,
        };
        let next = moved(cursor, last, events.iter().map(|e| e.received_at));
        store.apply_friction(Self::NAME, next, &delta)?;
        Ok(events.len())
    }
}
