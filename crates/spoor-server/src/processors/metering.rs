//! The metering processor: folds widget events into widget sessions and their
//! per-day totals (the rules are in `spoor_store::metering`), so that a bill
//! reads day totals and the cleanup job finds calls without an end in an index.
//! It reads only widget events, through an index that holds only theirs: other
//! traffic costs it nothing.

use spoor_store::analytics::Cursor;
use spoor_store::metering::{self, METERING_PROCESSOR};
use spoor_store::{Store, StoreError};

use super::{Pass, moved};

pub struct Metering;

impl Pass for Metering {
    const NAME: &'static str = METERING_PROCESSOR;
    const EVENTS_PER_PASS: i64 = 20_000;

    fn pass(&mut self, store: &Store, cursor: Cursor, up_to: i64) -> Result<usize, StoreError> {
        let events = store.widget_events_after(cursor.seq, up_to, Self::EVENTS_PER_PASS)?;
        let stored = store.call_sessions(&metering::touched(&events))?;
        let delta = metering::fold(&events, stored);
        // A short read found every widget event up to `up_to`: the events
        // between are others, read by nobody here.
        let last = match events.last() {
            Some(e) if events.len() as i64 >= Self::EVENTS_PER_PASS => e.seq,
            _ => up_to,
        };
        let next = moved(cursor, last, events.iter().map(|e| e.received_at));
        store.apply_metering(Self::NAME, next, &delta)?;
        Ok(events.len())
    }
}
