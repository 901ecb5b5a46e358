//! The accept loop: HTTP/1.1 connections, bounded in number and per client,
//! with a deadline for each request's headers, and a graceful stop.
//!
//! `axum::serve` has neither bound, and a client that opens connections and then
//! sends its headers a byte at a time (slowloris) would hold them for ever.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::per_client::PerClient;

pub struct AcceptConfig {
    pub max_connections: usize,
    pub header_timeout: Duration,
    /// Connections each peer network may hold; `None` behind trusted proxies,
    /// whose peers are the proxies.
    pub per_peer: Option<Arc<PerClient>>,
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits for the
/// connections' requests in flight to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: AcceptConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // At the bound, stop accepting: new connections wait in the kernel's
        // backlog until one closes, and memory stays flat.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, do not spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // One client holding many connections would otherwise take the
        // global bound for itself: past its share, its new connection is
        // closed at once (it is not read, so it costs no more than the accept).
        let per_peer = match &config.per_peer {
            Some(caps) => match caps.take(peer.ip()) {
                Some(held) => Some(held),
                None => {
                    tracing::debug!(%peer, "closed: the client holds its share of connections");
                    continue;
                }
            },
            None => None,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop((slot, per_peer));
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
