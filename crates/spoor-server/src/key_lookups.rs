//! Write keys looked up in a store that waits on the network, one lookup
//! shared by the requests that wait for the same key at once.
//!
//! Why: on PostgreSQL every ingestion request looked its key up: a round
//! trip, a turn on the blocking pool and a statement in a backend of its own,
//! which halved single-event throughput (docs/performance.md, "PostgreSQL:
//! one key lookup for the requests waiting on it"). A cache would answer
//! from memory, but would keep admitting a key for a while after it was
//! disabled elsewhere (by `spoor keys disable`, or on another node), and a
//! disabled key is refused at once.
//!
//! So nothing is kept between requests. A request waits for a lookup that
//! *started after it arrived*, and takes that lookup's answer: such a lookup
//! read the key after every change committed before the request came, which
//! is what a lookup of its own would have read. Lookups of one key run one
//! at a time; the requests that arrive while one runs are answered together
//! by the next, so a key costs at most one lookup in flight and one waiting,
//! however many requests carry it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use spoor_store::KeyRecord;

use crate::http::error::ApiError;

/// The lookups in progress, by the key's hash. A slot lives only while some
/// request holds it, so the map is bounded by the requests in flight.
#[derive(Default)]
pub struct KeyLookups {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

#[derive(Default)]
struct Slot {
    /// Lookups of this key started so far; a lookup's number is the count
    /// once it started.
    started: AtomicU64,
    /// The latest lookup that finished: its number and what it found. Held
    /// while a lookup runs, so lookups of one key run one at a time.
    last: tokio::sync::Mutex<Option<(u64, Option<KeyRecord>)>>,
}

impl KeyLookups {
    /// The key whose hash is `hash` (None: no such key), as `read` finds it,
    /// read by a lookup that started after this call did.
    pub async fn look_up<F, Fut>(&self, hash: &str, read: F) -> Result<Option<KeyRecord>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<KeyRecord>, ApiError>>,
    {
        let slot = self.lock().entry(hash.to_string()).or_default().clone();
        let held = Held {
            lookups: self,
            hash,
            slot,
        };
        Self::shared(&held.slot, read).await
    }

    async fn shared<F, Fut>(slot: &Slot, read: F) -> Result<Option<KeyRecord>, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<KeyRecord>, ApiError>>,
    {
        let arrived = slot.started.load(Ordering::SeqCst);
        let mut last = slot.last.lock().await;
        if let Some((number, found)) = last.as_ref()
            && *number > arrived
        {
            return Ok(found.clone());
        }
        let number = slot.started.fetch_add(1, Ordering::SeqCst) + 1;
        // A lookup that failed is not shared: whoever waits next tries again.
        let found = read().await?;
        *last = Some((number, found.clone()));
        Ok(found)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keys with a lookup running or waited for.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.lock().len()
    }
}

/// A request's hold on its key's slot. Let go when the request is done or
/// dropped (its client went away mid-lookup): the slot goes once no other
/// request holds it, so no key's slot outlives its requests.
struct Held<'a> {
    lookups: &'a KeyLookups,
    hash: &'a str,
    slot: Arc<Slot>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // Every clone is made under this lock, so the count read under it is
        // exact: the map's and this one.
        let mut slots = self.lookups.lock();
        if Arc::strong_count(&self.slot) == 2 {
            slots.remove(self.hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn key(active: bool) -> KeyRecord {
        KeyRecord {
            id: 1,
            project_id: 1,
            project: "p".into(),
            name: "k".into(),
            prefix: "abc".into(),
            domains: Vec::new(),
            rate_limit_per_minute: 0,
            per_address_rate_limit_per_minute: 0,
            active,
            keep_full_ip: false,
            created_at: 0,
            last_used_at: None,
        }
    }

    /// The store's key, as a lookup reads it when it starts, and the lookups
    /// made; each lookup takes `delay` to answer.
    struct Fake {
        active: std::sync::atomic::AtomicBool,
        reads: AtomicUsize,
        delay: Duration,
    }

    impl Fake {
        fn new(delay: Duration) -> Arc<Fake> {
            Arc::new(Fake {
                active: true.into(),
                reads: AtomicUsize::new(0),
                delay,
            })
        }
        async fn read(&self) -> Result<Option<KeyRecord>, ApiError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let active = self.active.load(Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            Ok(Some(key(active)))
        }
    }

    #[tokio::test]
    async fn requests_waiting_at_once_share_a_lookup_and_nothing_stays_held() {
        let lookups = Arc::new(KeyLookups::default());
        let fake = Fake::new(Duration::from_millis(20));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (lookups, fake) = (lookups.clone(), fake.clone());
                tokio::spawn(async move { lookups.look_up("h", || fake.read()).await })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().unwrap().unwrap().active);
        }
        // The first lookup, and one for everyone who came while it ran.
        let reads = fake.reads.load(Ordering::SeqCst);
        assert!((1..=2).contains(&reads), "{reads} lookups for 50 requests");
        assert_eq!(lookups.held(), 0);
        // Another request later makes a lookup of its own: nothing was kept.
        lookups.look_up("h", || fake.read()).await.unwrap();
        assert_eq!(fake.reads.load(Ordering::SeqCst), reads + 1);
    }

    #[tokio::test]
    async fn a_request_never_takes_a_lookup_that_started_before_it_came() {
        let lookups = Arc::new(KeyLookups::default());
        let fake = Fake::new(Duration::from_millis(50));
        let first = {
            let (lookups, fake) = (lookups.clone(), fake.clone());
            tokio::spawn(async move { lookups.look_up("h", || fake.read()).await })
        };
        // The first lookup has read the key as active; then it is disabled,
        // and a request comes while that lookup is still running.
        while fake.reads.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        fake.active.store(false, Ordering::SeqCst);
        let second = lookups.look_up("h", || fake.read()).await.unwrap().unwrap();
        assert!(first.await.unwrap().unwrap().unwrap().active);
        assert!(!second.active, "the second request read the change");
        assert_eq!(fake.reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_lookup_is_not_shared_and_unknown_keys_hold_nothing() {
        let lookups = KeyLookups::default();
        let failed = lookups
            .look_up("h", || async { Err(ApiError::Internal("down".into())) })
            .await;
        assert!(failed.is_err());
        let found = lookups.look_up("h", || async { Ok(Some(key(true))) }).await;
        assert!(found.unwrap().is_some(), "the next request looked again");
        for i in 0..100 {
            let hash = format!("u{i}");
            let unknown = lookups.look_up(&hash, || async { Ok(None) }).await;
            assert!(unknown.unwrap().is_none());
        }
        assert_eq!(lookups.held(), 0);
    }

    #[tokio::test]
    async fn a_request_dropped_mid_lookup_holds_nothing() {
        let lookups = KeyLookups::default();
        let fake = Fake::new(Duration::from_secs(10));
        for i in 0..20 {
            let hash = format!("k{i}");
            let gone = tokio::time::timeout(
                Duration::from_millis(5),
                lookups.look_up(&hash, || fake.read()),
            )
            .await;
            assert!(gone.is_err(), "the lookup was still running");
        }
        assert_eq!(lookups.held(), 0);
    }
}
