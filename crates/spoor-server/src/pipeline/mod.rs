//! The derivation pipeline: one thread reads the event log in order, decodes
//! each event at most once, and hands the same events to every fold (rollups,
//! sessions and people, metering, friction, the CRM; see [`folds`]). A pass
//! writes what every fold derived and moves every fold's cursor in one
//! transaction (`Store::apply_pass`), so a crash between passes loses nothing
//! and counts nothing twice, for all the folds together.
//!
//! - One node runs it at a time, under the `processor:pipeline` lease; another
//!   takes over when that node dies (within the scheduler's lease time).
//! - The log is read up to an exact horizon (`Store::log_events_after`): on
//!   SQLite everything committed, on PostgreSQL everything no running
//!   transaction can still come before.
//! - A fold whose cursor is ahead of the others (`spoor rebuild` reset the
//!   others, or it ran alone before) skips the events it has counted.
//! - Ingestion comes first: the thread runs at a lower priority, so on a
//!   saturated machine the pipeline falls behind (`spoor_pipeline_behind_*`,
//!   and the dashboard says so) and catches up once the load eases.
//! - Its memory is bounded: a pass holds at most [`PASS_EVENTS`] events, and
//!   the folds' caches are sized from the memory budget.

pub mod folds;

use std::sync::Arc;
use std::time::Duration;

use spoor_store::analytics::Cursor;
use spoor_store::budget::MemoryBudget;
use spoor_store::pipeline::{Body, FOLDS, PIPELINE_LEASE, PassWrites};
use spoor_store::{Store, StoreError};

use crate::background::{HeldLease, Stop, Worker};
use crate::telemetry::{Metrics, StageLabel};

pub use folds::{Crm, Friction, Metering, Rollups, Sessions};

/// Events one pass reads at most: what a pass holds in memory, decoded.
pub const PASS_EVENTS: i64 = 5_000;
/// After a pass that found the log's end, the pipeline waits this long for
/// more to gather: fewer, larger passes write each changed row once for more
/// events, and derived views stay within about this of the log.
const GATHER: Duration = Duration::from_millis(200);
/// After a failed pass.
const RETRY: Duration = Duration::from_secs(2);
/// The nice value of the pipeline's thread: when the cores are busy, the
/// kernel gives request handlers and the event writer the larger share.
const PIPELINE_NICE: libc::c_int = 5;

/// The setting that asks the fold `name` to start again from the first event
/// (`spoor rebuild`).
pub fn rebuild_setting(name: &str) -> String {
    format!("rebuild:{name}")
}

/// Every fold, each with its own cursor at the start of the pass.
pub struct Folds {
    pub rollups: Rollups,
    pub sessions: Sessions,
    pub metering: Metering,
    pub friction: Friction,
    pub crm: Crm,
    /// Each fold's stored cursor, in the order of [`FOLDS`]: events at or
    /// before it are counted already.
    starts: [Cursor; 5],
    /// Where the next pass reads from: the slowest fold's cursor.
    cursor: Cursor,
    loaded: bool,
}

/// One stage's thread CPU time, to tell what each fold costs.
#[derive(Default)]
struct CpuClock;

impl CpuClock {
    fn now() -> Duration {
        #[cfg(target_os = "linux")]
        {
            let mut t = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime writes the timespec it is given.
            if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
                return Duration::new(
                    t.tv_sec.max(0) as u64,
                    t.tv_nsec.clamp(0, 999_999_999) as u32,
                );
            }
        }
        Duration::ZERO
    }
}

/// What a pass found.
pub struct PassOutcome {
    /// Events read.
    pub read: usize,
    /// Whether it read everything there was to read.
    pub caught_up: bool,
}

impl Folds {
    pub fn new(budget: MemoryBudget) -> Folds {
        Folds {
            rollups: Rollups::default(),
            sessions: Sessions::new(budget),
            metering: Metering::default(),
            friction: Friction::default(),
            crm: Crm::new(budget),
            starts: [Cursor::default(); 5],
            cursor: Cursor::default(),
            loaded: false,
        }
    }

