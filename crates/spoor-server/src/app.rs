//! The shared state behind every request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use spoor_store::Store;

use crate::ServerError;
use crate::config::ServerConfig;
use crate::enrich::Enricher;
use crate::http::error::ApiError;
use crate::ingest::Queue;
use crate::ratelimit::RateLimits;
use crate::telemetry::Metrics;

pub struct App {
    pub store: Store,
    pub config: ServerConfig,
    pub queue: Queue,
    pub limits: RateLimits,
    pub login_throttle: crate::http::account::LoginThrottle,
    /// Password checks and hashes, on threads of their own.
    pub password_pool: crate::password_pool::PasswordPool,
    /// Slots each client may hold: connections (counted by the accept loop)
    /// or, behind trusted proxies, requests in flight.
    pub per_client: Arc<crate::per_client::PerClient>,
    /// Asks the exports runner to look at the queue now (see
    /// `scheduler::run_exports_when_asked`).
    pub exports_wanted: tokio::sync::Notify,
    pub enricher: Enricher,
    pub metrics: Arc<Metrics>,
    /// Turns for store calls made from request handlers when the store waits on
    /// the network, as many as it has connections.
    pub network_calls: Arc<tokio::sync::Semaphore>,
    /// Write keys being looked up on such a store, one lookup shared by the
    /// requests waiting for it.
    pub key_lookups: crate::key_lookups::KeyLookups,
    /// Erased people's ids, refused on ingestion.
    pub tombstones: Arc<crate::tombstones::Tombstones>,
    /// Where recordings, screenshots and exports keep their bytes.
    pub files: crate::files::FileStore,
    /// Room for decoded recording chunks, in KiB, shared by every replay
    /// (`UploadLimits::replay_memory_bytes`).
    pub replay_memory: Arc<tokio::sync::Semaphore>,
    /// The exports job, run at once when a person queues an export (its lease
    /// still keeps it to one runner), rather than at the scheduler's next turn.
    pub exports: Arc<crate::scheduler::Job>,
    /// Whether the listener takes connections on loopback addresses only (set
    /// when serving starts): routes meant for the machine itself may then run
    /// without a secret.
    loopback_only: AtomicBool,
    /// A stop was asked for: `/readyz` says so while requests drain.
    draining: AtomicBool,
}

impl App {
    /// Builds the state and starts the writer thread, whose handle the caller joins
    /// after the last request.
    pub fn start(
        store: Store,
        config: ServerConfig,
    ) -> Result<(Arc<App>, JoinHandle<()>), ServerError> {
        let metrics = Arc::new(Metrics::default());
        let enricher = Enricher::new(config.geoip_db.as_deref())?;
        // Events of this month have their partition before the first arrives,
        // rather than waiting for the scheduler's first run.
        if let Err(e) = store.maintain_partitions(spoor_core::time::now_ms()) {
            tracing::warn!("cannot make this month's partitions yet: {e}");
        }
        let writer = store.writer()?;
        let (queue, handle) = crate::ingest::start(
            writer,
            config.queue_events,
            config.write_batch_events,
            metrics.clone(),
        )?;
        let network_calls = Arc::new(tokio::sync::Semaphore::new(store.max_connections()));
        let limits = RateLimits::new(
            store.is_shared(),
            config.redis_url.as_deref(),
            config.redis_ca_file.as_deref(),
        )?;
        tracing::info!("rate limits are counted {}", limits.describe());
        let tombstones = Arc::new(crate::tombstones::Tombstones::load(&store)?);
        let files = crate::files::FileStore::open(&config.scheduler.exports.files)
            .map_err(|e| ServerError::Config(e.to_string()))?;
        tracing::info!("files are kept in {}", files.describe());
        let exports = Arc::new(crate::scheduler::exports(&config.scheduler));
        let login_throttle = crate::http::account::LoginThrottle::new(store.is_shared());
        let per_client = crate::per_client::PerClient::new(config.max_connections_per_ip);
        let replay_memory = Arc::new(tokio::sync::Semaphore::new(
            (config.uploads.replay_memory_bytes / 1024)
                .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
        ));
        let app = App {
            store,
            config,
            queue,
            limits,
            login_throttle,
            password_pool: crate::password_pool::PasswordPool::for_this_machine(),
            per_client,
            exports_wanted: tokio::sync::Notify::new(),
            enricher,
            metrics,
            network_calls,
            key_lookups: Default::default(),
            tombstones,
            files,
            replay_memory,
            exports,
            loopback_only: AtomicBool::new(false),
            draining: AtomicBool::new(false),
        };
        Ok((Arc::new(app), handle))
    }
}

