//! What several nodes on one database agree on: leases, the last run of each
//! job, and per-key rate windows. Times come from the database's clock
//! (`DB_NOW`), so nodes whose clocks disagree still agree on who holds a lease.

use crate::Retention;
use postgres::Row;

use super::PgStore;
use crate::{JobRun, Lease, ProjectExpiry, StoreResult};

/// The database's clock in ms since the epoch.
const DB_NOW: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

fn job_run_from_row(row: &Row) -> JobRun {
    JobRun {
        name: row.get("name"),
        node: row.get("node"),
        started_at: row.get("started_at"),
        finished_at: row.get("finished_at"),
        ok: row.get("ok"),
        detail: row.get("detail"),
        runs: row.get("runs"),
    }
}

impl crate::backend::CoordinationStore for PgStore {
    /// Takes the lease when it is free or expired, or renews it for its holder.
    fn acquire_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> StoreResult<bool> {
        let won = self.conn()?.query_opt(
            &format!(
                "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, {DB_NOW} + $3)
                 ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                 WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < {DB_NOW}
                 RETURNING holder"
            ),
            &[&name, &holder, &ttl_ms],
        )?;
        Ok(won.is_some())
    }

    fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.conn()?.execute(
            "DELETE FROM leases WHERE name = $1 AND holder = $2",
            &[&name, &holder],
        )?;
        Ok(())
    }

    fn leases(&self) -> StoreResult<Vec<Lease>> {
        let rows = self.conn()?.query(
            "SELECT name, holder, expires_at FROM leases ORDER BY name",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| Lease {
                name: r.get(0),
                holder: r.get(1),
                expires_at: r.get(2),
            })
            .collect())
    }

    fn job_started(&self, name: &str, node: &str) -> StoreResult<()> {
        self.conn()?.execute(
            &format!(
                "INSERT INTO job_runs (name, node, started_at) VALUES ($1, $2, {DB_NOW})
                 ON CONFLICT (name) DO UPDATE SET node = EXCLUDED.node, started_at = EXCLUDED.started_at,
                     finished_at = NULL, ok = NULL, detail = ''"
            ),
            &[&name, &node],
        )?;
        Ok(())
    }

    fn job_finished(&self, name: &str, ok: bool, detail: &str) -> StoreResult<()> {
        self.conn()?.execute(
            &format!(
                "UPDATE job_runs SET finished_at = {DB_NOW}, ok = $2, detail = $3, runs = runs + 1
                 WHERE name = $1"
            ),
            &[&name, &ok, &detail],
        )?;
        Ok(())
    }

    fn job_runs(&self) -> StoreResult<Vec<JobRun>> {
        let rows = self
            .conn()?
            .query("SELECT * FROM job_runs ORDER BY name", &[])?;
        Ok(rows.iter().map(job_run_from_row).collect())
    }

    /// Adds `take` to the key's count in the window starting at `window_start`
    /// and returns the count after it, this request's share included. A node
    /// whose clock lags and names an older window counts toward the newer one
    /// instead of resetting it.
    fn take_rate_tokens(&self, key_id: i64, window_start: i64, take: i64) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(
            "INSERT INTO rate_windows (key_id, window_start, used) VALUES ($1, $2, $3)
             ON CONFLICT (key_id) DO UPDATE SET
                 used = CASE WHEN EXCLUDED.window_start > rate_windows.window_start
                             THEN EXCLUDED.used ELSE rate_windows.used + EXCLUDED.used END,
                 window_start = GREATEST(rate_windows.window_start, EXCLUDED.window_start)
             RETURNING used",
        )?;
        Ok(conn
            .query_one(&statement, &[&key_id, &window_start, &take])?
            .get(0))
    }

    fn maintain_partitions(&self, now: i64) -> StoreResult<Vec<String>> {
        self.make_partitions(now)
    }

    fn expire_project(&self, project_id: i64, cutoff: i64) -> StoreResult<ProjectExpiry> {
        /// Rows deleted per statement, so no statement runs long.
        const CHUNK: i64 = 10_000;
        let mut done = ProjectExpiry::default();
        loop {
            let n = self.conn()?.execute(
                "DELETE FROM events WHERE seq IN
                    (SELECT seq FROM events WHERE project_id = $1 AND ts < $2 LIMIT $3)",
                &[&project_id, &cutoff, &CHUNK],
            )?;
            done.events += n;
            if (n as i64) < CHUNK {
                break;
            }
        }
        // Sessions by their last message: one still going is kept whole.
        done.sessions = self.conn()?.execute(
            "DELETE FROM sessions WHERE project_id = $1 AND last_seen_at < $2",
            &[&project_id, &cutoff],
        )?;
        // What the CRM remembers of messages as old as the events that went.
        self.conn()?.execute(
            "DELETE FROM crm_applied WHERE project_id = $1 AND at < $2",
            &[&project_id, &cutoff],
        )?;
        // The insights' facts of the events that went.
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        crate::fact_chunks::drop_facts_before(
            &mut super::facts::FactsTx(&mut tx),
            project_id,
            cutoff,
        )?;
        tx.commit()?;
        Ok(done)
    }

    fn drop_events_before(&self, cutoff: i64) -> StoreResult<Retention> {
        self.drop_partitions_before(cutoff)
    }
}
