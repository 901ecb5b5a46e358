//! Erased people's ids, checked on ingestion so that a late retry from an SDK
//! (or a replay of old logs) does not bring an erased person back.
//!
//! The ids live in the store (`erased_ids`); each node keeps a copy in memory,
//! added to at once by an erasure on this node and read again from the store
//! every few seconds for erasures on others. The sessions processor checks the
//! store itself, so an event another node stored in those seconds still
//! derives nothing.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use spoor_store::{Store, StoreResult};

/// How soon an erasure on another node is refused here.
const REFRESH: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct Tombstones {
    ids: RwLock<HashSet<(i64, String)>>,
    /// Set once any id is known, so that the common case costs one load.
    any: AtomicBool,
    /// The newest erasure read.
    mark: AtomicI64,
    /// When the copy was last read, ms.
    read_at: AtomicI64,
    reading: AtomicBool,
}

impl Tombstones {
    pub fn load(store: &Store) -> StoreResult<Tombstones> {
        let t = Tombstones::default();
        t.read(store)?;
        Ok(t)
    }

    /// Reads the erasures newer than the copy's.
    fn read(&self, store: &Store) -> StoreResult<()> {
        let rows = store.erased_since(self.mark.load(Ordering::Acquire))?;
        self.add(rows);
        self.read_at
            .store(spoor_core::time::now_ms(), Ordering::Release);
        Ok(())
    }

    pub fn add(&self, rows: impl IntoIterator<Item = (i64, String, i64)>) {
        let mut ids = self.ids.write().unwrap_or_else(|e| e.into_inner());
        for (project, id, mark) in rows {
            self.mark.fetch_max(mark, Ordering::AcqRel);
            ids.insert((project, id));
        }
        if !ids.is_empty() {
            self.any.store(true, Ordering::Release);
        }
    }

    /// Whether a message naming these ids must not be stored.
    pub fn refuses(&self, project_id: i64, ids: [Option<&str>; 2]) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let set = self.ids.read().unwrap_or_else(|e| e.into_inner());
        ids.into_iter()
            .flatten()
            .any(|id| set.contains(&(project_id, id.to_string())))
    }

    /// Starts reading the store again, off this thread, when the copy is older
    /// than the refresh time and no read is under way.
    pub fn refresh_if_due(self: &Arc<Self>, store: &Store) {
        let age = spoor_core::time::now_ms() - self.read_at.load(Ordering::Acquire);
        if age < REFRESH.as_millis() as i64 || self.reading.swap(true, Ordering::AcqRel) {
            return;
        }
        let (this, store) = (self.clone(), store.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = this.read(&store) {
                tracing::warn!("cannot read erased ids: {e}");
            }
            this.reading.store(false, Ordering::Release);
        });
    }
}
