//! The pipeline thread's share of the cores: ingestion first, within a bound.
//!
//! The thread runs in Linux's idle scheduling class, so on a saturated machine
//! request handlers and the event writer get the cores whenever they want them,
//! and the pipeline takes only what is left: it falls behind and catches up
//! once the load eases. Against the nice value 5 it had before, this raised
//! ingestion's rates and lowered its p99 with the pipeline's own progress at
//! half rate unchanged (docs/performance.md, the fifth sitting).
//!
//! Left there, a machine saturated for long would starve derived views for as
//! long. So once the oldest unread event is older than [`STARVED`], or the
//! thread has been kept from running for longer than that (a pass that has
//! not finished, or a rest that ended and was not followed by work), it goes
//! back to a normal class at nice [`LOW_NICE`] (about a tenth of a core against
//! one busy thread), and back to the idle class once it has caught up to
//! within [`RELAXED`]. A watchdog thread makes the move a starved thread
//! cannot make itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};
use std::time::Duration;

use spoor_core::time::now_ms;

use crate::background::Worker;

/// Backlog age (or a pass's length) after which the pipeline takes its low
/// share of the cores back from ingestion.
pub const STARVED: Duration = Duration::from_secs(30);
/// Backlog age under which it gives the cores back to ingestion again.
pub const RELAXED: Duration = Duration::from_secs(2);
/// The nice value of the normal class it falls back to.
pub const LOW_NICE: i32 = 10;
/// How often the watchdog looks.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// The thread's scheduling class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Runs only on cores nothing else wants.
    Idle,
    /// A normal thread at nice [`LOW_NICE`].
    Low,
}

/// The class the thread should be in: `behind_ms` is the age of the oldest
/// unread event (0 when caught up), `late_ms` how long the thread has been
/// due to work without finishing it (0 when resting or just begun).
pub fn class_for(current: Class, behind_ms: i64, late_ms: i64) -> Class {
    let starved = i64::try_from(STARVED.as_millis()).unwrap_or(i64::MAX);
    let relaxed = i64::try_from(RELAXED.as_millis()).unwrap_or(i64::MAX);
    if behind_ms > starved || late_ms > starved {
        Class::Low
    } else if behind_ms < relaxed {
        Class::Idle
    } else {
        current
    }
}

/// What the pipeline thread and its watchdog share.
pub struct Priority {
    /// The pipeline thread's id (0 until it has started).
    tid: AtomicI32,
    low: AtomicBool,
    /// When the thread was last due to work, in ms since the epoch: the
    /// start of the pass in progress, or the end of the rest it is in.
    due: AtomicI64,
}

impl Priority {
    pub fn new() -> Arc<Priority> {
        Arc::new(Priority {
            tid: AtomicI32::new(0),
            low: AtomicBool::new(false),
            due: AtomicI64::new(i64::MAX),
        })
    }

