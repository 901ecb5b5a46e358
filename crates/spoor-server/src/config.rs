//! The server's settings. The CLI fills them from flags, `SPOOR_*` variables and the
//! config file; tests build them directly.

use std::path::PathBuf;
use std::time::Duration;

use spoor_core::Limits;

use crate::scheduler::SchedulerConfig;

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub limits: Limits,
    /// Trusted proxies in front of Spoor; 0 means `X-Forwarded-For` is ignored.
    pub proxy_hops: usize,
    /// A MaxMind-format (MMDB) city or country database for geolocation.
    pub geoip_db: Option<PathBuf>,
    /// Events that may wait for the writer; beyond this, ingestion answers 503.
    pub queue_events: usize,
    /// Most events committed in one transaction.
    pub write_batch_events: usize,
    /// Requests served at once; beyond this, 503.
    pub max_in_flight: usize,
    /// Open connections; beyond this, new ones wait to be accepted.
    pub max_connections: usize,
    /// Slots one client network may hold at once (an IPv4 address or an IPv6
    /// /64): open connections, or requests in flight behind trusted proxies.
    /// 0 for no bound.
    pub max_connections_per_ip: usize,
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// Time a client has to send a request's body (408 beyond), plus a second
    /// for each 64 KiB received (so a large upload on a slow link is not cut
    /// off, while a trickle is).
    pub body_timeout: Duration,
    /// Time an answer may go without a byte of it taken by the client before
    /// the connection is closed: a reader that stops reading would otherwise
    /// hold what is being sent it (a replay's chunk, a video) for ever.
    pub write_timeout: Duration,
    /// After a stop is asked for, how long `/readyz` answers 503 while
    /// requests are still taken, so that a load balancer stops sending here
    /// before the listener closes.
    pub drain: Duration,
    /// Redis for per-key rate windows shared by several nodes; without it a
    /// shared store (PostgreSQL) keeps them.
    pub redis_url: Option<String>,
    /// Certificate authorities (PEM) trusted for a `rediss://` Redis instead
    /// of the system's.
    pub redis_ca_file: Option<PathBuf>,
    /// The secret an external cron sends to `/api/analytics/cleanup`.
    pub cron_secret: Option<String>,
    pub scheduler: SchedulerConfig,
    /// Bounds on stored files (recordings, screenshots, videos).
    pub uploads: UploadLimits,
    /// What this node does: take events, derive from them, or both.
    pub role: Role,
    /// One log line per request (target `access`), with a request id echoed
    /// in `X-Request-Id`.
    pub access_log: bool,
}

/// What a node does. On PostgreSQL one deployment may run nodes of each role
/// on one database: ingest nodes take events and serve the API, derive nodes
/// run the pipeline and the scheduled jobs under their leases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// Takes events, serves the API, runs the pipeline and the jobs.
    #[default]
    All,
    /// Takes events and serves the API; never derives or runs jobs.
    Ingest,
    /// Runs the pipeline and the jobs, and serves the API; refuses events
    /// (503, so that a sender that reached it by mistake retries elsewhere).
    Derive,
}

impl Role {
    pub fn ingests(self) -> bool {
        self != Role::Derive
    }
    pub fn derives(self) -> bool {
        self != Role::Ingest
    }
}

/// Bounds on uploaded files.
#[derive(Clone, Copy, Debug)]
pub struct UploadLimits {
    /// A recording chunk as sent (usually gzip).
    pub max_chunk_bytes: usize,
    /// A recording chunk decompressed.
    pub max_chunk_decoded_bytes: usize,
    /// A screenshot.
    pub max_screenshot_bytes: usize,
    /// An uploaded video.
    pub max_video_bytes: usize,
    /// Recording chunks (compressed, with their inflaters) all replays
    /// together may hold in memory at once; a replay waits for room before it
    /// opens its next chunk.
    pub replay_memory_bytes: usize,
    /// Bytes a project may store in files unless its own quota says otherwise;
    /// 0 for no limit.
    pub default_quota_bytes: i64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_chunk_bytes: 2 * 1024 * 1024,
            max_chunk_decoded_bytes: 16 * 1024 * 1024,
            max_screenshot_bytes: 10 * 1024 * 1024,
            max_video_bytes: 200 * 1024 * 1024,
            // Sixteen of the largest chunks at once: a replay holds one.
            replay_memory_bytes: 32 * 1024 * 1024,
            default_quota_bytes: 10 * 1024 * 1024 * 1024,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            proxy_hops: 0,
            geoip_db: None,
            queue_events: 50_000,
            write_batch_events: 10_000,
            max_in_flight: 2_048,
            max_connections: 10_000,
            max_connections_per_ip: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            drain: Duration::ZERO,
            redis_url: None,
            redis_ca_file: None,
            cron_secret: None,
            scheduler: SchedulerConfig::default(),
            uploads: UploadLimits::default(),
            role: Role::All,
            access_log: false,
        }
    }
}
