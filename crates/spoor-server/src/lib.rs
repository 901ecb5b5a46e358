//! Spoor's server: the HTTP API (ingestion, admin, operations), the bounded queue
//! and the group-commit writer that stands between requests and the store.
//!
//! [`Server::serve`] serves on a listener the caller has already bound, so a caller (or a
//! test) knows the address before the first request and never waits for start-up.

mod accept;
pub mod alerts;
mod app;
mod background;
pub mod config;
pub mod enrich;
pub mod exports;
pub mod files;
mod http;
mod ingest;
mod key_lookups;
pub mod metering;
pub mod notify;
mod password_pool;
mod per_client;
pub mod pipeline;
mod process_metrics;
mod ratelimit;
pub mod scheduler;
mod telemetry;
mod tombstones;

use std::future::Future;

pub use accept::MAX_HEAD_BYTES;
pub use config::ServerConfig;
pub use enrich::GeoError;
/// The tracing target of the access log's lines.
pub use http::ACCESS_TARGET;
pub use http::account::SETUP_TTL;
pub use http::openapi::document as openapi_document;
use spoor_store::Store;
use tokio::net::TcpListener;

/// Why the server could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] spoor_store::StoreError),
    #[error(transparent)]
    Geo(#[from] GeoError),
    #[error("server IO error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Config(String),
    #[error("the event writer stopped unexpectedly")]
    WriterPanicked,
}

/// A started server: its state is built and its writer runs, but it serves nothing
/// until [`Server::serve`]. Start-up errors (an unreadable GeoIP database, a store
/// that cannot be written) surface here, before anyone is told the server is up.
pub struct Server {
    app: std::sync::Arc<app::App>,
    writer: std::thread::JoinHandle<()>,
    scheduler: Option<scheduler::Scheduler>,
    pipeline: Option<pipeline::Pipeline>,
}

impl Server {
    pub fn start(store: Store, config: ServerConfig) -> Result<Server, ServerError> {
        let (app, writer) = app::App::start(store, config)?;
        let role = app.config.role;
        // An ingest node neither derives nor runs jobs: nodes of the derive
        // role (or all) do, under their leases.
        let scheduler = role.derives().then(|| {
            scheduler::Scheduler::start(
                app.store.clone(),
                app.config.scheduler.clone(),
                app.metrics.clone(),
            )
        });
        let (node, lease) = (&app.config.scheduler.node, app.config.scheduler.lease);
        let pipeline = role.derives().then(|| {
            pipeline::Pipeline::start(app.store.clone(), node.clone(), lease, app.metrics.clone())
        });
        Ok(Server {
            app,
            writer,
            scheduler,
            pipeline,
        })
    }

    /// When the store has no dashboard users yet, a new one-time token for the
    /// set-up page (`/setup?token=...`) that creates the first owner.
    pub fn setup_token(&self) -> Result<Option<String>, ServerError> {
        Ok(http::account::setup_token(&self.app.store)?)
    }

    /// Serves on `listener` until `shutdown` resolves, then stops taking requests,
    /// lets the requests in flight finish, commits everything queued, and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let accept = accept::AcceptConfig {
            max_connections: self.app.config.max_connections,
            header_timeout: self.app.config.header_timeout,
            write_timeout: self.app.config.write_timeout,
            // Behind trusted proxies every connection is a proxy's: clients are
            // then bounded per request, by their forwarded address (`http`).
            per_peer: (self.app.config.proxy_hops == 0).then(|| self.app.per_client.clone()),
        };
        let exports = self
            .app
            .config
            .role
            .derives()
            .then(|| tokio::spawn(scheduler::run_exports_when_asked(self.app.clone())));
        self.app
            .set_loopback_only(listener.local_addr()?.ip().is_loopback());
        // Asked to stop: not ready from now on, and the listener closes once
        // the drain time has passed.
        let shutdown = {
            let app = self.app.clone();
            async move {
                shutdown.await;
                app.start_draining();
                tokio::time::sleep(app.config.drain).await;
            }
        };
        let router = http::router(self.app);
        let served = accept::serve(listener, router, accept, shutdown).await;
        // The exports task holds the app, and with it the queue's sender: it
        // must end for the writer to see the queue close. A run it started
        // finishes on its blocking thread.
        if let Some(exports) = exports {
            exports.abort();
            let _ = exports.await;
        }
        let (scheduler, pipeline) = (self.scheduler, self.pipeline);
        tokio::task::spawn_blocking(move || {
            scheduler.into_iter().for_each(scheduler::Scheduler::stop);
            pipeline.into_iter().for_each(pipeline::Pipeline::stop);
        })
        .await
        .map_err(|_| ServerError::WriterPanicked)?;
        served?;
        // The router and every request are gone, so the queue's last sender is
        // dropped: the writer drains what is left, commits it and exits.
        let writer = self.writer;
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(|_| ServerError::WriterPanicked)?
            .map_err(|_| ServerError::WriterPanicked)
    }
}
