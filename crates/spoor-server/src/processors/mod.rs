//! Processors: threads that read the event log in seq order and keep derived
//! tables up to date (the overview's rollups, sessions, usage metering, friction). The runner here is the
//! same for each:
//!
//! - One node runs a processor at a time, under the `processor:NAME` lease;
//!   another takes over when that node dies (within the scheduler's lease time).
//! - A pass writes what it derived and moves the processor's cursor in one
//!   transaction, so a crash between passes loses nothing and counts nothing
//!   twice.
//! - On PostgreSQL, where several writers commit in any order, a pass reads only
//!   up to a seq that was the newest at least the log's settle time ago, so that
//!   no event still being committed below the cursor is skipped.
//! - The runner is a plain thread (`crate::background`).

mod crm;
mod friction;
mod metering;
mod rollups;
mod sessions;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use spoor_store::analytics::Cursor;
use spoor_store::{Store, StoreError};

use crate::background::{HeldLease, Stop, Worker};
use crate::telemetry::{Metrics, ProcessorLabel};

pub use crm::Crm;
pub use friction::Friction;
pub use metering::Metering;
pub use rollups::Rollups;
pub use sessions::Sessions;

pub use spoor_store::analytics::ROLLUP_PROCESSOR;
pub use spoor_store::crm::CRM_PROCESSOR;
pub use spoor_store::friction::FRICTION_PROCESSOR;
pub use spoor_store::metering::METERING_PROCESSOR;
pub use spoor_store::sessions::SESSION_PROCESSOR;

/// Events read per pass, unless a processor says otherwise. A pass writes in
/// one transaction, and on SQLite the event writer waits for it, so a processor
/// whose writes grow with its events keeps its passes small.
const PASS_EVENTS: i64 = 5_000;
/// A processor that is catching up while events still arrive rests this many
/// times as long as its last pass took before the next one, so that it takes
/// little of the machine from ingestion (a fifth of its time): under a burst it
/// falls behind (see the lag metric) and catches up when the burst is over, at
/// full speed, rather than slowing every request down.
const REST_PER_WORK: f64 = 4.0;
/// Pause between passes when the log had nothing new.
const IDLE: Duration = Duration::from_millis(500);

/// What one processor does with the events of a pass.
pub trait Pass: Send + 'static {
    /// The processor's name: its cursor's and its lease's.
    const NAME: &'static str;
    /// Events one pass reads at most.
    const EVENTS_PER_PASS: i64 = PASS_EVENTS;
    /// How long the processor rests after a pass while catching up, per unit
    /// of the pass's time (see [`REST_PER_WORK`]).
    const REST_PER_WORK: f64 = REST_PER_WORK;

    /// Where the next pass starts: the stored cursor, unless the processor
    /// holds work it has not written yet.
    fn cursor(&mut self, store: &Store) -> Result<Cursor, StoreError> {
        Ok(store.processor_cursor(Self::NAME)?.unwrap_or_default())
    }

    /// Forgets anything held in memory: the stored rows changed under it (a
    /// rebuild), or another node may have moved them on (the lease was lost).
    fn reset(&mut self) {}

    /// Reads the events with seq in `(cursor.seq, up_to]` (up to
    /// [`Pass::EVENTS_PER_PASS`] of them), derives from them, and writes that with the
    /// cursor moved past the last event read (or to `up_to` when there was none).
    /// Returns how many events it read.
    fn pass(&mut self, store: &Store, cursor: Cursor, up_to: i64) -> Result<usize, StoreError>;

    /// Work that is due after a pass, on the same thread (so it never races
    /// the pass's writes); `caught_up` when the pass read everything there was.
    fn after(&mut self, _store: &Store, _caught_up: bool) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The setting that asks the processor `name` to start again from the first
/// event (`spoor rebuild`).
pub fn rebuild_setting(name: &str) -> String {
    format!("rebuild:{name}")
}

/// A rebuild that was asked for is done here, on the processor's thread, so
/// that it never races a pass: the derived rows and the cursor go, and the
/// passes that follow read the log again from the start.
fn rebuild_if_asked<P: Pass>(pass: &mut P, store: &Store) -> Result<(), StoreError> {
    if store.setting(&rebuild_setting(P::NAME))?.is_some() {
        pass.reset();
        store.reset_processor(P::NAME)?;
        store.take_setting(&rebuild_setting(P::NAME))?;
        tracing::info!("{}: rebuilding from the first event", P::NAME);
    }
    Ok(())
}

