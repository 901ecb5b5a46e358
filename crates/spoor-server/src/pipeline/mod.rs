//! The derivation pipeline: one thread reads the event log in order, decodes
//! each event at most once, and hands the same events to every fold (rollups,
//! sessions and people, metering, friction, the CRM; see [`folds`]). A pass
//! writes what every fold derived and moves every fold's cursor in one
//! transaction (`Store::apply_pass`), so a crash between passes loses nothing
//! and counts nothing twice, for all the folds together. While it is behind,
//! SQLite keeps the passes of up to a second in that transaction
//! (`PassWrites::more_follow`): a crash then takes them all back, cursors
//! included, and they are read again.
//!
//! - One node runs it at a time, under the `processor:pipeline` lease; another
//!   takes over when that node dies (within the scheduler's lease time).
//! - The log is read up to an exact horizon (`Store::log_events_after`): on
//!   SQLite everything committed, on PostgreSQL everything no running
//!   transaction can still come before.
//! - A fold whose cursor is ahead of the others (`spoor rebuild` reset the
//!   others, or it ran alone before) skips the events it has counted.
//! - Ingestion comes first: the thread runs in the idle scheduling class
//!   ([`priority`]), so on a saturated machine the pipeline falls behind
//!   (`spoor_pipeline_behind_*`, and the dashboard says so) and catches up once
//!   the load eases; past a bound it takes a small share back.
//! - Its memory is bounded: a pass reads at most
//!   [`MemoryBudget::pass_events`] events, and the folds' caches are sized
//!   from the same memory budget.

pub mod folds;
pub mod priority;

use std::sync::Arc;
use std::time::{Duration, Instant};

use spoor_store::analytics::Cursor;
use spoor_store::budget::MemoryBudget;
use spoor_store::pipeline::{Body, FOLDS, PIPELINE_LEASE, PassWrites};
use spoor_store::{Store, StoreError};

use crate::background::{HeldLease, Stop, Worker};
use crate::telemetry::{Metrics, StageLabel};
use priority::Priority;

pub use folds::{Crm, Facts, Friction, Metering, Rollups, Sessions};

/// After a pass that found the log's end, the pipeline waits this long for
/// more to gather: fewer, larger passes write each changed row once for more
/// events, and derived views stay within about this of the log.
const GATHER: Duration = Duration::from_millis(200);
/// After a failed pass.
const RETRY: Duration = Duration::from_secs(2);

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
    pub facts: Facts,
    /// Each fold's stored cursor, in the order of [`FOLDS`]: events at or
    /// before it are counted already.
    starts: [Cursor; FOLDS.len()],
    /// Where the next pass reads from: the slowest fold's cursor.
    cursor: Cursor,
    loaded: bool,
    /// Events a pass reads at most ([`MemoryBudget::pass_events`]). A pass
    /// holds what its folds took of them, and the working set holds the
    /// pass's people until it shrinks back after the commit.
    pass_events: i64,
}

/// The thread's CPU clock, to tell what each stage of a pass costs.
struct CpuClock;

/// A pass's CPU time, counted per stage into the metrics.
struct Stages<'m> {
    clock: Duration,
    metrics: &'m Metrics,
}

impl Stages<'_> {
    /// Counts the CPU time since the last mark for `stage`.
    fn mark(&mut self, stage: &str) {
        let now = CpuClock::now();
        self.add(stage, now.saturating_sub(self.clock));
        self.clock = now;
    }

    fn add(&self, stage: &str, t: Duration) {
        self.metrics
            .pipeline_cpu
            .get_or_create(&StageLabel {
                stage: stage.into(),
            })
            .inc_by(t.as_secs_f64());
    }
}

