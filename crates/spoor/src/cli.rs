//! The command line: every command, flag and `SPOOR_*` variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use spoor_core::Limits;

#[derive(Parser, Debug)]
#[command(
    name = "spoor",
    version,
    about = "Self-hosted customer-behaviour analytics: collect events from websites, widgets and back ends, store them safely, read them back.",
    after_help = "Start with `spoor serve`, then create a write key with `spoor keys create --name site`.\n\
                  Every setting can also come from a SPOOR_* variable or from a TOML file given by --config."
)]
pub struct Cli {
    /// Directory of the embedded store (SQLite file spoor.db), used unless
    /// --database-url is given
    #[arg(
        long,
        global = true,
        env = "SPOOR_DATA_DIR",
        default_value = "./spoor-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,

    /// PostgreSQL to use instead of the embedded SQLite store, as a URL
    /// (postgres://user:password@host:5432/database) or key=value string
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// PostgreSQL schema that holds Spoor's tables; created when missing and allowed
    #[arg(
        long,
        global = true,
        env = "SPOOR_DB_SCHEMA",
        default_value = "spoor",
        value_name = "NAME"
    )]
    pub db_schema: String,

    /// PostgreSQL connections per process at most, besides the writer's own
    #[arg(
        long,
        global = true,
        env = "SPOOR_DB_POOL_SIZE",
        default_value_t = 16,
        value_name = "N"
    )]
    pub db_pool_size: usize,

    /// Seconds a PostgreSQL statement may run before it is cancelled
    #[arg(
        long,
        global = true,
        env = "SPOOR_DB_STATEMENT_TIMEOUT",
        default_value_t = 30,
        value_name = "SECS"
    )]
    pub db_statement_timeout: u64,

    /// CA certificates (PEM) the PostgreSQL server's certificate must chain to, with
    /// its name matching the host (libpq's verify-full). Without it, TLS is used as
    /// libpq does for sslmode=prefer (the default) and require: encrypted, the
    /// certificate unchecked. sslmode=disable in the URL turns TLS off
    #[arg(long, global = true, env = "SPOOR_DB_CA_FILE", value_name = "FILE")]
    pub db_ca_file: Option<PathBuf>,

    /// A TOML file of settings, named like the long flags (listen = "0.0.0.0:8080").
    /// Flags and SPOOR_* variables win over the file.
    #[arg(long, global = true, env = "SPOOR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Remove events older than this many days (by event time): on PostgreSQL a
    /// month's partition is dropped once all of it is older. Unset keeps everything
    #[arg(long, global = true, env = "SPOOR_RETENTION_DAYS", value_name = "DAYS")]
    pub retention_days: Option<u32>,

    /// Memory this process may use for caches (bytes, or e.g. 64MiB, 512MB,
    /// 1GiB): SQLite's page caches, the sessions fold's people in memory, the
    /// CRM's contacts; it also sizes the pipeline's passes (one event per 16
    /// KiB), which hold about 9 KB an event beyond it. Nothing else grows with
    /// load. More lets the pipeline keep up with more people active at once
    /// and write each row once for more of their events; less costs it reads,
    /// not correctness
    #[arg(long, global = true, env = "SPOOR_MEMORY_BUDGET", value_name = "SIZE",
          default_value = "32MiB", value_parser = spoor_store::budget::parse_bytes)]
    pub memory_budget: u64,

    /// Minutes between runs of the metering cleanup job, which gives calls whose
    /// call_end never came an inferred one
    #[arg(long, global = true, env = "SPOOR_METERING_CLEANUP_MINUTES", value_name = "MINUTES",
          default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub metering_cleanup_minutes: u64,

    /// Minutes after its start a call without call_end or call_error gets an
    /// inferred call_end, dated its start plus this
    #[arg(long, global = true, env = "SPOOR_METERING_INFER_AFTER_MINUTES", value_name = "MINUTES",
          default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub metering_infer_after_minutes: u64,

    /// Seconds between evaluations of alert rules (and deliveries of what they
    /// fired); the scheduler looks for due jobs every third of its lease
    #[arg(long, global = true, env = "SPOOR_ALERTS_EVERY_SECONDS", value_name = "SECONDS",
          default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub alerts_every_seconds: u64,

    /// Seconds between looks for queued report exports and due report
    /// schedules (an export queued from the API starts at once regardless)
    #[arg(long, global = true, env = "SPOOR_EXPORTS_EVERY_SECONDS", value_name = "SECONDS",
          default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub exports_every_seconds: u64,

    /// How long a stored file may go unnamed by any record (a crash or a
    /// failed upload between writing it and recording it) before the
    /// project-retention job removes it
    #[arg(
        long,
        global = true,
        env = "SPOOR_ORPHAN_FILES_AFTER_SECONDS",
        value_name = "SECONDS",
        default_value_t = 3600
    )]
    pub orphan_files_after_seconds: u64,

    /// Directory for recordings, screenshots and exported reports; default
    /// `files` in the data directory. Unused when an S3 bucket is given
    #[arg(long, global = true, env = "SPOOR_FILES_DIR", value_name = "DIR")]
    pub files_dir: Option<PathBuf>,

    /// S3-compatible bucket to keep files in instead of a directory
    #[arg(long, global = true, env = "SPOOR_S3_BUCKET", value_name = "NAME")]
    pub s3_bucket: Option<String>,

    /// The S3 endpoint (https://s3.eu-west-1.amazonaws.com, or a MinIO or
    /// other S3-compatible server's URL)
    #[arg(
        long,
        global = true,
        env = "SPOOR_S3_ENDPOINT",
        value_name = "URL",
        default_value = "https://s3.amazonaws.com"
    )]
    pub s3_endpoint: String,

    /// The bucket's region
    #[arg(
        long,
        global = true,
        env = "SPOOR_S3_REGION",
        value_name = "REGION",
        default_value = "us-east-1"
    )]
    pub s3_region: String,

    /// Access key id for the bucket; without it and --s3-secret-key, the keys
    /// are found as AWS's SDKs find them (AWS_ACCESS_KEY_ID and the other
    /// AWS_* variables, ~/.aws/credentials, the container credentials
    /// endpoint, EC2 instance metadata)
    #[arg(
        long,
        global = true,
        env = "SPOOR_S3_ACCESS_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub s3_access_key: Option<String>,

    /// Secret access key for the bucket
    #[arg(
        long,
        global = true,
        env = "SPOOR_S3_SECRET_KEY",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub s3_secret_key: Option<String>,

    /// Address the bucket as ENDPOINT/BUCKET (MinIO and most self-hosted
    /// servers) rather than BUCKET.ENDPOINT
    #[arg(long, global = true, env = "SPOOR_S3_PATH_STYLE")]
    pub s3_path_style: bool,

    /// Let alert webhooks reach loopback, private and link-local addresses
    /// (refused by default, so that a rule cannot probe the server's network);
    /// for local use and testing
    #[arg(long, global = true, env = "SPOOR_ALLOW_PRIVATE_WEBHOOKS")]
    pub allow_private_webhooks: bool,

    /// The SMTP relay that alert emails go through; without it, rules can only
    /// send webhooks
    #[arg(long, global = true, env = "SPOOR_SMTP_HOST", value_name = "HOST")]
    pub smtp_host: Option<String>,

    /// The SMTP relay's port
    #[arg(
        long,
        global = true,
        env = "SPOOR_SMTP_PORT",
        value_name = "PORT",
        default_value_t = 587
    )]
    pub smtp_port: u16,

    /// How the SMTP connection is secured: starttls (port 587), tls (port 465)
    /// or none (a relay on this host or network)
    #[arg(
        long,
        global = true,
        env = "SPOOR_SMTP_TLS",
        value_name = "MODE",
        default_value = "starttls"
    )]
    pub smtp_tls: String,

    /// The SMTP user name; credentials are sent only when it is set
    #[arg(long, global = true, env = "SPOOR_SMTP_USERNAME", value_name = "NAME")]
    pub smtp_username: Option<String>,

    /// The SMTP password (prefer the variable to the flag)
    #[arg(
        long,
        global = true,
        env = "SPOOR_SMTP_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub smtp_password: Option<String>,

    /// The alert emails' sender, e.g. "Spoor <alerts@example.com>"
    #[arg(long, global = true, env = "SPOOR_SMTP_FROM", value_name = "ADDRESS")]
    pub smtp_from: Option<String>,

    /// This process's name in job leases and job runs; default host:pid
    #[arg(long, global = true, env = "SPOOR_NODE_NAME", value_name = "NAME")]
    pub node_name: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: ingestion, admin API, health and metrics
    Serve(ServeArgs),
    /// Manage write keys, the public keys that websites and SDKs send events with
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage admin tokens, the secret tokens that read data through the API
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Manage projects; every store has the project `default`
    #[command(subcommand)]
    Projects(ProjectsCommand),
    /// Write stored data to standard output
    #[command(subcommand)]
    Export(ExportCommand),
    /// Import events from files: Segment/RudderStack messages (NDJSON) and
    /// warehouse CSVs, Spoor's own exports, the seed products' Supabase tables,
    /// Plausible's and Umami's CSV exports. Idempotent and resumable
    Import(ImportArgs),
    /// Copy the embedded store (both of its SQLite files) into one archive
    /// while Spoor runs; `spoor restore` reads it back
    Backup {
        /// The archive to write (it must not exist)
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Restore a `spoor backup` archive into --data-dir, which must hold no
    /// store yet
    Restore {
        /// The archive `spoor backup` wrote
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Apply pending database migrations (serve does this at start too)
    Migrate,
    /// Print the HTTP API's OpenAPI 3.1 document (what `GET /api/openapi.json`
    /// serves), for client generators
    Openapi,
    /// Scheduled jobs: which exist, when they last ran, and running one now
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Manage the people who sign in to the dashboard
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage widgets: embeddable widgets whose events (loads, opens, calls)
    /// are metered for billing
    #[command(subcommand)]
    Widgets(WidgetsCommand),
    /// Print a month's usage per widget: calls, billed minutes (and how many
    /// came from inferred ends), completed and incomplete calls, loads, opens
    Billing {
        /// The month, as 2026-11
        #[arg(long, value_name = "YYYY-MM")]
        month: String,
        #[arg(long, default_value = "default")]
        project: String,
        /// Only this widget (its id)
        #[arg(long, value_name = "ID")]
        widget: Option<String>,
        #[arg(long, value_enum, default_value_t = BillingFormat::Table)]
        format: BillingFormat,
    },
    /// Recompute derived data (sessions, the overview's rollups, usage metering) from the raw
    /// events, after a rule changed; with a server running, that server does it
    Rebuild {
        #[arg(value_enum)]
        what: Derived,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BillingFormat {
    Table,
    Csv,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum WidgetsCommand {
    /// Create a widget and print its id, alone, on standard output
    Create {
        /// A name people recognise, such as "Support widget - example.com"
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "default")]
        project: String,
        /// A domain the widget may send from, with its subdomains (repeat for
        /// more); with none, any page may send
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
        /// A demo widget: its events are answered and not stored
        #[arg(long)]
        demo: bool,
        /// Requests a minute the widget may send, from all pages together (429 beyond)
        #[arg(long, default_value_t = spoor_store::metering::DEFAULT_WIDGET_RATE_LIMIT,
              value_name = "PER_MINUTE", value_parser = clap::value_parser!(i64).range(1..))]
        rate_limit: i64,
    },
    /// List widgets
    List {
        /// Only this project's
        #[arg(long)]
        project: Option<String>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Let a widget send again
    Activate { id: String },
    /// Stop a widget from sending (403 until activated again); its events stay
    Deactivate { id: String },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Derived {
    Sessions,
    Rollups,
    /// Widget sessions and the usage totals bills are made from
    Metering,
    /// Friction, heatmaps, error issues and web vitals
    Friction,
    /// Insights' facts: the compact copy of events questions read
    Facts,
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Create a user with a role in an organisation (made when missing), or give an
    /// existing user a role in another organisation
    Create {
        #[arg(long)]
        email: String,
        /// Organisation name
        #[arg(long, default_value = "default")]
        org: String,
        /// owner (everything), admin (projects and keys) or viewer (reads only)
        #[arg(long, value_parser = ["owner", "admin", "viewer"])]
        role: String,
        /// Read the password from standard input instead of prompting for it
        #[arg(long)]
        password_stdin: bool,
    },
    /// Erase a customer (GDPR): every event, session and summary of the user id
    /// and of the anonymous ids linked to it; their messages are refused from
    /// then on. Prints what was erased as JSON. A running server refuses the
    /// user's messages within seconds.
    Forget {
        /// The user id the site sent (`userId`)
        user_id: String,
        /// Project name
        #[arg(long, default_value = "default")]
        project: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// List the jobs, their last run and which node holds the scheduler lease
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Run a job now, on this machine, and print what it did
    Run {
        /// A job name from `spoor jobs list`
        name: String,
        /// Seconds to wait for a run of the same job on another node (a
        /// running server's scheduler, say) to end before running it here;
        /// past them the command fails and names that node
        #[arg(long, default_value_t = 30, value_name = "SECS")]
        wait: u64,
    },
}

/// What a node does (`spoor serve --role`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Take events, serve the API, derive, and run the scheduled jobs
    All,
    /// Take events and serve the API; never derive or run jobs
    Ingest,
    /// Derive and run the scheduled jobs, and serve the API; take no events
    Derive,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// What this node does. On PostgreSQL a deployment can run ingest nodes
    /// beside derive nodes on one database; one derive node at a time runs
    /// the pipeline (under its lease), another takes over if it dies
    #[arg(long, env = "SPOOR_ROLE", value_enum, default_value_t = RoleArg::All)]
    pub role: RoleArg,

    /// Address to listen on; use 0.0.0.0:8080 to accept connections from other hosts
    #[arg(
        long,
        env = "SPOOR_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,

    /// MaxMind-format (MMDB) database for country, region and city, such as DB-IP's
    /// free IP to City Lite; without one, events carry no location
    #[arg(long, env = "SPOOR_GEOIP_DB", value_name = "FILE")]
    pub geoip_db: Option<PathBuf>,

    /// Number of trusted reverse proxies in front of Spoor. 0 ignores X-Forwarded-For;
    /// N takes the client address from the N-th entry from its right end
    #[arg(long, env = "SPOOR_PROXY_HOPS", default_value_t = 0, value_name = "N")]
    pub proxy_hops: usize,

    /// Largest request body on the wire, in bytes (413 above)
    #[arg(long, env = "SPOOR_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes, value_name = "BYTES")]
    pub max_body_bytes: usize,

    /// Largest request body after gzip decompression, in bytes (413 above)
    #[arg(long, env = "SPOOR_MAX_DECODED_BYTES", default_value_t = Limits::default().max_decoded_bytes, value_name = "BYTES")]
    pub max_decoded_bytes: usize,

    /// Most messages in one batch (413 above)
    #[arg(long, env = "SPOOR_MAX_BATCH_MESSAGES", default_value_t = Limits::default().max_batch_messages, value_name = "N")]
    pub max_batch_messages: usize,

    /// Largest single message, properties included, in bytes (413 above)
    #[arg(long, env = "SPOOR_MAX_MESSAGE_BYTES", default_value_t = Limits::default().max_message_bytes, value_name = "BYTES")]
    pub max_message_bytes: usize,

    /// Deepest nesting of objects and arrays in a body (413 above)
    #[arg(long, env = "SPOOR_MAX_JSON_DEPTH", default_value_t = Limits::default().max_json_depth, value_name = "N")]
    pub max_json_depth: usize,

    /// Events that may wait to be written; beyond this ingestion answers 503 with Retry-After
    #[arg(long, env = "SPOOR_QUEUE_EVENTS", default_value_t = spoor_server::ServerConfig::default().queue_events, value_name = "N")]
    pub queue_events: usize,

    /// Most events committed in one transaction
    #[arg(long, env = "SPOOR_WRITE_BATCH_EVENTS", default_value_t = spoor_server::ServerConfig::default().write_batch_events, value_name = "N")]
    pub write_batch_events: usize,

    /// Requests served at once; beyond this the server answers 503 with Retry-After
    #[arg(long, env = "SPOOR_MAX_IN_FLIGHT", default_value_t = spoor_server::ServerConfig::default().max_in_flight, value_name = "N")]
    pub max_in_flight: usize,

    /// Open connections at most; beyond this, new ones wait to be accepted
    #[arg(long, env = "SPOOR_MAX_CONNECTIONS", default_value_t = spoor_server::ServerConfig::default().max_connections, value_name = "N")]
    pub max_connections: usize,

    /// Connections one client may hold open (counted per IPv4 address or IPv6 /64); behind
    /// --proxy-hops, requests in flight per forwarded client instead. 0 for no bound
    #[arg(long, env = "SPOOR_MAX_CONNECTIONS_PER_IP", default_value_t = spoor_server::ServerConfig::default().max_connections_per_ip, value_name = "N")]
    pub max_connections_per_ip: usize,

    /// Seconds a client has to send a request's headers before the connection is closed
    #[arg(long, env = "SPOOR_HEADER_TIMEOUT", default_value_t = spoor_server::ServerConfig::default().header_timeout.as_secs(), value_name = "SECS")]
    pub header_timeout: u64,

    /// Seconds a client has to send a request's body, plus one for each 64 KiB received
    /// (408 beyond)
    #[arg(long, env = "SPOOR_BODY_TIMEOUT", default_value_t = spoor_server::ServerConfig::default().body_timeout.as_secs(), value_name = "SECS")]
    pub body_timeout: u64,

    /// Seconds an answer may go without the client taking a byte of it before
    /// the connection is closed
    #[arg(long, env = "SPOOR_WRITE_TIMEOUT", default_value_t = spoor_server::ServerConfig::default().write_timeout.as_secs(), value_name = "SECS")]
    pub write_timeout: u64,

    /// Seconds to keep taking requests after SIGTERM while /readyz answers 503,
    /// so that a load balancer takes this node out first (0: stop at once)
    #[arg(long, env = "SPOOR_DRAIN_SECONDS", default_value_t = 0, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub drain_seconds: u64,

    /// Redis (redis://host:6379, or rediss://host:6380 for TLS) to count per-key
    /// rate limits in, shared by every node; without it a PostgreSQL store counts
    /// them, and SQLite in the process
    #[arg(
        long,
        env = "SPOOR_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,

    /// PEM file of the certificate authorities a rediss:// Redis's certificate
    /// must chain to, instead of the system's (a private CA)
    #[arg(long, env = "SPOOR_REDIS_CA_FILE", value_name = "FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// The secret an external cron sends (Authorization: Bearer) to run the
    /// metering cleanup through /api/analytics/cleanup. Without one, that route
    /// runs only when the server listens on loopback alone
    #[arg(
        long,
        env = "SPOOR_CRON_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub cron_secret: Option<String>,

    /// Seconds a node holds the scheduler lease unless it renews it; when a node
    /// dies, another takes its jobs over within this time
    #[arg(
        long,
        env = "SPOOR_SCHEDULER_LEASE_SECS",
        default_value_t = 30,
        value_name = "SECS"
    )]
    pub scheduler_lease_secs: u64,

    /// Bytes of files (recordings, screenshots, exports) a project may keep
    /// unless its own quota says otherwise; 0 for no limit
    #[arg(long, env = "SPOOR_FILE_QUOTA_BYTES", default_value_t = spoor_server::config::UploadLimits::default().default_quota_bytes, value_name = "BYTES")]
    pub file_quota_bytes: i64,

    /// Largest uploaded video (seed 002's upload-recording), in bytes (413 above)
    #[arg(long, env = "SPOOR_MAX_VIDEO_BYTES", default_value_t = spoor_server::config::UploadLimits::default().max_video_bytes, value_name = "BYTES")]
    pub max_video_bytes: usize,

    /// Memory all replays of rrweb recordings may hold at once for decoded
    /// chunks, in bytes; a replay waits for room before its next chunk
    #[arg(long, env = "SPOOR_REPLAY_MEMORY_BYTES", default_value_t = spoor_server::config::UploadLimits::default().replay_memory_bytes, value_name = "BYTES")]
    pub replay_memory_bytes: usize,

    /// Largest recording chunk as sent, in bytes (413 above)
    #[arg(long, env = "SPOOR_MAX_CHUNK_BYTES", default_value_t = spoor_server::config::UploadLimits::default().max_chunk_bytes, value_name = "BYTES")]
    pub max_chunk_bytes: usize,

    /// Log format on standard error; the level comes from SPOOR_LOG (default info)
    #[arg(long, env = "SPOOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log one line per request (method, path without its query, status,
    /// duration, bytes, client address, request id) under the target `access`,
    /// and echo each request's id in X-Request-Id: the one it came with when
    /// sane (1 to 128 visible ASCII characters), else a new one
    #[arg(long, env = "SPOOR_ACCESS_LOG")]
    pub access_log: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a write key and print it, alone, on standard output
    Create {
        /// A name people recognise, such as "Customer XYZ - Production"
        #[arg(long)]
        name: String,
        /// Project the key writes to
        #[arg(long, default_value = "default")]
        project: String,
        /// A domain allowed to send with this key, with its subdomains (repeat for
        /// more); with none, any origin may send
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
        /// Requests a minute this key may make, from every sender together (429
        /// beyond)
        #[arg(long, default_value_t = spoor_store::DEFAULT_KEY_RATE_LIMIT, value_name = "PER_MINUTE",
              value_parser = clap::value_parser!(u32).range(1..=spoor_store::MAX_RATE_LIMIT as i64))]
        rate_limit: u32,
        /// Requests a minute this key may make from one client address (an
        /// IPv6 /64; loopback and private addresses are not limited); 0: no
        /// such limit, as for a back end that sends its users' events
        #[arg(long, default_value_t = spoor_store::DEFAULT_PER_ADDRESS_RATE_LIMIT, value_name = "PER_MINUTE",
              value_parser = clap::value_parser!(u32).range(0..=spoor_store::MAX_RATE_LIMIT as i64))]
        per_address_limit: u32,
    },
    /// Change a write key: its name, allowed domains or limits (what is not
    /// given stays as it is)
    Set {
        /// The key itself (fk_...) or its id from `spoor keys list`
        #[arg(value_name = "KEY|ID")]
        key: String,
        #[arg(long)]
        name: Option<String>,
        /// The allowed domains, replacing the key's (repeat for more)
        #[arg(long = "domain", value_name = "DOMAIN", conflicts_with = "any_domain")]
        domains: Vec<String>,
        /// Let any origin send with the key (clears its domains)
        #[arg(long)]
        any_domain: bool,
        /// Requests a minute from every sender together
        #[arg(long, value_name = "PER_MINUTE",
              value_parser = clap::value_parser!(u32).range(1..=spoor_store::MAX_RATE_LIMIT as i64))]
        rate_limit: Option<u32>,
        /// Requests a minute from one client address; 0: no such limit
        #[arg(long, value_name = "PER_MINUTE",
              value_parser = clap::value_parser!(u32).range(0..=spoor_store::MAX_RATE_LIMIT as i64))]
        per_address_limit: Option<u32>,
    },
    /// List write keys
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Stop a key from sending (401 until enabled again)
    Disable {
        /// The key itself (fk_...) or its id from `spoor keys list`
        #[arg(value_name = "KEY|ID")]
        key: String,
    },
    /// Let a disabled key send again
    Enable {
        /// The key itself (fk_...) or its id from `spoor keys list`
        #[arg(value_name = "KEY|ID")]
        key: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Create an admin token and print it, alone, on standard output
    Create {
        #[arg(long)]
        name: String,
        /// Organisation whose projects the token may read
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// List an organisation's admin tokens (their prefixes, never the tokens)
    List {
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Revoke an admin token: it is refused at once
    Revoke {
        /// The token's id, from `spoor tokens list`
        id: i64,
        #[arg(long, default_value = "default")]
        org: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ProjectsCommand {
    /// Create a project
    Create {
        name: String,
        /// Organisation that owns it
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// List projects
    List,
    /// Change a project's settings
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true)))]
    Set {
        name: String,
        /// Store whole client IP addresses instead of truncated ones (/24, /48)
        #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, group = "change")]
        keep_full_ip: Option<bool>,
        /// Keep raw events and sessions this many days (0: for ever; 90 unless
        /// set); people's summaries are kept. The daily project-retention job
        /// applies it
        #[arg(long, value_name = "DAYS", group = "change",
              value_parser = clap::value_parser!(u32).range(0..=36_500))]
        retention_days: Option<u32>,
    },
}

