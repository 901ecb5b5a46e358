//! Leases, job runs and retention on SQLite. One process owns an embedded store,
//! so leases here only keep a CLI run and the server's scheduler from running the
//! same job at once; the times come from this machine's clock.

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::{JobRun, Lease, ProjectExpiry, Retention, StoreResult};

/// Rows deleted per statement by retention, so the writer never waits long.
const DELETE_CHUNK: i64 = 10_000;

fn job_run_from_row(row: &Row) -> rusqlite::Result<JobRun> {
    Ok(JobRun {
        name: row.get("name")?,
        node: row.get("node")?,
        started_at: row.get("started_at")?,
        finished_at: row.get("finished_at")?,
        ok: row.get("ok")?,
        detail: row.get("detail")?,
        runs: row.get("runs")?,
    })
}

impl SqliteStore {
    /// Deletes a project's events older than `cutoff`, a chunk per statement.
    fn delete_events_before(&self, project_id: i64, cutoff: i64) -> StoreResult<u64> {
        let mut deleted = 0;
        loop {
            let n = self.conn()?.execute(
                "DELETE FROM events WHERE seq IN
                    (SELECT seq FROM events WHERE project_id = ?1 AND ts < ?2 LIMIT ?3)",
                params![project_id, cutoff, DELETE_CHUNK],
            )?;
            deleted += n as u64;
            if (n as i64) < DELETE_CHUNK {
                crate::fact_chunks::drop_facts_before(
                    &mut super::facts::FactsTx(&*self.conn()?),
                    project_id,
                    cutoff,
                )?;
                return Ok(deleted);
            }
        }
    }
}

impl crate::backend::CoordinationStore for SqliteStore {
    fn acquire_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> StoreResult<bool> {
        let now = spoor_core::time::now_ms();
        let won: Option<String> = self
            .conn()?
            .query_row(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE leases.holder = excluded.holder OR leases.expires_at < ?4
                 RETURNING holder",
                params![name, holder, now + ttl_ms, now],
                |r| r.get(0),
            )
            .optional()?;
        Ok(won.is_some())
    }

    fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.conn()?.execute(
            "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
            params![name, holder],
        )?;
        Ok(())
    }

    fn leases(&self) -> StoreResult<Vec<Lease>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT name, holder, expires_at FROM leases ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(Lease {
                name: r.get(0)?,
                holder: r.get(1)?,
                expires_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn job_started(&self, name: &str, node: &str) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO job_runs (name, node, started_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET node = excluded.node, started_at = excluded.started_at,
                 finished_at = NULL, ok = NULL, detail = ''",
            params![name, node, spoor_core::time::now_ms()],
        )?;
        Ok(())
    }

    fn job_finished(&self, name: &str, ok: bool, detail: &str) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE job_runs SET finished_at = ?2, ok = ?3, detail = ?4, runs = runs + 1 WHERE name = ?1",
            params![name, spoor_core::time::now_ms(), ok, detail],
        )?;
        Ok(())
    }

    fn job_runs(&self) -> StoreResult<Vec<JobRun>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT * FROM job_runs ORDER BY name")?;
        let rows = stmt.query_map([], job_run_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn expire_project(&self, project_id: i64, cutoff: i64) -> StoreResult<ProjectExpiry> {
        // What the CRM remembers of messages as old as the events that go.
        self.conn()?.execute(
            "DELETE FROM crm_applied WHERE project_id = ?1 AND at < ?2",
            params![project_id, cutoff],
        )?;
        Ok(ProjectExpiry {
            events: self.delete_events_before(project_id, cutoff)?,
            // Sessions by their last message: one still going is kept whole.
            sessions: self.conn()?.execute(
                "DELETE FROM sessions WHERE project_id = ?1 AND last_seen_at < ?2",
                params![project_id, cutoff],
            )? as u64,
        })
    }

    /// Deletes events older than `cutoff` (event time, ms), a chunk at a time,
    /// each through the `(project_id, ts)` index, and the rollups of hours
    /// before it.
    fn drop_events_before(&self, cutoff: i64) -> StoreResult<Retention> {
        let projects: Vec<i64> = {
            let conn = self.conn()?;
            let mut stmt = conn.prepare("SELECT id FROM projects")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut done = Retention::default();
        let conn = self.conn()?;
        for table in ["rollup_hours", "rollup_dims"] {
            conn.execute(&format!("DELETE FROM {table} WHERE hour < ?1"), [cutoff])?;
        }
        drop(conn);
        for project in projects {
            done.rows_deleted += self.delete_events_before(project, cutoff)?;
        }
        Ok(done)
    }
}
