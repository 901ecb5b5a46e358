//! Scheduled jobs, run by exactly one node at a time.
//!
//! Every node runs a scheduler thread, but only the holder of the `scheduler`
//! lease in the store runs jobs. The holder renews the lease every third of its
//! time to live; when the holder dies, its lease expires and the next node to
//! ask takes it over, so jobs stop for at most one lease time (30 s by default).
//! A clean stop gives the lease up at once. Each run also takes a lease of its
//! own (`job:NAME`), so a run started from the CLI never overlaps the
//! scheduler's. When a job is due is decided from its last run as recorded in
//! the store, so a node that takes over does not repeat a job another node has
//! just run.
//!
//! The scheduler runs on a plain thread (`crate::background`). A job must finish
//! within the lease time or split its work, since the lease is renewed between
//! jobs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use spoor_store::{Store, StoreError};

use prometheus_client::metrics::counter::Counter;

use crate::alerts::{ALERTS_JOB, AlertsConfig, AlertsJob};
use crate::background::{HeldLease, Stop, Worker};
use crate::exports::{EXPORTS_JOB, ExportsConfig, ExportsJob};
use crate::files::FileStore;
use crate::metering::{self, CLEANUP_JOB, MeteringConfig};
use crate::telemetry::{JobLabels, Metrics};

/// The lease that makes a node the one that runs jobs.
const LEADER_LEASE: &str = "scheduler";

#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// This node's name in leases and job runs; unique per process.
    pub node: String,
    /// How long a lease lasts unless renewed: the longest jobs pause when the
    /// node running them dies.
    pub lease: Duration,
    /// Events older than this many days are removed; `None` keeps everything.
    pub retention_days: Option<u32>,
    /// The usage-metering cleanup's schedule and threshold.
    pub metering: MeteringConfig,
    /// How often alert rules are evaluated, and how alerts are delivered.
    pub alerts: AlertsConfig,
    /// Where files live, and how often queued exports are looked for.
    pub exports: ExportsConfig,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            node: default_node_name(),
            lease: Duration::from_secs(30),
            retention_days: None,
            metering: MeteringConfig::default(),
            alerts: AlertsConfig::default(),
            exports: ExportsConfig::default(),
        }
    }
}

/// `host:pid`, unique among the processes that share a store.
pub fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}:{}", std::process::id())
}

/// What a job does: one pass over the store, and a line saying what it did.
pub type JobFn = Box<dyn Fn(&Store) -> Result<String, StoreError> + Send + Sync>;

pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    /// A job that never ran first runs this long after the scheduler started,
    /// not at once: a job that deletes data waits until the operator has had
    /// the time to set the store up (and a freshly started test server keeps
    /// what it is sent).
    pub first_after: Duration,
    pub run: JobFn,
}

/// Every job this configuration schedules. `calls_completed` counts the calls
/// the metering cleanup completes (a metric on a server; unused elsewhere).
pub fn jobs(config: &SchedulerConfig, calls_completed: Counter) -> Vec<Job> {
    let mut jobs = vec![Job {
        name: "partitions",
        every: Duration::from_secs(3600),
        first_after: Duration::ZERO,
        run: Box::new(|store| {
            let made = store.maintain_partitions(spoor_core::time::now_ms())?;
            Ok(if made.is_empty() {
                "partitions are up to date".into()
            } else {
                format!("made {}", made.join(", "))
            })
        }),
    }];
    if let Some(days) = config.retention_days {
        jobs.push(Job {
            name: "retention",
            every: Duration::from_secs(24 * 3600),
            first_after: Duration::ZERO,
            run: Box::new(move |store| {
                let cutoff = spoor_core::time::now_ms() - i64::from(days) * 86_400_000;
                let done = store.drop_events_before(cutoff)?;
                Ok(format!(
                    "kept {days} days: dropped {} partitions ({}) and deleted {} events",
                    done.partitions_dropped.len(),
                    done.partitions_dropped.join(", "),
                    done.rows_deleted
                ))
            }),
        });
    }
    jobs.push(Job {
        name: "project-retention",
        every: Duration::from_secs(24 * 3600),
        first_after: Duration::from_secs(3600),
        run: expire_projects(config),
    });
    jobs.push(metering_cleanup(config, calls_completed));
    jobs.push(alerts(config));
    jobs.push(exports(config));
    jobs
}

/// Export jobs and scheduled reports (`crate::exports`) as a job.
pub fn exports(config: &SchedulerConfig) -> Job {
    let job = ExportsJob::new(&config.exports, &config.alerts.notify);
    Job {
        name: EXPORTS_JOB,
        every: config.exports.every,
        first_after: Duration::ZERO,
        run: Box::new(move |store| match &job {
            Ok(job) => Ok(job.run(store, spoor_core::time::now_ms())?.describe()),
            Err(e) => Err(StoreError::Invalid(e.clone())),
        }),
    }
}

