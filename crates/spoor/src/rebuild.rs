//! `spoor rebuild sessions|rollups|metering|friction`: derived data recomputed from the raw events.
//!
//! With no server running the processor, the command takes its lease and does
//! the work itself. Otherwise it asks the server that holds the lease (through a
//! setting the processor checks before each pass, so the reset never races a
//! pass) and waits until that server has read the log again up to where it was.

use std::time::{Duration, Instant};

use anyhow::bail;
use spoor_server::processors::{
    self, FRICTION_PROCESSOR, Friction, METERING_PROCESSOR, Metering, ROLLUP_PROCESSOR, Rollups,
    SESSION_PROCESSOR, Sessions, rebuild_setting,
};
use spoor_server::scheduler::SchedulerConfig;
use spoor_store::Store;

use crate::cli::Derived;

/// Longest wait for a running server to finish a rebuild.
const WAIT: Duration = Duration::from_secs(30 * 60);

pub fn run(store: &Store, what: Derived, config: &SchedulerConfig) -> anyhow::Result<()> {
    let name = match what {
        Derived::Sessions => SESSION_PROCESSOR,
        Derived::Rollups => ROLLUP_PROCESSOR,
        Derived::Metering => METERING_PROCESSOR,
        Derived::Friction => FRICTION_PROCESSOR,
    };
    let lease = format!("processor:{name}");
    let ttl = i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX);
    let asked_at = spoor_core::time::now_ms().to_string();
    store.set_setting(&rebuild_setting(name), &asked_at)?;
    if store.acquire_lease(&lease, &config.node, ttl)? {
        let read = match what {
            Derived::Sessions => {
                processors::run_to_end(Sessions::new(config.sessions_working_set), store)
            }
            Derived::Rollups => processors::run_to_end(Rollups, store),
            Derived::Metering => processors::run_to_end(Metering, store),
            Derived::Friction => processors::run_to_end(Friction, store),
        };
        store.release_lease(&lease, &config.node)?;
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
