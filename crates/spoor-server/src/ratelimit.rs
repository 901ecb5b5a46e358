//! Request limits, in one-minute windows aligned to the clock's minutes: a
//! key's `rate_limit_per_minute` across every node, and its
//! `per_address_rate_limit_per_minute` from one client address, per node.
//!
//! The key's limit is high by default, because every visitor of a site sends
//! with the site's one key; the per-address limit is what stops one abuser
//! (see `spoor_store::DEFAULT_PER_ADDRESS_RATE_LIMIT`). It is checked first,
//! so an abuser's refused requests never spend the site's shared window. It is
//! counted in each node's memory (a client spread over N nodes may send up to
//! N times it): an abuser is throttled without a round trip to a shared
//! counter, and a node forgets the windows when they end.
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
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use spoor_store::KeyRecord;

use crate::ServerError;
use crate::app::App;
use crate::http::error::ApiError;

const WINDOW_MS: i64 = 60_000;
/// Client addresses (with keys) one node counts in a window: about 6 MB.
/// Beyond it a new address is admitted uncounted until the window ends (and
/// a warning says so): so many senders at once is a distributed flood, which
/// no per-address limit stops, and refusing them would refuse real visitors.
const MAX_ADDRESSES: usize = 100_000;
/// How long Redis may take to connect or answer before the request gets a 503.
/// It bounds a TLS handshake too: a rediss:// URL pointed at a plain port
/// gets no TLS answer, and the request gets its 503 after this, not never.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest CA file read for Redis: Mozilla's whole bundle is about 220 KB.
const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

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
    Redis(Arc<RedisCounter>),
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

/// This node's per-address counts in the current window.
#[derive(Default)]
struct AddressWindows {
    start: i64,
    /// Requests counted per (key id, client network).
    counts: HashMap<(i64, IpAddr), u32>,
    /// Whether this window's warning about a full table was logged.
    warned: bool,
}

pub struct RateLimits {
    counter: Counter,
    windows: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<Window>>>>,
    addresses: Mutex<AddressWindows>,
}

impl RateLimits {
    /// `redis_ca_file` is trusted for a `rediss://` URL instead of the
    /// system's certificate authorities.
    pub fn new(
        shared_store: bool,
        redis_url: Option<&str>,
        redis_ca_file: Option<&Path>,
    ) -> Result<RateLimits, ServerError> {
        if redis_url.is_none() && redis_ca_file.is_some() {
            return Err(ServerError::Config(
                "--redis-ca-file is for a rediss:// --redis-url, and none is given".into(),
            ));
        }
        let counter = match redis_url {
            Some(url) => Counter::Redis(Arc::new(RedisCounter::new(url, redis_ca_file)?)),
            None if shared_store => Counter::Store,
            None => Counter::Local,
        };
        Ok(RateLimits {
            counter,
            windows: Mutex::default(),
            addresses: Mutex::default(),
        })
    }

