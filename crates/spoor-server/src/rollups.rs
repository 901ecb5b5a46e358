//! The rollup processor: reads the event log in seq order and adds each event
//! to its hour's rollup (see `spoor_store::analytics`), so that the overview of
//! a month reads a few hundred rows instead of millions of events.
//!
//! One node runs it at a time, under the `processor:rollups` lease; another
//! takes over when that node dies. Each pass applies its rollups and moves the
//! cursor in one transaction, so a crash between passes loses nothing and
//! counts nothing twice. On PostgreSQL, where several writers commit in any
//! order, a pass reads only up to a seq that was the newest at least the log's
//! settle time ago, so that no event still being committed below it is skipped.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use spoor_store::analytics::{Cursor, ROLLUP_PROCESSOR, RollupDelta};
use spoor_store::{Store, StoreError};

use crate::telemetry::Metrics;

/// Events read per pass.
const PASS_EVENTS: i64 = 20_000;
/// Pause between passes when the log had nothing new.
const IDLE: Duration = Duration::from_millis(500);

pub struct RollupProcessor {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl RollupProcessor {
    pub fn start(
        store: Store,
        node: String,
        lease: Duration,
        metrics: std::sync::Arc<Metrics>,
    ) -> RollupProcessor {
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("spoor-rollups".into())
            .spawn(move || run(&store, &node, lease, &metrics, &stopped))
            .expect("spawn the rollup thread");
        RollupProcessor { stop, thread }
    }

    /// Stops after the pass in progress and gives the lease up.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// Seqs seen at given times, to find one that has settled.
struct Settled {
    settle: Duration,
    seen: VecDeque<(Instant, i64)>,
    settled: i64,
    /// The newest seq seen.
    newest: i64,
}

impl Settled {
    /// The highest seq that is surely committed with everything below it.
    fn up_to(&mut self, store: &Store) -> Result<i64, StoreError> {
        let newest = store.max_seq()?;
        self.newest = newest;
        if self.settle.is_zero() {
            return Ok(newest);
        }
        let now = Instant::now();
        self.seen.push_back((now, newest));
        while let Some(&(at, seq)) = self.seen.front() {
            if now.duration_since(at) < self.settle {
                break;
            }
            self.settled = seq;
            self.seen.pop_front();
        }
        Ok(self.settled)
    }
}

/// One pass: reads what is new and settled, and applies it. The number of
/// events it read.
fn pass(store: &Store, settled: &mut Settled, metrics: &Metrics) -> Result<usize, StoreError> {
    let cursor = store
        .processor_cursor(ROLLUP_PROCESSOR)?
        .unwrap_or_default();
    let up_to = settled.up_to(store)?;
    metrics.rollup_behind.set(settled.newest - cursor.seq);
    if up_to <= cursor.seq {
        return Ok(0);
    }
    let rows = store.log_after(cursor.seq, up_to, PASS_EVENTS)?;
    let Some(last) = rows.last() else {
        // Only gaps (seqs taken by duplicates or rolled back): skip them.
        store.apply_rollup(
            ROLLUP_PROCESSOR,
            Cursor {
                seq: up_to,
                ..cursor
            },
            &RollupDelta::default(),
        )?;
        return Ok(0);
    };
    let mut delta = RollupDelta::default();
    delta.add(&rows);
    let received_at = rows
        .iter()
        .map(|r| r.received_at)
        .max()
        .unwrap_or(cursor.received_at)
        .max(cursor.received_at);
    store.apply_rollup(
        ROLLUP_PROCESSOR,
        Cursor {
            seq: last.seq,
            received_at,
        },
        &delta,
    )?;
    Ok(rows.len())
}

fn run(store: &Store, node: &str, lease: Duration, metrics: &Metrics, stopped: &Receiver<()>) {
    let lease_name = format!("processor:{ROLLUP_PROCESSOR}");
    let ttl = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let mut settled = Settled {
        settle: store.log_settle_time(),
        seen: VecDeque::new(),
        settled: 0,
        newest: 0,
    };
    let mut held_since: Option<Instant> = None;
    loop {
        // Renewed every third of its time, as the scheduler does.
        if held_since.is_none_or(|t| t.elapsed() >= lease / 3) {
            held_since = match store.acquire_lease(&lease_name, node, ttl) {
                Ok(true) => Some(Instant::now()),
                Ok(false) => None,
                Err(e) => {
                    tracing::warn!("rollups: cannot reach the lease: {e}");
                    None
                }
            };
        }
        let wait = if held_since.is_some() {
            match pass(store, &mut settled, metrics) {
                Ok(0) => IDLE,
                Ok(_) => Duration::ZERO,
                Err(e) => {
                    tracing::warn!("rollups: pass failed, retrying: {e}");
                    IDLE * 4
                }
            }
        } else {
            lease / 3
        };
        match stopped.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if held_since.is_some() {
        let _ = store.release_lease(&lease_name, node);
    }
}
