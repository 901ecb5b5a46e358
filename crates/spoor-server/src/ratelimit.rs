//! Per-key request limits: at most a key's `rate_limit_per_minute` requests in
//! each one-minute window (aligned to the clock's minutes), across every node.
//!
//! A node does not ask the shared counter about every request. It claims a share
//! of the window's requests at a time (a fiftieth of the limit) and spends it
//! locally; only when its share runs out does it claim again. Every request a
//! node admits was counted in the shared window first, so the nodes together
//! never admit more than the limit; a share left unspent when the window ends is
//! the most a node can admit too few (2% of the limit per node). The count is
//! kept in PostgreSQL when the store is shared, in Redis when one is configured,
//! and in the process for the embedded store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spoor_store::{KeyRecord, StoreError};

use crate::ServerError;
use crate::app::App;
use crate::http::error::ApiError;

const WINDOW_MS: i64 = 60_000;
/// How long Redis may take to connect or answer before the request gets a 503.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Whose requests a window counts: a write key, or a widget (which sends
/// without a key).
pub struct Bucket {
    /// Unique among buckets: a key's id, or a widget's (negative, see
    /// [`Bucket::widget`]).
    pub id: i64,
    /// Names the bucket in Redis beside its id.
    pub tag: String,
    pub per_minute: i64,
    /// The sender as a 429 names it.
    pub sender: String,
}

impl Bucket {
    pub fn widget(widget: &spoor_store::metering::Widget) -> Bucket {
        // Widget ids are UUIDs; their windows are counted under a negative
        // number made from the id, apart from every key's.
        let hash = spoor_core::sketch::hash64(&widget.id);
        Bucket {
            id: -1 - i64::try_from(hash >> 1).unwrap_or(0),
            tag: "widget".into(),
            per_minute: widget.rate_limit_per_minute,
            sender: format!("widget {}", widget.id),
        }
    }
}

/// Where the windows are counted.
enum Counter {
    /// In this process: one process owns the store.
    Local,
    /// In the shared store.
    Store,
    Redis(Box<RedisCounter>),
}

/// One key's current window, as this node sees it.
#[derive(Default)]
struct Window {
    start: i64,
    /// Requests this node has claimed and not yet admitted.
    held: i64,
    /// The window's count after this node's last claim (for `Local`, the count).
    claimed: i64,
    /// A claim came back short: the window is spent for everyone.
    spent: bool,
}

pub struct RateLimits {
    counter: Counter,
    windows: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<Window>>>>,
}

impl RateLimits {
    pub fn new(shared_store: bool, redis_url: Option<&str>) -> Result<RateLimits, ServerError> {
        let counter = match redis_url {
            Some(url) => Counter::Redis(Box::new(RedisCounter::new(url)?)),
            None if shared_store => Counter::Store,
            None => Counter::Local,
        };
        Ok(RateLimits {
            counter,
            windows: Mutex::default(),
        })
    }

    /// Where the windows are counted, for logs.
    pub fn describe(&self) -> &'static str {
        match self.counter {
            Counter::Local => "in this process",
            Counter::Store => "in the database, shared by every node",
            Counter::Redis(_) => "in Redis, shared by every node",
        }
    }

    /// Admits one request for the key or answers 429 with the seconds until
    /// its window ends.
    pub async fn check(&self, app: &App, key: &KeyRecord) -> Result<(), ApiError> {
        self.admit(
            app,
            &Bucket {
                id: key.id,
                tag: key.prefix.clone(),
                per_minute: i64::from(key.rate_limit_per_minute),
                sender: format!("write key {}…", key.prefix),
            },
        )
        .await
    }

    /// Admits one request counted in the bucket, or answers 429.
    pub async fn admit(&self, app: &App, bucket: &Bucket) -> Result<(), ApiError> {
        let cell = {
            let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            windows.entry(bucket.id).or_default().clone()
        };
        // Requests for one key claim one at a time; other keys go on meanwhile.
        let mut window = cell.lock().await;
        let now = spoor_core::time::now_ms();
        let start = now - now.rem_euclid(WINDOW_MS);
        if window.start != start {
            *window = Window {
                start,
                ..Window::default()
            };
        }
        if window.held == 0 && !window.spent {
            let limit = bucket.per_minute.max(1);
            let take = match self.counter {
                Counter::Local => limit,
                _ => (limit / 50).max(1),
            };
            let used = match &self.counter {
                Counter::Local => window.claimed + take,
                Counter::Store => {
                    app.network_call(|| app.store.take_rate_tokens(bucket.id, start, take))
                        .await??
                }
                Counter::Redis(redis) => {
                    app.network_call(|| redis.take(bucket, start, take))
                        .await??
                }
            };
            window.claimed = used;
            let granted = (limit - (used - take)).clamp(0, take);
            window.held = granted;
            window.spent = granted < take;
        }
        if window.held > 0 {
            window.held -= 1;
            return Ok(());
        }
        let wait_ms = start + WINDOW_MS - now;
        Err(ApiError::RateLimited {
            retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1),
            message: format!(
                "{} is over its limit of {} requests a minute; retry after the Retry-After seconds",
                bucket.sender, bucket.per_minute
            ),
        })
    }
}

/// Counts windows in Redis: `INCRBY` on a Redis key per (write key, window),
/// which expires after two windows. The Redis key names the write key by its
/// shown prefix as well as its id, so stores that share one Redis (staging and
/// production, say) do not count into each other's windows.
struct RedisCounter {
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
}

impl RedisCounter {
    fn new(url: &str) -> Result<RedisCounter, ServerError> {
        let client = redis::Client::open(url)
            .map_err(|e| ServerError::Config(format!("--redis-url {url}: {e}")))?;
        Ok(RedisCounter {
            client,
            conn: Mutex::new(None),
        })
    }

    fn take(&self, bucket: &Bucket, start: i64, take: i64) -> Result<i64, StoreError> {
        let name = format!("spoor:rate:{}:{}:{start}", bucket.tag, bucket.id);
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        // A connection that broke since its last use is replaced once.
        for attempt in 0..2 {
            if slot.is_none() {
                let conn = self
                    .client
                    .get_connection_with_timeout(REDIS_TIMEOUT)
                    .and_then(|c| {
                        c.set_read_timeout(Some(REDIS_TIMEOUT))?;
                        c.set_write_timeout(Some(REDIS_TIMEOUT))?;
                        Ok(c)
                    })
                    .map_err(|e| StoreError::Database(format!("cannot reach Redis: {e}")))?;
                *slot = Some(conn);
            }
            let Some(conn) = slot.as_mut() else {
                continue;
            };
            let counted: redis::RedisResult<(i64,)> = redis::pipe()
                .atomic()
                .incr(&name, take)
                .pexpire(&name, 2 * WINDOW_MS)
                .ignore()
                .query(conn);
            match counted {
                Ok((used,)) => return Ok(used),
                Err(e) if attempt == 0 => {
                    tracing::debug!("redis: {e}; reconnecting");
                    *slot = None;
                }
                Err(e) => {
                    *slot = None;
                    return Err(StoreError::Database(format!("Redis: {e}")));
                }
            }
        }
        Err(StoreError::Database("Redis: no connection".into()))
    }
}