    /// Where the windows are counted, for logs.
    pub fn describe(&self) -> &'static str {
        match &self.counter {
            Counter::Local => "in this process",
            Counter::Store => "in the database, shared by every node",
            Counter::Redis(redis) if redis.tls => "in Redis over TLS, shared by every node",
            Counter::Redis(_) => "in Redis, shared by every node",
        }
    }

    /// Admits one request for the key from the client address `ip`, or
    /// answers 429 with the seconds until the window ends.
    pub async fn check(&self, app: &App, key: &KeyRecord, ip: IpAddr) -> Result<(), ApiError> {
        self.admit_address(key, ip, spoor_core::time::now_ms())?;
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

    /// Counts one request from `ip` with `key` at `now` against the key's
    /// per-address limit.
    fn admit_address(&self, key: &KeyRecord, ip: IpAddr, now: i64) -> Result<(), ApiError> {
        let limit = key.per_address_rate_limit_per_minute;
        if limit == 0 {
            return Ok(());
        }
        let Some(network) = spoor_core::ip::rate_limited_network(ip) else {
            return Ok(());
        };
        let start = now - now.rem_euclid(WINDOW_MS);
        let mut windows = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        if windows.start != start {
            *windows = AddressWindows {
                start,
                ..AddressWindows::default()
            };
        }
        let full = windows.counts.len() >= MAX_ADDRESSES;
        let count = match windows.counts.get_mut(&(key.id, network)) {
            Some(count) => count,
            None if full => {
                if !windows.warned {
                    windows.warned = true;
                    tracing::warn!(
                        addresses = MAX_ADDRESSES,
                        "requests from more client addresses than the per-address limit counts in one minute; new addresses go uncounted until the minute ends"
                    );
                }
                return Ok(());
            }
            None => windows.counts.entry((key.id, network)).or_insert(0),
        };
        if *count >= limit {
            let wait_ms = start + WINDOW_MS - now;
            return Err(ApiError::RateLimited {
                retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1),
                message: format!(
                    "write key {}… allows {limit} requests a minute from one address, and {network} sent them; send messages in batches (one request carries many), or raise the key's per-address limit",
                    key.prefix
                ),
            });
        }
        *count += 1;
        Ok(())
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
                    let (store, id) = (app.store.clone(), bucket.id);
                    app.network_call(move || store.take_rate_tokens(id, start, take))
                        .await??
                }
                Counter::Redis(redis) => {
                    let (redis, name) = (redis.clone(), redis_name(bucket, start));
                    app.network_call(move || redis.take(&name, take))
                        .await?
                        .map_err(|e| {
                            // The cause is for the operator; the sender is
                            // told only to come back, as for a store outage.
                            tracing::error!(error = %e, "rate limit not checked");
                            ApiError::Unavailable {
                                retry_after_secs: 5,
                                message: "the rate limit cannot be checked just now; retry shortly"
                                    .into(),
                            }
                        })?
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
///
/// A `rediss://` URL is TLS (rustls with the ring provider, as everywhere in
/// Spoor), and the server's certificate is always checked: against the
/// system's authorities, or the CA file given. redis-rs's `#insecure` is
/// refused rather than honoured.
struct RedisCounter {
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
    /// The URL without its password, for messages.
    shown: String,
    tls: bool,
}

impl RedisCounter {
    fn new(url: &str, ca_file: Option<&Path>) -> Result<RedisCounter, ServerError> {
        let shown = without_password(url);
        let bad = |what: &dyn std::fmt::Display| {
            ServerError::Config(format!("--redis-url {shown}: {what}"))
        };
        let parsed = url::Url::parse(url).map_err(|e| bad(&e))?;
        let tls = match parsed.scheme() {
            "rediss" | "valkeys" => true,
            "redis" | "valkey" | "unix" | "redis+unix" | "valkey+unix" => false,
            other => {
                return Err(bad(&format_args!(
                    "{other}:// is not Redis: use redis:// (plain) or rediss:// (TLS)"
                )));
            }
        };
        if parsed.fragment().is_some() {
            return Err(bad(
                &"a #fragment such as #insecure is not taken: Spoor always \
                 checks a Redis server's certificate; trust a private authority with \
                 --redis-ca-file",
            ));
        }
        let client = match (tls, ca_file) {
            (false, Some(_)) => {
                return Err(bad(&"--redis-ca-file is for rediss:// (TLS) URLs"));
            }
            (false, None) => redis::Client::open(url),
            (true, ca_file) => {
                // redis-rs builds its TLS configuration with the process's
                // default provider: ring, as Spoor's other TLS clients use.
                let _ = rustls::crypto::ring::default_provider().install_default();
                match ca_file {
                    None => redis::Client::open(url),
                    Some(path) => {
                        let root_cert = Some(read_ca_file(path)?);
                        let certificates = redis::TlsCertificates {
                            client_tls: None,
                            root_cert,
                        };
                        redis::Client::build_with_tls(url, certificates)
                    }
                }
            }
        }
        .map_err(|e| bad(&e))?;
        Ok(RedisCounter {
            client,
            conn: Mutex::new(None),
            shown,
            tls,
        })
    }

    /// Why a connection could not be made, with what to check for TLS.
    fn unreachable(&self, e: &redis::RedisError) -> RedisFailure {
        let hint = if self.tls {
            " (rediss:// speaks TLS: check that the port is Redis's tls-port and that its \
             certificate names the host and is trusted, by the system or --redis-ca-file)"
        } else {
            ""
        };
        // A timed-out read says "Resource temporarily unavailable"; say what
        // it means.
        let cause = if e.is_timeout() {
            format!("no answer within {} s", REDIS_TIMEOUT.as_secs())
        } else {
            e.to_string()
        };
        RedisFailure(format!(
            "cannot reach Redis at {}: {cause}{hint}",
            self.shown
        ))
    }

    fn take(&self, name: &str, take: i64) -> Result<i64, RedisFailure> {
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
                    .map_err(|e| self.unreachable(&e))?;
                *slot = Some(conn);
            }
            let Some(conn) = slot.as_mut() else {
                continue;
            };
            let counted: redis::RedisResult<(i64,)> = redis::pipe()
                .atomic()
                .incr(name, take)
                .pexpire(name, 2 * WINDOW_MS)
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
                    return Err(self.unreachable(&e));
                }
            }
        }
        Err(RedisFailure("Redis: no connection".into()))
    }
}