    /// Forgets everything held: the stored rows may have changed under it (a
    /// failed pass, a rebuild, another node ran passes).
    pub fn reset(&mut self) {
        self.rollups.reset();
        self.sessions.reset();
        self.metering.reset();
        self.friction.reset();
        self.crm.reset();
        self.loaded = false;
    }

    fn load(&mut self, store: &Store) -> Result<(), StoreError> {
        for (i, name) in FOLDS.iter().enumerate() {
            self.starts[i] = store.processor_cursor(name)?.unwrap_or_default();
        }
        self.cursor = *self
            .starts
            .iter()
            .min_by_key(|c| (c.xid, c.seq))
            .expect("five folds");
        self.loaded = true;
        Ok(())
    }

    /// A rebuild that was asked for is done here, between passes, so that it
    /// never races one: the fold's rows and cursor go, and it reads the log
    /// again from the start while the others skip what they counted.
    fn rebuild_if_asked(&mut self, store: &Store) -> Result<(), StoreError> {
        for name in FOLDS {
            if store.setting(&rebuild_setting(name))?.is_some() {
                store.reset_processor(name)?;
                store.take_setting(&rebuild_setting(name))?;
                self.reset();
                tracing::info!("{name}: rebuilding from the first event");
            }
        }
        Ok(())
    }

    /// Reads the next events, folds them, and writes the pass.
    pub fn pass(&mut self, store: &Store, metrics: &Metrics) -> Result<PassOutcome, StoreError> {
        self.rebuild_if_asked(store)?;
        if !self.loaded {
            self.load(store)?;
        }
        self.sessions.refresh(store)?;
        let mut clock = CpuClock::now();
        let mut stage = |name: &'static str| {
            let now = CpuClock::now();
            metrics
                .pipeline_cpu
                .get_or_create(&StageLabel { stage: name.into() })
                .inc_by(now.saturating_sub(clock).as_secs_f64());
            clock = now;
        };
        let events = store.log_events_after(self.cursor, PASS_EVENTS)?;
        stage("read");
        let Some(last) = events.last() else {
            return Ok(PassOutcome {
                read: 0,
                caught_up: true,
            });
        };
        let mut next = last.cursor();
        next.received_at = events
            .iter()
            .map(|e| e.event.received_at)
            .fold(self.cursor.received_at, i64::max);
        // Bodies are decoded on a fold's first ask and kept for the pass, so
        // that the folds after it share the decoding.
        let bodies: Vec<Body> = events.iter().map(|e| Body::new(&e.event.body)).collect();
        let [r, s, m, f, c] = self.starts;
        let fresh = |e: &spoor_store::pipeline::LogEvent, start: &Cursor| !e.counted_by(start);
        for e in events.iter().filter(|e| fresh(e, &r)) {
            self.rollups.take(e);
        }
        self.rollups.derive();
        stage("rollups");
        for (e, b) in events.iter().zip(&bodies).filter(|(e, _)| fresh(e, &s)) {
            self.sessions.take(e, b);
        }
        self.sessions.derive(store, next)?;
        stage("sessions");
        for (e, b) in events.iter().zip(&bodies).filter(|(e, _)| fresh(e, &m)) {
            self.metering.take(e, b);
        }
        self.metering.derive(store)?;
        stage("metering");
        for (e, b) in events.iter().zip(&bodies).filter(|(e, _)| fresh(e, &f)) {
            self.friction.take(e, b);
        }
        self.friction.derive();
        stage("friction");
        for (e, b) in events.iter().zip(&bodies).filter(|(e, _)| fresh(e, &c)) {
            self.crm.take(e, b);
        }
        self.crm.derive(store)?;
        stage("crm");
        drop(bodies);
        let read = events.len();
        drop(events);
        let (rollups, metering, friction, crm) = (
            &self.rollups.delta,
            &self.metering.delta,
            &self.friction.delta,
            self.crm.delta.as_ref(),
        );
        self.sessions.set.flush_with(|sessions| {
            store.apply_pass(
                &FOLDS,
                next,
                &PassWrites {
                    rollups: Some(rollups),
                    sessions,
                    metering: Some(metering),
                    friction: Some(friction),
                    crm,
                },
            )
        })?;
        stage("commit");
        self.crm.committed();
        for start in self.starts.iter_mut() {
            if (start.xid, start.seq) < (next.xid, next.seq) {
                *start = next;
            }
        }
        self.cursor = next;
        metrics.pipeline_events.inc_by(read as u64);
        Ok(PassOutcome {
            read,
            caught_up: (read as i64) < PASS_EVENTS,
        })
    }

    /// Work due after a pass, on the same thread (so it never races a pass's
    /// writes): sessions' inactivity timeout, the CRM's abandoned bookings.
    pub fn after(&mut self, store: &Store, outcome: &PassOutcome) -> Result<(), StoreError> {
        self.sessions.after(store, outcome.caught_up, self.cursor)?;
        self.crm.after(store, outcome.caught_up, outcome.read == 0)
    }
}