/// Alert rules' evaluation and delivery (`crate::alerts`) as a job.
pub fn alerts(config: &SchedulerConfig) -> Job {
    let job = AlertsJob::new(&config.alerts);
    Job {
        name: ALERTS_JOB,
        every: config.alerts.every,
        first_after: Duration::ZERO,
        run: Box::new(move |store| match &job {
            Ok(job) => Ok(job.run(store, spoor_core::time::now_ms())?.describe()),
            Err(e) => Err(StoreError::Invalid(e.clone())),
        }),
    }
}

/// The metering cleanup (`crate::metering::cleanup`) as a job.
pub fn metering_cleanup(config: &SchedulerConfig, calls_completed: Counter) -> Job {
    let infer_after = config.metering.infer_after;
    Job {
        name: CLEANUP_JOB,
        every: config.metering.cleanup_every,
        first_after: Duration::ZERO,
        run: Box::new(move |store| {
            let done = metering::cleanup(store, infer_after, spoor_core::time::now_ms())?;
            calls_completed.inc_by(done.completed as u64);
            Ok(done.describe())
        }),
    }
}

/// Removes the files of intents made before `before` that no commit
/// fulfilled (a crash between a file's put and its row's commit, a failed put,
/// an export job deleted while it ran), then the intents. An intent whose file
/// could not be removed stays for the next run. Returns how many went.
pub fn remove_orphans(
    store: &Store,
    files: &FileStore,
    runtime: &tokio::runtime::Runtime,
    before: i64,
) -> Result<usize, StoreError> {
    let mut removed = 0;
    loop {
        let keys = store.stale_file_intents(before, 500)?;
        let mut gone = Vec::with_capacity(keys.len());
        for key in &keys {
            match runtime.block_on(files.delete(key)) {
                Ok(()) => gone.push(key.clone()),
                Err(e) => tracing::warn!(key, "could not remove an orphaned file: {e}"),
            }
        }
        store.forget_file_intents(&gone)?;
        removed += gone.len();
        // A short page, or one where nothing could be removed: done for now.
        if keys.len() < 500 || gone.is_empty() {
            return Ok(removed);
        }
    }
}

/// Each project's retention (`Store::project_retention`, 90 days unless set):
/// raw events, sessions, recordings and screenshots older than it go (their
/// files with them), people's summaries and the overview's rollups stay.
fn expire_projects(config: &SchedulerConfig) -> JobFn {
    let orphans_after = config.exports.orphans_after.as_millis() as i64;
    let files = FileStore::open(&config.exports.files).map_err(|e| e.to_string());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string());
    Box::new(move |store| {
        let (files, runtime) = match (&files, &runtime) {
            (Ok(f), Ok(r)) => (f, r),
            (Err(e), _) | (_, Err(e)) => return Err(StoreError::Invalid(e.clone())),
        };
        let now = spoor_core::time::now_ms();
        let mut lines = Vec::new();
        for project in store.projects()? {
            let days = store.project_retention(project.id)?;
            if days == 0 {
                continue;
            }
            let cutoff = now - i64::from(days) * 86_400_000;
            let done = store.expire_project(project.id, cutoff)?;
            let freed = store.expire_files(project.id, cutoff)?;
            runtime.block_on(files.delete_all(&freed.file_keys));
            lines.push(format!(
                "{}: kept {days} days, deleted {} events, {} sessions, {} recordings and {} screenshots",
                project.name, done.events, done.sessions, freed.recordings, freed.screenshots
            ));
        }
        let orphans = remove_orphans(store, files, runtime, now - orphans_after)?;
        if orphans > 0 {
            lines.push(format!("cleared {orphans} files left by unfinished writes"));
        }
        Ok(if lines.is_empty() {
            "no project has a retention".into()
        } else {
            lines.join("; ")
        })
    })
}

/// The node running `job` now, if one is: the holder of its unexpired lease.
pub fn job_holder(store: &Store, job: &Job) -> Result<Option<String>, StoreError> {
    let lease_name = format!("job:{}", job.name);
    let now = spoor_core::time::now_ms();
    Ok(store
        .leases()?
        .into_iter()
        .find(|l| l.name == lease_name && l.expires_at > now)
        .map(|l| l.holder))
}

