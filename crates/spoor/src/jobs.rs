//! `spoor jobs`: the scheduler's jobs, seen and run from the command line.

use anyhow::anyhow;
use spoor_server::scheduler::{self, SchedulerConfig};
use spoor_store::{Store, StoreError};

use crate::cli::JobsCommand;

fn when(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "-".into(),
        |ms| spoor_core::time::format_iso(ms)[..19].replace('T', " "),
    )
}

pub fn run(store: &Store, cmd: JobsCommand, config: &SchedulerConfig) -> anyhow::Result<()> {
    let jobs = scheduler::jobs(config, Default::default());
    match cmd {
        JobsCommand::List { json } => {
            let runs = store.job_runs()?;
            let leader = store
                .leases()?
                .into_iter()
                .find(|l| l.name == "scheduler" && l.expires_at > spoor_core::time::now_ms());
            if json {
                let list: Vec<_> = jobs
                    .iter()
                    .map(|j| {
                        serde_json::json!({
                            "name": j.name,
                            "every_secs": j.every.as_secs(),
                            "last_run": runs.iter().find(|r| r.name == j.name),
                        })
                    })
                    .collect();
                let out = serde_json::json!({
                    "scheduler_node": leader.map(|l| l.holder),
                    "jobs": list,
                });
                println!("{out}");
                return Ok(());
            }
            println!(
                "scheduler lease: {}",
                leader.map_or_else(|| "free (no server is running jobs)".into(), |l| l.holder)
            );
            println!(
                "{:<17} {:>8}  {:<19}  {:<19}  {:<6} {:<20} detail",
                "job", "every", "last start", "last end", "ok", "node"
            );
            for job in &jobs {
                let run = runs.iter().find(|r| r.name == job.name);
                println!(
                    "{:<17} {:>7}s  {:<19}  {:<19}  {:<6} {:<20} {}",
                    job.name,
                    job.every.as_secs(),
                    when(run.map(|r| r.started_at)),
                    when(run.and_then(|r| r.finished_at)),
                    run.and_then(|r| r.ok)
                        .map_or("-", |ok| if ok { "yes" } else { "no" }),
                    run.map_or("-", |r| r.node.as_str()),
                    run.map_or("", |r| r.detail.as_str()),
                );
            }
        }
        JobsCommand::Run { name, wait } => {
            let job = jobs.iter().find(|j| j.name == name).ok_or_else(|| {
                let names: Vec<&str> = jobs.iter().map(|j| j.name).collect();
                anyhow!("no job named {name:?}; the jobs are {}", names.join(", "))
            })?;
            let wait = std::time::Duration::from_secs(wait);
            println!("{}", run_when_free(store, job, config, wait)?);
        }
    }
    Ok(())
}

/// Runs `job` now. When another node (a running server's scheduler, say) is
/// running the same job, waits up to `wait` for that run to end and then runs
/// it here, rather than refusing at once: the caller asked for a run that
/// starts after now. Past `wait` the conflict is reported as it is, and a
/// conflict of the job's own (its lease was free) is never waited on.
fn run_when_free(
    store: &Store,
    job: &scheduler::Job,
    config: &SchedulerConfig,
    wait: std::time::Duration,
) -> anyhow::Result<String> {
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        match scheduler::run_job(store, job, &config.node, config.lease) {
            Err(StoreError::Conflict(why))
                if started.elapsed() < wait
                    && scheduler::job_holder(store, job)?.is_some_and(|h| h != config.node) =>
            {
                if !told {
                    eprintln!("{why}; waiting for that run to end");
                    told = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            done => return Ok(done?),
        }
    }
}