/// A bucket's window as Redis names it.
fn redis_name(bucket: &Bucket, start: i64) -> String {
    format!("spoor:rate:{}:{}:{start}", bucket.tag, bucket.id)
}

/// Why Redis did not count a request: the Redis counter's one error type,
/// logged for the operator and answered 503.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RedisFailure(String);

/// A Redis URL fit for a message: its password, if any, replaced.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        // Unparsed, it may hold anything: say only that it is not a URL.
        Err(_) => "(not a URL)".to_string(),
    }
}

/// The PEM certificates of a CA file, read within a bound and checked to
/// hold at least one, so that a wrong file is refused at start-up rather
/// than failing every connection.
fn read_ca_file(path: &Path) -> Result<Vec<u8>, ServerError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bad = |what: &dyn std::fmt::Display| {
        ServerError::Config(format!("--redis-ca-file {}: {what}", path.display()))
    };
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
        .map_err(|e| bad(&e))?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(bad(&format_args!(
            "larger than {MAX_CA_FILE_BYTES} bytes; is it a certificate file?"
        )));
    }
    let mut certificates = 0;
    for cert in CertificateDer::pem_slice_iter(&pem) {
        cert.map_err(|e| bad(&e))?;
        certificates += 1;
    }
    if certificates == 0 {
        return Err(bad(&"it holds no PEM certificate"));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: i64, per_address: u32) -> KeyRecord {
        KeyRecord {
            id,
            project_id: 1,
            project: "default".into(),
            name: "k".into(),
            prefix: "fk_abcdefg".into(),
            domains: Vec::new(),
            rate_limit_per_minute: spoor_store::DEFAULT_KEY_RATE_LIMIT,
            per_address_rate_limit_per_minute: per_address,
            active: true,
            keep_full_ip: false,
            created_at: 0,
            last_used_at: None,
        }
    }

    const MINUTE: i64 = 1_790_000_040_000;

    /// A self-signed certificate, only ever parsed here.
    const CA: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBhTCCASugAwIBAgIUd1Vo7Ojw9SjHqLPbKQ4KzZTZ9D4wCgYIKoZIzj0EAwIw\n\
