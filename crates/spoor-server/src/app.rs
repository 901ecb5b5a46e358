//! The shared state behind every request.

use std::sync::Arc;
use std::thread::JoinHandle;

use spoor_store::Store;

use crate::ServerError;
use crate::config::ServerConfig;
use crate::enrich::Enricher;
use crate::http::auth::RateLimiters;
use crate::ingest::Queue;
use crate::telemetry::Metrics;

pub struct App {
    pub store: Store,
    pub config: ServerConfig,
    pub queue: Queue,
    pub limiters: RateLimiters,
    pub enricher: Enricher,
    pub metrics: Arc<Metrics>,
    /// Turns for store calls made from request handlers when the store waits on
    /// the network, as many as it has connections.
    pub network_calls: tokio::sync::Semaphore,
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
        let writer = store.writer()?;
        let (queue, handle) = crate::ingest::start(
            writer,
            config.queue_events,
            config.write_batch_events,
            metrics.clone(),
        )?;
        let network_calls = tokio::sync::Semaphore::new(store.max_connections());
        let app = App {
            store,
            config,
            queue,
            limiters: RateLimiters::default(),
            enricher,
            metrics,
            network_calls,
        };
        Ok((Arc::new(app), handle))
    }
}
