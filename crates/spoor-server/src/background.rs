//! What the scheduler and the processors share: a plain thread that stops when
//! asked, and a lease in the store that it takes, renews and gives up.
//!
//! Plain threads, not tasks: store calls block, and PostgreSQL's client must not
//! run inside the async runtime.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use spoor_store::Store;

/// A background thread and the channel that asks it to stop.
pub struct Worker {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl Worker {
    /// Runs `body` on a thread of its own; it is given the stop signal to rest on.
    pub fn spawn(name: String, body: impl FnOnce(&Stop) + Send + 'static) -> Worker {
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || body(&Stop(stopped)))
            .expect("spawn a background thread");
        Worker { stop, thread }
    }

    /// Asks the thread to stop and waits until it has (after the work in hand).
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The stop signal, as the thread sees it.
pub struct Stop(Receiver<()>);

impl Stop {
    /// Rests for `wait`; false once the thread has been asked to stop.
    pub fn rest(&self, wait: Duration) -> bool {
        matches!(self.0.recv_timeout(wait), Err(RecvTimeoutError::Timeout))
    }
}

/// A lease this node takes when it is free and renews every third of its time,
/// so that it holds it for as long as it lives and another node takes it over
/// within one lease time after it dies.
pub struct HeldLease {
    name: String,
    node: String,
    lease: Duration,
    held_since: Option<Instant>,
}

impl HeldLease {
    pub fn new(name: String, node: String, lease: Duration) -> HeldLease {
        HeldLease {
            name,
            node,
            lease,
            held_since: None,
        }
    }

    /// How often a node that does not hold the lease asks again.
    pub fn retry_every(&self) -> Duration {
        self.lease / 3
    }

    /// Takes or renews the lease when due; whether this node holds it now.
    pub fn hold(&mut self, store: &Store) -> bool {
        if self
            .held_since
            .is_none_or(|t| t.elapsed() >= self.lease / 3)
        {
            let ttl = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
            self.held_since = match store.acquire_lease(&self.name, &self.node, ttl) {
                Ok(true) => Some(Instant::now()),
                Ok(false) => None,
                Err(e) => {
                    tracing::warn!("{}: cannot reach the lease: {e}", self.name);
                    None
                }
            };
        }
        self.held_since.is_some()
    }

    /// Gives the lease up, if held, so that another node can take it at once.
    pub fn release(self, store: &Store) {
        if self.held_since.is_some() {
            let _ = store.release_lease(&self.name, &self.node);
        }
    }
}