/// Runs passes on this thread until the processor has read everything there
/// is (for `spoor rebuild` when no server runs it). The caller holds the lease.
pub fn run_to_end<P: Pass>(mut pass: P, store: &Store) -> Result<usize, StoreError> {
    rebuild_if_asked(&mut pass, store)?;
    let mut total = 0;
    loop {
        let cursor = pass.cursor(store)?;
        let up_to = store.max_seq()?;
        if up_to <= cursor.seq {
            pass.after(store, true)?;
            return Ok(total);
        }
        total += pass.pass(store, cursor, up_to)?;
    }
}

/// The cursor after a pass: past the last event read, and no further back in
/// receive time than it was.
pub fn moved(cursor: Cursor, last_seq: i64, received: impl Iterator<Item = i64>) -> Cursor {
    Cursor {
        seq: last_seq,
        received_at: received.fold(cursor.received_at, i64::max),
    }
}

/// A processor's thread.
pub struct Processor(Worker);

impl Processor {
    pub fn start<P: Pass>(
        pass: P,
        store: Store,
        node: String,
        lease: Duration,
        metrics: Arc<Metrics>,
    ) -> Processor {
        Processor(Worker::spawn(format!("spoor-{}", P::NAME), move |stop| {
            run(pass, &store, node, lease, &metrics, stop)
        }))
    }

    /// Stops after the pass in progress and gives the lease up.
    pub fn stop(self) {
        self.0.stop();
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

/// The nice value of processor threads: when the cores are busy, the kernel
/// gives request handlers and the event writer the larger share.
const PROCESSOR_NICE: libc::c_int = 5;

/// Lowers this thread's scheduling priority (Linux: per thread). Best effort: a
/// processor that keeps the normal priority still works.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions; setpriority with PRIO_PROCESS and a
    // thread id changes only that thread's nice value.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, PROCESSOR_NICE) != 0 {
            tracing::debug!("processor thread keeps its priority");
        }
    }
}

fn run<P: Pass>(
    mut pass: P,
    store: &Store,
    node: String,
    lease: Duration,
    metrics: &Metrics,
    stop: &Stop,
) {
    lower_priority();
    let mut held = HeldLease::new(format!("processor:{}", P::NAME), node, lease);
    // A clone of the gauge: the family's guard would block every other
    // processor's lookup for as long as this thread held it.
    let behind = metrics
        .processor_behind
        .get_or_create(&ProcessorLabel {
            processor: P::NAME.into(),
        })
        .clone();
    let mut settled = Settled {
        settle: store.log_settle_time(),
        seen: VecDeque::new(),
        settled: 0,
        newest: 0,
    };
    // Returns the events read and the newest seq in the log.
    let mut one_pass = |pass: &mut P| -> Result<(usize, i64), StoreError> {
        rebuild_if_asked(pass, store)?;
        let cursor = pass.cursor(store)?;
        let up_to = settled.up_to(store)?;
        behind.set(settled.newest - cursor.seq);
        let read = if up_to > cursor.seq {
            pass.pass(store, cursor, up_to)?
        } else {
            0
        };
        let caught_up = usize::try_from(settled.newest - cursor.seq).is_ok_and(|n| n <= read);
        pass.after(store, caught_up)?;
        Ok((read, settled.newest))
    };
    let mut arriving_before = 0;
    let mut was_held = false;
    loop {
        let holds = held.hold(store);
        if holds && !was_held {
            // Another node may have run passes while this one did not hold it.
            pass.reset();
        }
        was_held = holds;
        let wait = if holds {
            let started = Instant::now();
            match one_pass(&mut pass) {
                Ok((0, _)) => IDLE,
                // No event arrived since the last pass: no ingestion to make room for.
                Ok((_, newest)) if std::mem::replace(&mut arriving_before, newest) >= newest => {
                    Duration::from_millis(1)
                }
                Ok(_) => started
                    .elapsed()
                    .mul_f64(P::REST_PER_WORK)
                    .max(Duration::from_millis(1)),
                Err(e) => {
                    // What it held may be part of what failed (an erasure
                    // refuses a flush): it reads from its stored cursor again.
                    pass.reset();
                    tracing::warn!("{}: pass failed, retrying: {e}", P::NAME);
                    IDLE * 4
                }
            }
        } else {
            held.retry_every()
        };
        if !stop.rest(wait) {
            break;
        }
    }
    held.release(store);
}
