//! Password hashing on threads of its own.
//!
//! Argon2 is slow on purpose (tens of milliseconds of CPU and some MB of
//! memory per check). Run on the blocking pool that store calls share, a burst
//! of sign-ins would take every one of its threads and freeze the dashboard for
//! every tenant. Here a few threads hash, a short queue waits, and a request
//! that finds the queue full is answered 429 at once rather than held.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use crate::http::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

pub struct PasswordPool {
    jobs: SyncSender<Job>,
}

impl PasswordPool {
    /// `threads` hashing threads and room for `queue` waiting checks.
    pub fn new(threads: usize, queue: usize) -> PasswordPool {
        let (jobs, waiting) = sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for n in 0..threads.max(1) {
            let waiting = waiting.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("spoor-password-{n}"))
                .spawn(move || work(&waiting));
            if let Err(e) = spawned {
                tracing::warn!("cannot start a password thread: {e}");
            }
        }
        PasswordPool { jobs }
    }

    /// Sized for the machine: half its cores (at least one, at most four), so
    /// sign-ins never take all of the CPU from ingestion.
    pub fn for_this_machine() -> PasswordPool {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let threads = (cores / 2).clamp(1, 4);
        PasswordPool::new(threads, threads * 8)
    }

    /// Hashes a new password on a hashing thread (see [`PasswordPool::run`]).
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || spoor_core::password::hash(&password))
            .await
    }

    /// Runs `f` on a hashing thread, or answers 429 when as many checks are
    /// waiting as the queue holds.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::RateLimited {
                    retry_after_secs: 1,
                    message: "too many sign-ins are being checked at once; retry after the Retry-After seconds".into(),
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::Unavailable {
                    retry_after_secs: 5,
                    message: "passwords cannot be checked right now; retry shortly".into(),
                });
            }
        }
        result
            .await
            .map_err(|_| ApiError::Internal("a password check failed".into()))
    }
}

fn work(waiting: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, never while
        // hashing, so the threads hash side by side.
        let job = {
            let rx = waiting.lock().unwrap_or_else(|e| e.into_inner());
            rx.recv()
        };
        match job {
            Ok(job) => job(),
            // The pool was dropped: the server is stopping.
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_full_queue_is_answered_429_at_once_and_the_rest_run() {
        let pool = Arc::new(PasswordPool::new(1, 2));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        // One job holds the thread; two wait in the queue.
        let mut held = Vec::new();
        for i in 0..3 {
            let pool = pool.clone();
            let gate = gate.clone();
            held.push(tokio::spawn(async move {
                pool.run(move || {
                    let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(10));
                    i
                })
                .await
            }));
            // Let the first job reach the thread before the next is queued.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let refused = pool.run(|| 99).await;
        assert!(
            matches!(refused, Err(ApiError::RateLimited { .. })),
            "a fourth check beyond one thread and a queue of two is refused"
        );
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        let mut got = Vec::new();
        for h in held {
            got.push(h.await.unwrap().unwrap());
        }
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(pool.run(|| 7).await.unwrap(), 7, "room again once drained");
    }
}
