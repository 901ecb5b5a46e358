//! `spoor serve`.

use anyhow::Context;
use spoor_core::Limits;
use spoor_server::ServerConfig;
use spoor_server::config::Role;
use spoor_store::Store;
use tracing_subscriber::EnvFilter;

use crate::cli::{LogFormat, RoleArg, ServeArgs};

fn init_logs(format: LogFormat, access_log: bool) {
    let mut filter =
        EnvFilter::try_from_env("SPOOR_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // The flag alone turns the lines on, whatever level the rest logs at;
    // SPOOR_LOG can still set the target apart (`warn,access=off`).
    let named = std::env::var("SPOOR_LOG").is_ok_and(|v| {
        v.split(',')
            .any(|d| d.split(['=', '[']).next().map(str::trim) == Some(spoor_server::ACCESS_TARGET))
    });
    if access_log
        && !named
        && let Ok(directive) = format!("{}=info", spoor_server::ACCESS_TARGET).parse()
    {
        filter = filter.add_directive(directive);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

pub fn run(
    store: Store,
    args: ServeArgs,
    scheduler: spoor_server::scheduler::SchedulerConfig,
) -> anyhow::Result<()> {
    init_logs(args.log_format, args.access_log);
    let config = ServerConfig {
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_decoded_bytes: args.max_decoded_bytes,
            max_batch_messages: args.max_batch_messages,
            max_message_bytes: args.max_message_bytes,
            max_json_depth: args.max_json_depth,
        },
        proxy_hops: args.proxy_hops,
        geoip_db: args.geoip_db,
        queue_events: args.queue_events,
        write_batch_events: args.write_batch_events,
        max_in_flight: args.max_in_flight,
        max_connections: args.max_connections,
        max_connections_per_ip: args.max_connections_per_ip,
        header_timeout: std::time::Duration::from_secs(args.header_timeout),
        body_timeout: std::time::Duration::from_secs(args.body_timeout),
        write_timeout: std::time::Duration::from_secs(args.write_timeout.max(1)),
        drain: std::time::Duration::from_secs(args.drain_seconds),
        redis_url: args.redis_url,
        redis_ca_file: args.redis_ca_file,
        cron_secret: args.cron_secret.filter(|s| !s.is_empty()),
        uploads: spoor_server::config::UploadLimits {
            default_quota_bytes: args.file_quota_bytes,
            max_video_bytes: args.max_video_bytes,
            max_chunk_bytes: args.max_chunk_bytes,
            replay_memory_bytes: args.replay_memory_bytes,
            ..Default::default()
        },
        access_log: args.access_log,
        role: match args.role {
            RoleArg::All => Role::All,
            RoleArg::Ingest => Role::Ingest,
            RoleArg::Derive => Role::Derive,
        },
        scheduler: spoor_server::scheduler::SchedulerConfig {
            lease: std::time::Duration::from_secs(args.scheduler_lease_secs.max(1)),
            ..scheduler
        },
    };
    // Started, and the store kept, outside the async runtime: a PostgreSQL client
    // drives a runtime of its own, which may be neither made nor dropped inside one.
    let server = spoor_server::Server::start(store.clone(), config)?;
    let setup_token = server.setup_token()?;
    // Store calls that wait on the network (PostgreSQL) run on the blocking
    // pool, as many at once as the store has connections (`App::network_call`),
    // beside the dashboard's store work. Unbounded, the pool grew to over 200
    // threads under overload, each with an allocator heap of its own (RSS over
    // 700 MB); the calls themselves are bounded by the store's connections, so
    // a small pool does the same work.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(store.max_connections() * 2 + 8)
        .build()?;
    let described = store.describe();
    let served: anyhow::Result<()> = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(store = %described, "starting");
        // Printed after binding: whoever reads this line can connect at once.
        println!("spoor listening on http://{addr}");
        if let Some(token) = setup_token {
            // Written to the terminal, not to the log: logs are kept and
            // shipped, and whoever reads this link can make the first owner.
            eprintln!(
                "no dashboard users yet: create the first owner at http://{addr}/setup?token={token} \
                 (this link works once, for {} minutes, while no user exists; or use `spoor users create`)",
                spoor_server::SETUP_TTL.as_secs() / 60
            );
        }
        server.serve(listener, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    });
    drop(runtime);
    drop(store);
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests and committing the queue");
}
