//! The rollup processor: adds each event to its hour's rollup (see
//! `spoor_store::analytics`), so that the overview of a month reads a few
//! hundred rows instead of millions of events.

use spoor_store::analytics::{Cursor, ROLLUP_PROCESSOR, RollupDelta};
use spoor_store::{Store, StoreError};

use super::{Pass, moved};

pub struct Rollups;

impl Pass for Rollups {
    const NAME: &'static str = ROLLUP_PROCESSOR;

    fn pass(&mut self, store: &Store, cursor: Cursor, up_to: i64) -> Result<usize, StoreError> {
        let rows = store.log_after(cursor.seq, up_to, Self::EVENTS_PER_PASS)?;
        let mut delta = RollupDelta::default();
        delta.add(&rows);
        // Without rows, only gaps (seqs taken by duplicates or rolled back): skip them.
        let last = rows.last().map_or(up_to, |r| r.seq);
        let next = moved(cursor, last, rows.iter().map(|r| r.received_at));
        store.apply_rollup(Self::NAME, next, &delta)?;
        Ok(rows.len())
    }
}
