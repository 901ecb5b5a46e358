//! The `spoor` binary: parses the command line and runs one command.
//!
//! Anything a script may want to capture (a new key, an export) goes to standard
//! output alone; everything else goes to standard error.

mod admin;
mod backup;
mod cli;
mod config_file;
mod export;
mod import;
mod jobs;
mod metering;
mod rebuild;
mod serve;

use std::process::ExitCode;

use clap::Parser;
use spoor_store::pg::PgConfig;
use spoor_store::{Store, StoreConfig};

use cli::{Cli, Command};

/// Ingestion allocates many small, short-lived values on several threads at once;
/// glibc's allocator spent a fifth of the server's time on them under load
/// (measured with `perf`), mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's defaults keep freed memory resident: arenas are committed
/// eagerly, so a purge only resets their pages (which stay counted in RSS
/// until the kernel needs them), and then only 10 ms (arenas: 100 ms) after
/// the free. The pipeline frees a pass's worth of memory every pass, so
/// under load the server's RSS sat 60 MB above what it held (measured:
/// 180 MB against 118 MB with these two set, the same events per second).
/// Set before the first allocation (a constructor: the runtime allocates
/// before `main`), so that the first arena is not committed eagerly either;
/// the option numbers are mimalloc v3's `mi_option_e` (the lock file pins
/// that version).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
#[used]
#[unsafe(link_section = ".init_array")]
static RETURN_FREED_MEMORY: extern "C" fn() = return_freed_memory;

const ARENA_EAGER_COMMIT: std::ffi::c_int = 4;
const PURGE_DELAY: std::ffi::c_int = 15;

// SAFETY: the declarations match mimalloc.h's
// `void mi_option_set(mi_option_t option, long value)` and
// `long mi_option_get(mi_option_t option)`.
#[allow(unsafe_code)]
unsafe extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

extern "C" fn return_freed_memory() {
    // SAFETY: mi_option_set stores an integer in mimalloc's option table; it
    // has no preconditions and is safe to call at any time.
    #[allow(unsafe_code)]
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, 0);
    }
}

fn main() -> ExitCode {
    #[cfg(not(target_os = "linux"))]
    return_freed_memory();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = config_file::locate(&args) {
        for (var, value) in config_file::load(&path)? {
            // SAFETY: no other thread exists yet; the runtime starts later.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var(var, value)
            };
        }
    }
    let cli = Cli::parse_from(args);
    let config = match &cli.database_url {
        Some(url) => StoreConfig::Postgres(PgConfig {
            url: url.clone(),
            schema: cli.db_schema.clone(),
            pool_size: cli.db_pool_size,
            statement_timeout: std::time::Duration::from_secs(cli.db_statement_timeout),
            ca_file: cli.db_ca_file.clone(),
        }),
        None => StoreConfig::sqlite(&cli.data_dir),
    };
    // Caches are sized when a store opens.
    spoor_store::budget::MemoryBudget::set(cli.memory_budget);
    let open = || Store::open(&config);
    let scheduler = spoor_server::scheduler::SchedulerConfig {
        node: cli
            .node_name
            .clone()
            .unwrap_or_else(spoor_server::scheduler::default_node_name),
        retention_days: cli.retention_days,
        metering: spoor_server::metering::MeteringConfig {
            cleanup_every: std::time::Duration::from_secs(cli.metering_cleanup_minutes * 60),
            infer_after: std::time::Duration::from_secs(cli.metering_infer_after_minutes * 60),
        },
        alerts: spoor_server::alerts::AlertsConfig {
            every: std::time::Duration::from_secs(cli.alerts_every_seconds),
            notify: notify_config(&cli)?,
        },
        exports: spoor_server::exports::ExportsConfig {
            every: std::time::Duration::from_secs(cli.exports_every_seconds),
            files: files_config(&cli)?,
            orphans_after: std::time::Duration::from_secs(cli.orphan_files_after_seconds),
        },
        ..Default::default()
    };
    match cli.command {
        Command::Serve(args) => serve::run(open()?, args, scheduler),
        Command::Jobs(cmd) => jobs::run(&open()?, cmd, &scheduler),
        Command::Users(cmd) => admin::users(&open()?, cmd, &scheduler.exports.files),
        Command::Rebuild { what } => rebuild::run(&open()?, what, &scheduler),
        Command::Keys(cmd) => admin::keys(&open()?, cmd),
        Command::Tokens(cmd) => admin::tokens(&open()?, cmd),
        Command::Projects(cmd) => admin::projects(&open()?, cmd),
        Command::Export(cmd) => export::run(&open()?, cmd),
        Command::Import(args) => import::run(&open()?, args),
        Command::Backup { to } => backup::backup(&open()?, &to),
        Command::Restore { from } => {
            if cli.database_url.is_some() {
                anyhow::bail!(
                    "spoor restore fills an embedded store (--data-dir); restore PostgreSQL with its own tools"
                );
            }
            backup::restore(&cli.data_dir, &from)
        }
        Command::Widgets(cmd) => metering::widgets(&open()?, cmd),
        Command::Billing {
            month,
            project,
            widget,
            format,
        } => {
            // Checked before the store is opened (and made, when missing).
            let range = spoor_store::metering::month_range(&month)
                .ok_or_else(|| anyhow::anyhow!("--month must look like 2026-11, not {month:?}"))?;
            metering::billing(&open()?, range, &project, widget.as_deref(), format)
        }
        Command::Openapi => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{}", spoor_server::openapi_document()) {
                // A reader that stopped early (`| head`) wanted no more.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => Ok(other?),
            }
        }
        Command::Migrate => {
            let store = open()?;
            eprintln!("{} is up to date", store.describe());
            Ok(())
        }
    }
}