GDEWMBQGA1UEAwwNU3Bvb3IgdGVzdCBDQTAeFw0yNjExMjYwNjM4MjdaFw0yNjEx\n\
MjgwNjM4MjdaMBgxFjAUBgNVBAMMDVNwb29yIHRlc3QgQ0EwWTATBgcqhkjOPQIB\n\
BggqhkjOPQMBBwNCAAQIfd5mQstuQa+YtaK6Cu4IipTKFkSXpr8Mf1dAckMaEq8D\n\
e7Iu7sY1fIsr/w/UUADjjJuyCvAgLAaASpT83yUvo1MwUTAdBgNVHQ4EFgQUwsj9\n\
iZcLXHOX0SNEzhvqG7Yos50wHwYDVR0jBBgwFoAUwsj9iZcLXHOX0SNEzhvqG7Yo\n\
s50wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBielrKmirYwtgC\n\
mS0dPVljIuyoCWm+oAgDxF7UJMDuAAIhAK1Ex8PZHMPPy6188HRjAeioX/bCGVkD\n\
W+y4Z5Tr84zT\n\
-----END CERTIFICATE-----\n\
";

    fn config_error(url: Option<&str>, ca: Option<&Path>) -> String {
        match RateLimits::new(false, url, ca) {
            Err(ServerError::Config(message)) => message,
            Err(e) => panic!("{url:?}: not a configuration error: {e}"),
            Ok(_) => panic!("{url:?} with {ca:?} was taken"),
        }
    }

    #[test]
    fn redis_urls_are_checked_before_any_connection() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, CA).unwrap();
        // Taken without connecting (nothing listens on these).
        for (url, ca, tls) in [
            ("redis://127.0.0.1:1", None, false),
            ("unix:///nowhere/redis.sock", None, false),
            ("rediss://cache.example:6380", None, true),
            ("rediss://:secret@127.0.0.1:1/2", Some(ca.as_path()), true),
        ] {
            let limits = RateLimits::new(false, Some(url), ca).unwrap();
            let Counter::Redis(redis) = &limits.counter else {
                panic!("{url} is not counted in Redis");
            };
            assert_eq!(redis.tls, tls, "{url}");
            assert!(!redis.shown.contains("secret"), "{}", redis.shown);
        }
        let refused = [
            (Some("http://127.0.0.1:6379"), None, "is not Redis"),
            (
                Some("rediss://127.0.0.1:6380#insecure"),
                None,
                "always checks",
            ),
            (
                Some("redis://127.0.0.1:6379"),
                Some(ca.as_path()),
                "for rediss://",
            ),
            (None, Some(ca.as_path()), "none is given"),
            (Some("not a url"), None, "(not a URL)"),
        ];
        for (url, ca, says) in refused {
            let message = config_error(url, ca);
            assert!(message.contains(says), "{url:?}: {message}");
        }
        // The password never reaches a message.
        let message = config_error(Some("rediss://:hunter2@127.0.0.1:6380#insecure"), None);
        assert!(!message.contains("hunter2"), "{message}");
        assert!(
            message.contains("rediss://:redacted@127.0.0.1:6380"),
            "{message}"
        );
    }

    #[test]
    fn ca_files_are_bounded_and_must_hold_a_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        let url = Some("rediss://127.0.0.1:6380");
        // At the bound, padded after the certificate, it is read.
        let mut at_bound = CA.to_string();
        at_bound.push_str(&"\n".repeat(MAX_CA_FILE_BYTES as usize - CA.len()));
        std::fs::write(&path, &at_bound).unwrap();
        RateLimits::new(false, url, Some(&path)).unwrap();
        // A byte more is refused, unread.
        at_bound.push('\n');
        std::fs::write(&path, &at_bound).unwrap();
        assert!(config_error(url, Some(&path)).contains("larger than"));
        // A file without a certificate (a key, say), a broken one, none.
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(config_error(url, Some(&path)).contains("holds no PEM certificate"));
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\n!!!\n").unwrap();
        config_error(url, Some(&path));
        let missing = dir.path().join("missing.pem");
        assert!(config_error(url, Some(&missing)).contains("missing.pem"));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_address_gets_its_limit_a_minute_and_then_429() {
        let limits = RateLimits::new(false, None, None).unwrap();
        let k = key(1, 3);
        let client = ip("203.0.113.9");
        for _ in 0..3 {
            limits.admit_address(&k, client, MINUTE + 10).unwrap();
        }
        let Err(ApiError::RateLimited {
            retry_after_secs,
            message,
        }) = limits.admit_address(&k, client, MINUTE + 10_000)
        else {
            panic!("the fourth request is refused")
        };
        assert_eq!(retry_after_secs, 50);
        assert!(
            message.contains("3 requests a minute from one address"),
            "{message}"
        );
        // Others, the same address with another key, and the next minute go on.
        limits
            .admit_address(&k, ip("203.0.113.10"), MINUTE + 10_000)
            .unwrap();
        limits
            .admit_address(&key(2, 3), client, MINUTE + 10_000)
            .unwrap();
        limits
            .admit_address(&k, client, MINUTE + WINDOW_MS)
            .unwrap();
        // One IPv6 host is its /64.
        for n in 1..=3 {
            limits
                .admit_address(&k, ip(&format!("2001:db8::{n}")), MINUTE + WINDOW_MS)
                .unwrap();
        }
        assert!(
            limits
                .admit_address(&k, ip("2001:db8::ffff"), MINUTE + WINDOW_MS)
                .is_err()
        );
    }

    #[test]
    fn private_addresses_and_a_zero_limit_are_not_counted() {
        let limits = RateLimits::new(false, None, None).unwrap();
        for _ in 0..10 {
            limits
                .admit_address(&key(1, 1), ip("10.0.0.7"), MINUTE)
                .unwrap();
            limits
                .admit_address(&key(1, 1), ip("127.0.0.1"), MINUTE)
                .unwrap();
            limits
                .admit_address(&key(2, 0), ip("203.0.113.9"), MINUTE)
                .unwrap();
        }
        assert!(limits.addresses.lock().unwrap().counts.is_empty());
    }

    #[test]
    fn the_table_of_addresses_is_bounded_and_then_admits_uncounted() {
        let limits = RateLimits::new(false, None, None).unwrap();
        let k = key(1, 1);
        for n in 0..MAX_ADDRESSES as u32 {
            let a = IpAddr::from((0x0b00_0000u32 + n).to_be_bytes());
            limits.admit_address(&k, a, MINUTE).unwrap();
        }
        assert_eq!(limits.addresses.lock().unwrap().counts.len(), MAX_ADDRESSES);
        // A counted address is still limited; a new one goes uncounted.
        let first = IpAddr::from(0x0b00_0000u32.to_be_bytes());
        assert!(limits.admit_address(&k, first, MINUTE).is_err());
        let new = ip("198.51.100.1");
        limits.admit_address(&k, new, MINUTE).unwrap();
        limits.admit_address(&k, new, MINUTE).unwrap();
        assert_eq!(limits.addresses.lock().unwrap().counts.len(), MAX_ADDRESSES);
        // The next minute starts empty.
        limits.admit_address(&k, new, MINUTE + WINDOW_MS).unwrap();
        assert_eq!(limits.addresses.lock().unwrap().counts.len(), 1);
    }
}
