//! The accept loop: HTTP/1.1 connections, bounded in number and per client,
//! with a deadline for each request's headers and a bound on their size, one
//! for writes that make no progress, and a graceful stop.
//!
//! `axum::serve` has neither bound, and a client that opens connections and then
//! sends its headers a byte at a time (slowloris) would hold them for ever; one
//! that stops reading an answer would hold the answer's memory for ever.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tower::ServiceExt;

use crate::per_client::PerClient;

/// The most bytes a request's line and headers may take (431 beyond). hyper's
/// own bound is about 400 KB a connection, which 1,024 connections would
/// turn into 400 MB held for headers alone. This leaves room for the longest
/// URL hyper takes (64 KiB, 414 past it, which insights' links may reach) and
/// 16 KiB of headers; browsers send a few KB.
pub const MAX_HEAD_BYTES: usize = 80 * 1024;
/// The most a connection reads ahead of its handler (hyper's default is the
/// same 400 KB): room for a whole head and the start of its body.
const MAX_READ_AHEAD: usize = 2 * MAX_HEAD_BYTES;

pub struct AcceptConfig {
    pub max_connections: usize,
    pub header_timeout: Duration,
    /// How long a write may wait on a client that does not read.
    pub write_timeout: Duration,
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
        .max_header_size(MAX_HEAD_BYTES)
        .max_buf_size(MAX_READ_AHEAD)
        // A request whose body has arrived is answered even when the client
        // shuts its side down once it has sent it. It also keeps hyper from
        // reading ahead while a handler runs,
        // to notice such a shutdown: that read took a second buffer per
        // connection while the first still held the body, about 15 MB of
        // the server's peak with 1,024 connections under overload
        // (docs/performance.md). A client that goes away mid-request is
        // then noticed when its answer is written.
        .half_close(true)
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
        let stream = WriteDeadline {
            inner: stream,
            limit: config.write_timeout,
            stalled: None,
        };
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

/// A connection whose writes must make progress: once a write has waited
/// `limit` on a client that takes nothing, it fails, and hyper closes the
/// connection, dropping the answer (and the memory it holds). A slow reader
/// that keeps taking bytes is never cut off.
struct WriteDeadline {
    inner: TcpStream,
    limit: Duration,
    /// Started when a write first finds the client not reading.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl WriteDeadline {
    /// Passes on a write's outcome; while it waits, the stall's timer runs.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the client took nothing of the answer in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
