//! When a key's `last_used_at` is due to be written. Both writers use it: writing
//! it on every commit would add a page to each small commit for a fact that is
//! only shown to the minute.

use std::collections::HashMap;

use crate::Batch;

/// A key's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 10_000;

#[derive(Default)]
pub(crate) struct KeyTouches {
    /// When each key's last use was last written, by key id.
    written: HashMap<i64, i64>,
}

impl KeyTouches {
    /// The keys of these batches whose last use should be written in this commit.
    pub fn due(&self, batches: &[Batch<'_>], now: i64) -> Vec<i64> {
        let mut keys: Vec<i64> = batches.iter().filter_map(|b| b.key_id).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.retain(|k| {
            self.written
                .get(k)
                .is_none_or(|t| now - t >= TOUCH_EVERY_MS)
        });
        keys
    }

    /// Records that `keys` were written by a commit that succeeded.
    pub fn written(&mut self, keys: &[i64], now: i64) {
        for key in keys {
            self.written.insert(*key, now);
        }
    }
}