/// Runs passes on this thread until the log is read to its end (`spoor
/// rebuild` when no server runs the pipeline). The caller holds the lease.
pub fn run_to_end(store: &Store) -> Result<usize, StoreError> {
    let metrics = Metrics::default();
    let metrics = &metrics;
    let mut folds = Folds::new(MemoryBudget::get());
    let mut total = 0;
    loop {
        let outcome = folds.pass(store, metrics)?;
        total += outcome.read;
        if outcome.read == 0 {
            folds.after(store, &outcome)?;
            return Ok(total);
        }
    }
}

/// The pipeline's thread.
pub struct Pipeline(Worker);

impl Pipeline {
    pub fn start(store: Store, node: String, lease: Duration, metrics: Arc<Metrics>) -> Pipeline {
        Pipeline(Worker::spawn("spoor-pipeline".into(), move |stop| {
            run(&store, node, lease, &metrics, stop)
        }))
    }

    /// Stops after the pass in progress and gives the lease up.
    pub fn stop(self) {
        self.0.stop();
    }
}

/// Lowers this thread's scheduling priority (Linux: per thread). Best effort:
/// a pipeline that keeps the normal priority still works.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions; setpriority with PRIO_PROCESS and a
    // thread id changes only that thread's nice value.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, PIPELINE_NICE) != 0 {
            tracing::debug!("pipeline thread keeps its priority");
        }
    }
}

fn run(store: &Store, node: String, lease: Duration, metrics: &Metrics, stop: &Stop) {
    lower_priority();
    let mut held = HeldLease::new(PIPELINE_LEASE.into(), node, lease);
    let mut folds = Folds::new(MemoryBudget::get());
    let mut was_held = false;
    loop {
        let holds = held.hold(store);
        if holds && !was_held {
            // Another node may have run passes while this one did not hold it.
            folds.reset();
        }
        was_held = holds;
        let wait = if holds {
            let outcome = folds
                .pass(store, metrics)
                .and_then(|o| folds.after(store, &o).map(|()| o));
            match outcome {
                Ok(o) => {
                    if let Ok(backlog) = store.pipeline_backlog() {
                        metrics.pipeline_behind_events.set(backlog.events);
                        metrics
                            .pipeline_behind_seconds
                            .set(backlog.ms as f64 / 1000.0);
                    }
                    if o.caught_up { GATHER } else { Duration::ZERO }
                }
                Err(e) => {
                    // What it held may be part of what failed (an erasure
                    // refuses a pass): it reads from its stored cursors again.
                    folds.reset();
                    tracing::warn!("pipeline: pass failed, retrying: {e}");
                    RETRY
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