fn source_names() -> [&'static str; spoor_core::import::Source::ALL.len()] {
    spoor_core::import::Source::ALL.map(|(_, name, _)| name)
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The files: one JSON object a line, or CSV with a header row; `-` reads
    /// standard input (which cannot be resumed)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The project the events go to
    #[arg(long, default_value = "default")]
    pub project: String,
    /// What the files hold (docs/import.md says which columns each reads);
    /// by default told from each file's first row
    #[arg(long, value_name = "SOURCE", value_parser = clap::builder::PossibleValuesParser::new(source_names()))]
    pub source: Option<String>,
    /// Start each file from its beginning, ignoring the checkpoint an
    /// interrupted import left beside it (nothing is stored twice either way)
    #[arg(long)]
    pub restart: bool,
    /// No progress on standard error; the summary is still printed
    #[arg(long)]
    pub quiet: bool,
    /// A MaxMind/DB-IP City or Country database, for rows that carry an
    /// address but no place
    #[arg(long, env = "SPOOR_GEOIP_DB", value_name = "FILE")]
    pub geoip_db: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Stream stored events, oldest first, in constant memory
    Events {
        #[arg(long, default_value = "default")]
        project: String,
        /// Events at or after this time (ISO-8601, a date, or ms since the epoch)
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Events before this time (ISO-8601, a date, or ms since the epoch)
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        #[arg(long, value_enum)]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    Ndjson,
    Csv,
}
