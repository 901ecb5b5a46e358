//! A small blocking connection pool shared by the backends: connections are opened
//! on demand up to a bound, handed out one caller at a time, and returned when the
//! borrower drops them. A connection found broken on return is closed instead.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::{StoreError, StoreResult};

/// How long a caller waits for a connection when all are in use.
const WAIT: Duration = Duration::from_secs(30);

type Connect<C> = Box<dyn Fn() -> StoreResult<C> + Send + Sync>;

pub(crate) struct Pool<C> {
    state: Mutex<State<C>>,
    freed: Condvar,
    max_open: usize,
    connect: Connect<C>,
    is_broken: fn(&C) -> bool,
}

struct State<C> {
    idle: Vec<C>,
    open: usize,
}

impl<C> Pool<C> {
    pub fn new(max_open: usize, connect: Connect<C>, is_broken: fn(&C) -> bool) -> Pool<C> {
        Pool {
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            max_open: max_open.max(1),
            connect,
            is_broken,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<C>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self) -> StoreResult<Pooled<'_, C>> {
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Pooled {
                    conn: Some(conn),
                    pool: self,
                });
            }
            if state.open < self.max_open {
                state.open += 1;
                drop(state);
                return match (self.connect)() {
                    Ok(conn) => Ok(Pooled {
                        conn: Some(conn),
                        pool: self,
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(state, WAIT)
                .unwrap_or_else(|e| e.into_inner());
            if timeout.timed_out() && next.idle.is_empty() && next.open >= self.max_open {
                return Err(StoreError::Database(format!(
                    "all {} database connections stayed busy for {} s",
                    self.max_open,
                    WAIT.as_secs()
                )));
            }
            state = next;
        }
    }
}

/// A connection borrowed from a [`Pool`].
pub(crate) struct Pooled<'a, C> {
    conn: Option<C>,
    pool: &'a Pool<C>,
}

impl<C> Deref for Pooled<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.conn
            .as_ref()
            .expect("a pooled connection is held until dropped")
    }
}

impl<C> DerefMut for Pooled<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn
            .as_mut()
            .expect("a pooled connection is held until dropped")
    }
}

impl<C> Drop for Pooled<'_, C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut state = self.pool.lock();
            if (self.pool.is_broken)(&conn) {
                state.open -= 1;
            } else {
                state.idle.push(conn);
            }
            drop(state);
            self.pool.freed.notify_one();
        }
    }
}
