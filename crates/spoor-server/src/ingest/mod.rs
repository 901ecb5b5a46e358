//! Between the HTTP handlers and the store: a queue bounded in events, and the one
//! writer thread that commits many requests' events per transaction (group commit)
//! and answers each request only after its events are durable.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use spoor_core::Event;
use spoor_store::{Appended, Batch, EventWriter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::telemetry::Metrics;

/// Why events could not be committed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("Spoor's write queue is full; retry shortly")]
    QueueFull,
    #[error("the store failed to commit: {0}")]
    Store(String),
    #[error("the server is shutting down; retry shortly")]
    ShuttingDown,
}

struct Submission {
    project_id: i64,
    key_id: Option<i64>,
    events: Vec<Event>,
    reply: oneshot::Sender<Result<Appended, String>>,
    /// Held until the commit: the queue's room is counted in events. Released
    /// before the reply, so that a client that has its answer never sees its
    /// events still counted as queued.
    permit: OwnedSemaphorePermit,
}

/// The sending side, shared by all handlers.
pub struct Queue {
    tx: mpsc::UnboundedSender<Submission>,
    room: Arc<Semaphore>,
    capacity: usize,
}

impl Queue {
    /// Queues one request's events and waits until they are committed.
    pub async fn submit(
        &self,
        project_id: i64,
        key_id: Option<i64>,
        events: Vec<Event>,
    ) -> Result<Appended, IngestError> {
        if events.is_empty() {
            return Ok(Appended::default());
        }
        let n = u32::try_from(events.len()).map_err(|_| IngestError::QueueFull)?;
        let permit = self
            .room
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| IngestError::QueueFull)?;
        let (reply, done) = oneshot::channel();
        self.tx
            .send(Submission {
                project_id,
                key_id,
                events,
                reply,
                permit,
            })
            .map_err(|_| IngestError::ShuttingDown)?;
        match done.await {
            Ok(Ok(appended)) => Ok(appended),
            Ok(Err(e)) => Err(IngestError::Store(e)),
            Err(_) => Err(IngestError::ShuttingDown),
        }
    }

    /// Events waiting for the writer or being written.
    pub fn depth(&self) -> usize {
        self.capacity - self.room.available_permits()
    }
}

/// Starts the writer thread. It runs until every [`Queue`] is dropped, then commits
/// what is left and returns.
pub fn start(
    writer: EventWriter,
    capacity: usize,
    batch_events: usize,
    metrics: Arc<Metrics>,
) -> std::io::Result<(Queue, JoinHandle<()>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let room = Arc::new(Semaphore::new(capacity));
    let handle = std::thread::Builder::new()
        .name("spoor-writer".into())
        .spawn(move || write_loop(writer, rx, batch_events, &metrics))?;
    Ok((Queue { tx, room, capacity }, handle))
}

fn write_loop(
    mut writer: EventWriter,
    mut rx: mpsc::UnboundedReceiver<Submission>,
    batch_events: usize,
    metrics: &Metrics,
) {
    loop {
        let first = match rx.try_recv() {
            Ok(s) => s,
            Err(mpsc::error::TryRecvError::Empty) => match rx.blocking_recv() {
                Some(s) => s,
                None => break,
            },
            Err(mpsc::error::TryRecvError::Disconnected) => break,
        };
        // Everything that queued up during the last commit goes into this one.
        let mut events = first.events.len();
        let mut group = vec![first];
        while events < batch_events {
            match rx.try_recv() {
                Ok(s) => {
                    events += s.events.len();
                    group.push(s);
                }
                Err(_) => break,
            }
        }
        let batches: Vec<Batch<'_>> = group
            .iter()
            .map(|s| Batch {
                project_id: s.project_id,
                key_id: s.key_id,
                events: &s.events,
            })
            .collect();
        let started = Instant::now();
        let result = writer.append(&batches, spoor_core::time::now_ms());
        drop(batches);
        metrics
            .write_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.write_batch_events.observe(events as f64);
        match result {
            Ok(done) => {
                for (s, appended) in group.into_iter().zip(done) {
                    metrics.events_accepted.inc_by(appended.accepted as u64);
                    metrics.events_duplicate.inc_by(appended.duplicates as u64);
                    // A client that went away is fine: its events are committed.
                    drop(s.permit);
                    let _ = s.reply.send(Ok(appended));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, events, "commit failed; answering 503");
                for s in group {
                    drop(s.permit);
                    let _ = s.reply.send(Err(e.to_string()));
                }
            }
        }
    }
    tracing::info!("event writer drained and stopped");
}