    /// On the pipeline thread, before its first pass: the idle class.
    pub fn enter(&self) {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: gettid has no preconditions.
            #[allow(unsafe_code)]
            let tid = unsafe { libc::gettid() };
            self.tid.store(tid, Ordering::Relaxed);
        }
        self.apply(Class::Idle);
    }

    /// The thread starts work (a pass, or holding its lease).
    pub fn working(&self) {
        self.due.store(now_ms(), Ordering::Relaxed);
    }

    /// After a pass, with the backlog's age then.
    pub fn pass_ended(&self, behind_ms: i64) {
        self.settle(behind_ms, 0);
    }

    /// The thread rests for `wait`: it is due again at its end.
    pub fn resting(&self, wait: Duration) {
        let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        self.due
            .store(now_ms().saturating_add(wait), Ordering::Relaxed);
    }

    /// The watchdog's look: a thread kept from running for longer than
    /// [`STARVED`] past when it was due cannot raise its share itself.
    fn watch(&self) {
        let late = now_ms().saturating_sub(self.due.load(Ordering::Relaxed));
        if late > 0 {
            self.settle(0, late);
        }
    }

    fn settle(&self, behind_ms: i64, late_ms: i64) {
        let current = self.class();
        let wanted = class_for(current, behind_ms, late_ms);
        if wanted != current {
            self.apply(wanted);
        }
    }

    pub fn class(&self) -> Class {
        if self.low.load(Ordering::Relaxed) {
            Class::Low
        } else {
            Class::Idle
        }
    }

    /// Best effort: a thread whose class cannot change still works, at the
    /// class it has.
    fn apply(&self, class: Class) {
        self.low.store(class == Class::Low, Ordering::Relaxed);
        #[cfg(target_os = "linux")]
        {
            let tid = self.tid.load(Ordering::Relaxed);
            if tid == 0 {
                return;
            }
            let (policy, nice) = match class {
                Class::Idle => (libc::SCHED_IDLE, 0),
                Class::Low => (libc::SCHED_OTHER, LOW_NICE),
            };
            let param = libc::sched_param { sched_priority: 0 };
            // SAFETY: both calls take a thread id of this process and plain
            // values; they change only that thread's scheduling. A thread
            // may leave the idle class for the normal one at a nice value its
            // limit allows, and nice 10 is below any limit's floor.
            #[allow(unsafe_code)]
            let failed = unsafe {
                libc::sched_setscheduler(tid, policy, &param) != 0
                    || (class == Class::Low
                        && libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) != 0)
            };
            if failed {
                tracing::debug!("pipeline thread keeps its scheduling class");
            } else {
                tracing::debug!("pipeline thread now in the {class:?} class");
            }
        }
    }

    /// Starts the watchdog thread.
    pub fn watchdog(self: &Arc<Priority>) -> Worker {
        let me = Arc::clone(self);
        Worker::spawn("spoor-watchdog".into(), move |stop| {
            while stop.rest(WATCH_EVERY) {
                me.watch();
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread's scheduling policy and nice value, from `/proc` (Linux).
    #[cfg(target_os = "linux")]
    fn thread_policy_and_nice(pid: u32, tid: i32) -> Option<(i64, i64)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
        // Fields after the command name, which is in parentheses and may hold
        // spaces: the 3rd field is the first after it; nice is the 19th, the
        // policy the 41st.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let field = |n: usize| fields.get(n - 3)?.parse().ok();
        Some((field(41)?, field(19)?))
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_thread_starts_idle_and_the_watchdog_raises_it_to_nice_10_and_back() {
        let priority = Priority::new();
        let (entered, wait) = std::sync::mpsc::channel();
        let (done, finish) = std::sync::mpsc::channel::<()>();
        let p = Arc::clone(&priority);
        let thread = std::thread::spawn(move || {
            p.enter();
            // SAFETY: gettid has no preconditions.
            #[allow(unsafe_code)]
            entered.send(unsafe { libc::gettid() }).unwrap();
            finish.recv().ok();
        });
        let tid = wait.recv().unwrap();
        let pid = std::process::id();
        assert_eq!(
            thread_policy_and_nice(pid, tid).unwrap().0,
            i64::from(libc::SCHED_IDLE)
        );
        assert_eq!(priority.class(), Class::Idle);
        // Due to work longer ago than STARVED: the watchdog's look.
        let long_ago = now_ms() - STARVED.as_millis() as i64 - 1_000;
        priority.due.store(long_ago, Ordering::Relaxed);
        priority.watch();
        assert_eq!(priority.class(), Class::Low);
        assert_eq!(
            thread_policy_and_nice(pid, tid).unwrap(),
            (i64::from(libc::SCHED_OTHER), i64::from(LOW_NICE))
        );
        // Caught up: back to the idle class.
        priority.pass_ended(0);
        assert_eq!(priority.class(), Class::Idle);
        assert_eq!(
            thread_policy_and_nice(pid, tid).unwrap().0,
            i64::from(libc::SCHED_IDLE)
        );
        // Work that has just started, or a rest, is left alone.
        priority.working();
        priority.watch();
        priority.resting(Duration::from_secs(60));
        priority.watch();
        assert_eq!(priority.class(), Class::Idle);
        // A rest that ended longer ago than STARVED with no work after it.
        priority.resting(Duration::ZERO);
        priority
            .due
            .fetch_sub(STARVED.as_millis() as i64 + 1, Ordering::Relaxed);
        priority.watch();
        assert_eq!(priority.class(), Class::Low);
        done.send(()).unwrap();
        thread.join().unwrap();
    }

    #[test]
    fn the_class_follows_the_backlog_with_hysteresis_and_bounds_on_both_sides() {
        let starved = STARVED.as_millis() as i64;
        let relaxed = RELAXED.as_millis() as i64;
        // (current, behind, late) -> wanted
        let cases = [
            (Class::Idle, 0, 0, Class::Idle),
            (Class::Idle, starved, 0, Class::Idle),
            (Class::Idle, starved + 1, 0, Class::Low),
            (Class::Idle, 0, starved, Class::Idle),
            (Class::Idle, 0, starved + 1, Class::Low),
            (Class::Low, starved, 0, Class::Low),
            (Class::Low, relaxed, 0, Class::Low),
            (Class::Low, relaxed - 1, 0, Class::Idle),
            (Class::Low, 0, starved + 1, Class::Low),
            (Class::Idle, relaxed + 5, 0, Class::Idle),
            (Class::Low, i64::MAX, i64::MAX, Class::Low),
            (Class::Idle, i64::MIN, 0, Class::Idle),
        ];
        for (current, behind, late, wanted) in cases {
            assert_eq!(
                class_for(current, behind, late),
                wanted,
                "{current:?}, behind {behind} ms, late {late} ms"
            );
        }
    }
}