impl CpuClock {
    fn now() -> Duration {
        #[cfg(target_os = "linux")]
        {
            let mut t = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime writes the timespec it is given.
            #[allow(unsafe_code)]
            let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
            if read == 0 {
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
    pub fn new(budget: MemoryBudget, facts: bool) -> Folds {
        Folds {
            rollups: Rollups::default(),
            sessions: Sessions::new(budget),
            metering: Metering::default(),
            friction: Friction::default(),
            crm: Crm::new(budget),
            facts: Facts::new(facts),
            starts: [Cursor::default(); FOLDS.len()],
            cursor: Cursor::default(),
            loaded: false,
            pass_events: budget.pass_events(),
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
        self.facts.reset();
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
            .expect("six folds");
        self.loaded = true;
        Ok(())
    }

    /// A rebuild that was asked for is done here, between passes, so that it
    /// never races one: the fold's rows and cursor go, and it reads the log
    /// again from the start while the others skip what they counted.
    fn rebuild_if_asked(&mut self, store: &Store) -> Result<(), StoreError> {
        for name in FOLDS {
            if store.setting(&rebuild_setting(name))?.is_some() {
                // The reset writes on another connection, which would wait
                // for the lock that held passes keep.
                store.settle_passes()?;
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
        let mut stages = Stages {
            clock: CpuClock::now(),
            metrics,
        };
        let events = store.log_events_after(self.cursor, self.pass_events)?;
        stages.mark("read");
        let Some(last) = events.last() else {
            // A full pass before this one may be held uncommitted.
            store.settle_passes()?;
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
        // The folds that keep an event for most events read make room for
        // the pass at once: grown by doubling, their vectors peaked at up to
        // twice what they held, and were copied on the way.
        self.sessions.make_room(events.len());
        self.crm.make_room(events.len());
        self.facts.make_room(events.len());
        // Each event goes to every fold in turn, its body decoded on the first
        // fold's ask and shared by the folds after it, then dropped: a pass
        // holds what the folds took, never every event decoded at once. Taking
        // does no IO, so its time per fold is measured on the monotonic clock
        // (a thread CPU clock read is a system call per event and fold).
        let [r, s, m, f, c, x] = self.starts;
        let mut took = [Duration::ZERO; FOLDS.len()];
        for e in &events {
            let body = Body::new(&e.event.body);
            let mut at = Instant::now();
            let mut lap = |slot: &mut Duration| {
                let now = Instant::now();
                *slot += now - at;
                at = now;
            };
            if !e.counted_by(&r) {
                self.rollups.take(e);
            }
            lap(&mut took[0]);
            if !e.counted_by(&s) {
                self.sessions.take(e, &body);
            }
            lap(&mut took[1]);
            if !e.counted_by(&m) {
                self.metering.take(e, &body);
            }
            lap(&mut took[2]);
            if !e.counted_by(&f) {
                self.friction.take(e, &body);
            }
            lap(&mut took[3]);
            if !e.counted_by(&c) {
                self.crm.take(e, &body);
            }
            lap(&mut took[4]);
            if !e.counted_by(&x) {
                self.facts.take(e, &body);
            }
            lap(&mut took[5]);
        }
        let read = events.len();
        drop(events);
        // The loop's CPU time goes to the folds by their takes' share (scaled
        // down when the thread was preempted, which the monotonic clock
        // counts and the CPU clock does not); the rest stays with reading.
        let looped = CpuClock::now().saturating_sub(stages.clock);
        let taken: Duration = took.iter().sum();
        let scale = if taken > looped {
            looped.as_secs_f64() / taken.as_secs_f64()
        } else {
            1.0
        };
        for (name, t) in [
            "rollups", "sessions", "metering", "friction", "crm", "facts",
        ]
        .into_iter()
        .zip(took)
        {
            stages.add(name, t.mul_f64(scale));
        }
        stages.add("read", looped.saturating_sub(taken));
        stages.clock = CpuClock::now();
        self.rollups.derive();
        stages.mark("rollups");
        self.sessions.derive(store, next)?;
        stages.mark("sessions");
        self.metering.derive(store)?;
        stages.mark("metering");
        self.friction.derive();
        stages.mark("friction");
        self.crm.derive(store)?;
        stages.mark("crm");
        let (rollups, metering, friction, crm, facts) = (
            &self.rollups.delta,
            &self.metering.delta,
            &self.friction.delta,
            self.crm.delta.as_ref(),
            &self.facts.delta,
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
                    facts: (!facts.is_empty()).then_some(facts),
                    more_follow: (read as i64) >= self.pass_events,
                },
            )
        })?;
        stages.mark("commit");
        self.crm.committed();
        self.facts.committed();
        for start in self.starts.iter_mut() {
            if (start.xid, start.seq) < (next.xid, next.seq) {
                *start = next;
            }
        }
        self.cursor = next;
        metrics.pipeline_events.inc_by(read as u64);
        Ok(PassOutcome {
            read,
            caught_up: (read as i64) < self.pass_events,
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
    let mut folds = Folds::new(MemoryBudget::get(), store.keeps_facts());
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

/// The pipeline's thread, and the watchdog of its share of the cores.
pub struct Pipeline {
    thread: Worker,
    watchdog: Worker,
}

impl Pipeline {
    pub fn start(store: Store, node: String, lease: Duration, metrics: Arc<Metrics>) -> Pipeline {
        let priority = Priority::new();
        let watchdog = priority.watchdog();
        let thread = Worker::spawn("spoor-pipeline".into(), move |stop| {
            run(&store, node, lease, &metrics, &priority, stop)
        });
        Pipeline { thread, watchdog }
    }

    /// Stops after the pass in progress and gives the lease up.
    pub fn stop(self) {
        self.thread.stop();
        self.watchdog.stop();
    }
}

fn run(
    store: &Store,
    node: String,
    lease: Duration,
    metrics: &Metrics,
    priority: &Priority,
    stop: &Stop,
) {
    priority.enter();
    let mut held = HeldLease::new(PIPELINE_LEASE.into(), node, lease);
    let mut folds = Folds::new(MemoryBudget::get(), store.keeps_facts());
    let mut was_held = false;
    loop {
        priority.working();
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
                    metrics.pipeline_passes.inc();
                    // Its own cursor: the stored ones are what it just wrote.
                    if let Ok(backlog) = store.backlog_after(folds.cursor) {
                        metrics.pipeline_behind_events.set(backlog.events);
                        metrics
                            .pipeline_behind_seconds
                            .set(backlog.ms as f64 / 1000.0);
                        priority.pass_ended(backlog.ms);
                    }
                    if o.caught_up { GATHER } else { Duration::ZERO }
                }
                Err(e) => {
                    // What it held may be part of what failed (an erasure
                    // refuses a pass): it reads from its stored cursors again,
                    // so passes held uncommitted go too.
                    if let Err(e) = store.abandon_passes() {
                        tracing::warn!("pipeline: cannot roll back held passes: {e}");
                    }
                    folds.reset();
                    tracing::warn!("pipeline: pass failed, retrying: {e}");
                    RETRY
                }
            }
        } else {
            // Passes held when the lease was lost are another node's to do.
            if let Err(e) = store.abandon_passes() {
                tracing::warn!("pipeline: cannot roll back held passes: {e}");
            }
            held.retry_every()
        };
        priority.resting(wait);
        if !stop.rest(wait) {
            break;
        }
    }
    if let Err(e) = store.settle_passes() {
        tracing::warn!("pipeline: cannot commit held passes on stopping: {e}");
    }
    held.release(store);
}