/// Runs one job now on this node, recording the run in the store. Refused when
/// the same job is running elsewhere.
pub fn run_job(
    store: &Store,
    job: &Job,
    node: &str,
    lease: Duration,
) -> Result<String, StoreError> {
    let lease_name = format!("job:{}", job.name);
    let ttl = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    if !store.acquire_lease(&lease_name, node, ttl)? {
        let holder = job_holder(store, job)?.unwrap_or_else(|| "another node".into());
        return Err(StoreError::Conflict(format!(
            "job {} is running on {holder}",
            job.name
        )));
    }
    store.job_started(job.name, node)?;
    let outcome = (job.run)(store);
    let recorded = match &outcome {
        Ok(detail) => store.job_finished(job.name, true, detail),
        Err(e) => store.job_finished(job.name, false, &e.to_string()),
    };
    store.release_lease(&lease_name, node)?;
    recorded?;
    outcome
}

/// Runs the exports job whenever someone queues an export (`App::exports_wanted`),
/// rather than at the scheduler's next turn. Many requests at once make one
/// run. A busy lease (a run in progress may be past its last look at the
/// queue) is tried again for a while, waiting here as a task: no request and
/// no blocking thread sleeps for it.
pub async fn run_exports_when_asked(app: Arc<crate::app::App>) {
    // A holder name of its own: the scheduler's name would renew the
    // scheduler's own hold on the job's lease instead of waiting for it.
    let holder = format!("{}/api", app.config.scheduler.node);
    loop {
        app.exports_wanted.notified().await;
        for _ in 0..20 {
            let (app, holder) = (app.clone(), holder.clone());
            let ran = tokio::task::spawn_blocking(move || {
                run_job(
                    &app.store,
                    &app.exports,
                    &holder,
                    app.config.scheduler.lease,
                )
            })
            .await;
            match ran {
                Ok(Ok(detail)) => {
                    tracing::info!(job = "exports", "{detail}");
                    break;
                }
                Ok(Err(StoreError::Conflict(_))) => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(Err(e)) => {
                    tracing::warn!(job = "exports", "failed: {e}");
                    break;
                }
                Err(e) => {
                    tracing::warn!(job = "exports", "the run stopped: {e}");
                    break;
                }
            }
        }
    }
}

/// The scheduler's thread.
pub struct Scheduler(Worker);

impl Scheduler {
    pub fn start(store: Store, config: SchedulerConfig, metrics: Arc<Metrics>) -> Scheduler {
        Scheduler(Worker::spawn("spoor-scheduler".into(), move |stop| {
            run(&store, &config, &metrics, stop)
        }))
    }

    /// Stops after the job in progress, giving the lease up.
    pub fn stop(self) {
        self.0.stop();
    }
}

fn run(store: &Store, config: &SchedulerConfig, metrics: &Metrics, stop: &Stop) {
    let jobs = jobs(config, metrics.calls_inferred.clone());
    let started = Instant::now();
    let mut held = HeldLease::new(LEADER_LEASE.into(), config.node.clone(), config.lease);
    let mut leader = false;
    loop {
        let now_leader = held.hold(store);
        if now_leader != leader {
            tracing::info!(node = %config.node, leader = now_leader, "scheduler lease");
            leader = now_leader;
        }
        metrics.scheduler_leader.set(i64::from(leader));
        if leader {
            run_due(store, config, metrics, &jobs, started);
        }
        if !stop.rest(held.retry_every()) {
            break;
        }
    }
    held.release(store);
    metrics.scheduler_leader.set(0);
}

fn run_due(
    store: &Store,
    config: &SchedulerConfig,
    metrics: &Metrics,
    jobs: &[Job],
    started: Instant,
) {
    let runs = match store.job_runs() {
        Ok(runs) => runs,
        Err(e) => {
            tracing::warn!("scheduler: cannot read job runs: {e}");
            return;
        }
    };
    let now = spoor_core::time::now_ms();
    for job in jobs {
        let last = runs
            .iter()
            .find(|r| r.name == job.name)
            .map(|r| r.finished_at.unwrap_or(r.started_at));
        let every = i64::try_from(job.every.as_millis()).unwrap_or(i64::MAX);
        if last.is_some_and(|t| now - t < every)
            || (last.is_none() && started.elapsed() < job.first_after)
        {
            continue;
        }
        let outcome = match run_job(store, job, &config.node, config.lease) {
            Ok(detail) => {
                tracing::info!(job = job.name, "{detail}");
                "ok"
            }
            Err(StoreError::Conflict(why)) => {
                tracing::debug!(job = job.name, "{why}");
                continue;
            }
            Err(e) => {
                tracing::warn!(job = job.name, "failed: {e}");
                "error"
            }
        };
        metrics
            .job_runs
            .get_or_create(&JobLabels {
                job: job.name.into(),
                outcome: outcome.into(),
            })
            .inc();
    }
}