/// How alerts are delivered, from the SMTP and webhook flags.
fn notify_config(cli: &Cli) -> anyhow::Result<spoor_server::notify::NotifyConfig> {
    use spoor_server::notify::{NotifyConfig, SmtpConfig};
    let smtp = match &cli.smtp_host {
        Some(host) => Some(SmtpConfig {
            host: host.clone(),
            port: cli.smtp_port,
            username: cli.smtp_username.clone(),
            password: cli.smtp_password.clone(),
            from: cli.smtp_from.clone().ok_or_else(|| {
                anyhow::anyhow!(
                    "--smtp-host needs --smtp-from (SPOOR_SMTP_FROM): the alert emails' sender"
                )
            })?,
            tls: cli
                .smtp_tls
                .parse()
                .map_err(|e: String| anyhow::anyhow!(e))?,
        }),
        None => None,
    };
    Ok(NotifyConfig {
        allow_private_targets: cli.allow_private_webhooks,
        smtp,
        ..Default::default()
    })
}

/// Where files go: the S3 bucket when one is named, else a directory.
fn files_config(cli: &Cli) -> anyhow::Result<spoor_server::files::FilesConfig> {
    use spoor_server::files::{AwsEnv, FilesConfig, S3Config, S3Credentials};
    Ok(match &cli.s3_bucket {
        Some(bucket) => FilesConfig::S3(S3Config {
            endpoint: cli.s3_endpoint.clone(),
            bucket: bucket.clone(),
            region: cli.s3_region.clone(),
            // Both keys, or neither and AWS's chain (the environment, the
            // shared file, the container endpoint, instance metadata).
            credentials: match (&cli.s3_access_key, &cli.s3_secret_key) {
                (Some(access_key), Some(secret_key)) => S3Credentials::Keys {
                    access_key: access_key.clone(),
                    secret_key: secret_key.clone(),
                },
                (None, None) => S3Credentials::Chain(AwsEnv::from_process()),
                (Some(_), None) => {
                    anyhow::bail!("--s3-access-key needs --s3-secret-key (or SPOOR_S3_SECRET_KEY)")
                }
                (None, Some(_)) => {
                    anyhow::bail!("--s3-secret-key needs --s3-access-key (or SPOOR_S3_ACCESS_KEY)")
                }
            },
            path_style: cli.s3_path_style,
            prefix: String::new(),
            staging_dir: cli.data_dir.join("staging"),
        }),
        None => FilesConfig::Local(
            cli.files_dir
                .clone()
                .unwrap_or_else(|| cli.data_dir.join("files")),
        ),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// The default the command line shows is the store's default.
    #[test]
    fn the_memory_budget_defaults_to_the_stores_default() {
        let cli = super::Cli::parse_from(["spoor", "serve"]);
        assert_eq!(
            cli.memory_budget,
            spoor_store::budget::DEFAULT_MEMORY_BUDGET
        );
        let cli = super::Cli::parse_from(["spoor", "--memory-budget", "64MiB", "serve"]);
        assert_eq!(cli.memory_budget, 64 << 20);
    }

    /// The constructor ran before the test harness allocated: both options
    /// read back as set (mimalloc's defaults are 2 and 10).
    #[test]
    fn the_allocator_gives_freed_memory_back_at_once() {
        // SAFETY: mi_option_get reads mimalloc's option table.
        #[allow(unsafe_code)]
        let (eager, delay) = unsafe {
            (
                super::mi_option_get(super::ARENA_EAGER_COMMIT),
                super::mi_option_get(super::PURGE_DELAY),
            )
        };
        assert_eq!((eager, delay), (0, 0));
    }
}