impl App {
    pub fn set_loopback_only(&self, only: bool) {
        self.loopback_only.store(only, Ordering::Relaxed);
    }

    pub fn loopback_only(&self) -> bool {
        self.loopback_only.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// A project's file quota in bytes (0: none): its own, else the server's
    /// default. Here, not with the uploads that enforce it, because the
    /// storage-use answer shows it too.
    pub fn file_quota(&self, project_id: i64) -> Result<i64, spoor_store::StoreError> {
        Ok(self
            .store
            .file_quota(project_id)?
            .unwrap_or(self.config.uploads.default_quota_bytes))
    }

    /// Runs a call that waits on the network (the store on PostgreSQL, Redis)
    /// on a thread of the blocking pool, as many at once as the store has
    /// connections; the rest wait here, as tasks, rather than each on a thread
    /// of its own. The workers stay where they are: handing a worker's place to
    /// another thread for each call (`block_in_place`) spread the connections'
    /// buffers over every thread that had been a worker, each with allocator
    /// pages of its own, and under overload on PostgreSQL that cost about 40 MB
    /// of resident memory (docs/performance.md).
    pub async fn network_call<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        on_the_pool(&self.network_calls, f).await
    }
}

/// Runs `f` on the blocking pool once it has one of `turns`. The turn ends
/// with the call, not with the caller: a call whose request was dropped (its
/// client went away) runs to its end, and counts until then, so no more
/// calls run at once than there are turns.
async fn on_the_pool<T: Send + 'static>(
    turns: &Arc<tokio::sync::Semaphore>,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let turn = turns
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::Unavailable {
            retry_after_secs: 5,
            message: "the server is shutting down".into(),
        })?;
    // Not `http::blocking`: the app is below the HTTP layer, which imports it.
    tokio::task::spawn_blocking(move || {
        let done = f();
        drop(turn);
        done
    })
    .await
    .map_err(|e| ApiError::Internal(format!("a store task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_keeps_its_turn_until_it_ends_though_its_caller_went_away() {
        let turns = Arc::new(tokio::sync::Semaphore::new(1));
        let (release, wait) = mpsc::channel::<()>();
        let (started, has_started) = mpsc::channel::<()>();
        let first = {
            let turns = turns.clone();
            tokio::spawn(async move {
                on_the_pool(&turns, move || {
                    started.send(()).unwrap();
                    wait.recv().unwrap();
                    1
                })
                .await
            })
        };
        tokio::task::spawn_blocking(move || has_started.recv().unwrap())
            .await
            .unwrap();
        // The caller goes away; its call still runs, and holds the one turn.
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(turns.available_permits(), 0);
        let second = {
            let turns = turns.clone();
            tokio::spawn(async move { on_the_pool(&turns, || 2).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "a second call waits for the turn");
        // Once the first call ends, the turn passes to the second.
        release.send(()).unwrap();
        assert_eq!(second.await.unwrap().unwrap(), 2);
        assert_eq!(turns.available_permits(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_after_shutdown_are_refused() {
        let turns = Arc::new(tokio::sync::Semaphore::new(1));
        turns.close();
        let refused = on_the_pool(&turns, || 1).await;
        assert!(matches!(refused, Err(ApiError::Unavailable { .. })));
    }
}
