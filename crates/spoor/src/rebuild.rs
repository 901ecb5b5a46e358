//! `spoor rebuild sessions|rollups|metering|friction|facts`: one fold's derived
//! data recomputed from the raw events.
//!
//! With no server running the pipeline, the command takes its lease and does
//! the work itself. Otherwise it asks the server that holds the lease (through a
//! setting the pipeline checks before each pass, so the reset never races a
//! pass) and waits until that server has read the log again up to where it was.
//! Either way the other folds skip the events they have counted.

use std::time::{Duration, Instant};

use anyhow::bail;
use spoor_server::pipeline::{self, rebuild_setting};
use spoor_server::scheduler::SchedulerConfig;
use spoor_store::Store;

use crate::cli::Derived;

/// Longest wait for a running server to finish a rebuild.
const WAIT: Duration = Duration::from_secs(30 * 60);

pub fn run(store: &Store, what: Derived, config: &SchedulerConfig) -> anyhow::Result<()> {
    let name = match what {
        Derived::Sessions => spoor_store::sessions::SESSION_PROCESSOR,
        Derived::Rollups => spoor_store::analytics::ROLLUP_PROCESSOR,
        Derived::Metering => spoor_store::metering::METERING_PROCESSOR,
        Derived::Friction => spoor_store::friction::FRICTION_PROCESSOR,
        Derived::Facts => spoor_store::pipeline::FACTS_PROCESSOR,
    };
    let lease = spoor_store::pipeline::PIPELINE_LEASE;
    let ttl = i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX);
    let asked_at = spoor_core::time::now_ms().to_string();
    store.set_setting(&rebuild_setting(name), &asked_at)?;
    if store.acquire_lease(lease, &config.node, ttl)? {
        let read = pipeline::run_to_end(store);
        store.release_lease(lease, &config.node)?;
        eprintln!("rebuilt {name} from {} events", read?);
        return Ok(());
    }
    let target = store.max_seq()?;
    eprintln!(
        "a running server rebuilds {name}; waiting until it has read the {target} events' log again"
    );
    let started = Instant::now();
    loop {
        let asked = store.setting(&rebuild_setting(name))?.is_some();
        let cursor = store.processor_cursor(name)?.map_or(0, |c| c.seq);
        if !asked && cursor >= target {
            eprintln!("rebuilt {name}");
            return Ok(());
        }
        if started.elapsed() > WAIT {
            bail!(
                "the rebuild of {name} did not finish within {} minutes; see `spoor jobs list` and the server's log",
                WAIT.as_secs() / 60
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
