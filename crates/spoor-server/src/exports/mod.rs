//! Export jobs: the `exports` job runs queued report exports (seed 002's
//! `export_jobs`), queues the jobs of report schedules that are due, and
//! delivers scheduled reports by webhook or email, retrying with backoff.
//!
//! A job's file is written to the file store before the job is marked
//! completed, so a completed job always has its file. Only one runner works
//! at a time (the `job:exports` lease), so a job found `running` when a run
//! starts was left by a runner that died, and goes back in the queue.

pub mod render;
pub mod report;

use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{Datelike, TimeZone, Utc};
use serde_json::json;
use spoor_store::files::{
    DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_SENT, ExportJob, NewExportJob, ReportSchedule,
};
use spoor_store::{Store, StoreError};

use crate::files::{FileStore, FilesConfig};
use crate::notify::{self, Notifier, NotifyConfig};

pub const EXPORTS_JOB: &str = "exports";

/// A run stops taking new jobs after this long, so that it ends well within
/// the scheduler's lease; the rest wait for the next run.
const RUN_BUDGET: Duration = Duration::from_secs(20);
/// Webhook bodies and emails carry the file itself up to this size.
const INLINE_BYTES: i64 = 5 * 1024 * 1024;
const DAY: i64 = spoor_store::friction::DAY_MS;

#[derive(Clone, Debug)]
pub struct ExportsConfig {
    /// How often the job looks for queued exports and due schedules.
    pub every: Duration,
    pub files: FilesConfig,
    /// How long a file may go unnamed by any row (its put done, its row not
    /// committed) before the project-retention job removes it as an orphan:
    /// far longer than any upload or export takes between the two.
    pub orphans_after: Duration,
}

impl Default for ExportsConfig {
    fn default() -> Self {
        ExportsConfig {
            // Queued exports start at once from the API; this finds due
            // schedules and what another node queued.
            every: Duration::from_secs(60),
            files: FilesConfig::Local("spoor-data/files".into()),
            orphans_after: Duration::from_secs(3600),
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub requeued: u64,
    pub scheduled: usize,
    pub completed: usize,
    pub failed: usize,
    pub delivered: usize,
    pub delivery_failed: usize,
}

impl Outcome {
    pub fn describe(&self) -> String {
        format!(
            "{} exports completed, {} failed, {} queued by schedules, {} requeued; \
             {} scheduled reports delivered, {} deliveries failed",
            self.completed,
            self.failed,
            self.scheduled,
            self.requeued,
            self.delivered,
            self.delivery_failed
        )
    }
}

/// The file key of a job's export.
pub fn file_key(job: &ExportJob) -> String {
    format!(
        "p{}/exports/{}.{}",
        job.project_id,
        job.id,
        render::extension(&job.format)
    )
}

/// When a schedule runs next after `now`: Mondays at 06:00 UTC for weekly
/// reports, the 1st of the month at 06:00 UTC for monthly ones.
pub fn next_run(cadence: &str, now: i64) -> i64 {
    let t = Utc.timestamp_millis_opt(now).single().unwrap_or_default();
    let today = t.date_naive();
    let at6 = |d: chrono::NaiveDate| {
        d.and_hms_opt(6, 0, 0)
            .expect("06:00 exists")
            .and_utc()
            .timestamp_millis()
    };
    let candidate = if cadence == "monthly" {
        let first = today.with_day(1).expect("day 1");
        if at6(first) > now {
            first
        } else {
            first
                .checked_add_months(chrono::Months::new(1))
                .expect("a next month")
        }
    } else {
        let back = i64::from(today.weekday().num_days_from_monday());
        let monday = today - chrono::Duration::days(back);
        if at6(monday) > now {
            monday
        } else {
            monday + chrono::Duration::days(7)
        }
    };
    at6(candidate)
}

/// The range a scheduled report covers when it runs at `at`: the last seven
/// whole days for a weekly one, the last calendar month for a monthly one.
pub fn scheduled_range(cadence: &str, at: i64) -> (i64, i64) {
    let end = at - at.rem_euclid(DAY);
    if cadence == "monthly" {
        let t = Utc.timestamp_millis_opt(end).single().unwrap_or_default();
        let first = t.date_naive().with_day(1).expect("day 1");
        let prev = first
            .checked_sub_months(chrono::Months::new(1))
            .expect("a previous month");
        let ms = |d: chrono::NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp_millis()
        };
        (ms(prev), ms(first))
    } else {
        (end - 7 * DAY, end)
    }
}

/// The params a schedule's job gets for a run at `at`.
pub fn scheduled_params(s: &ReportSchedule, at: i64) -> String {
    let (from, to) = scheduled_range(&s.cadence, at);
    let mut params: serde_json::Value =
        serde_json::from_str(&s.params).unwrap_or_else(|_| json!({}));
    params["from"] = from.into();
    params["to"] = to.into();
    params.to_string()
}

pub struct ExportsJob {
    files: FileStore,
    notifier: Notifier,
}

impl ExportsJob {
    pub fn new(config: &ExportsConfig, notify: &NotifyConfig) -> Result<ExportsJob, String> {
        let files = FileStore::open(&config.files).map_err(|e| e.to_string())?;
        let notifier = Notifier::new(notify.clone()).map_err(|e| e.to_string())?;
        Ok(ExportsJob { files, notifier })
    }

    pub fn run(&self, store: &Store, now: i64) -> Result<Outcome, StoreError> {
        let started = Instant::now();
        // A runtime of its own per run, for the file store and deliveries: the
        // job is also held by the server's state, which is dropped inside the
        // server's runtime, where dropping a runtime is not allowed.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Invalid(format!("cannot start the exports' runtime: {e}")))?;
        let mut outcome = Outcome {
            requeued: store.requeue_running_exports()?,
            ..Default::default()
        };
        for s in store.schedules(None)? {
            if s.next_run_at > now {
                continue;
            }
            let job = NewExportJob {
                project_id: s.project_id,
                report: s.report.clone(),
                format: s.format.clone(),
                params: scheduled_params(&s, now),
                schedule_id: Some(s.id),
                now,
            };
            if store
                .queue_scheduled(&s, next_run(&s.cadence, now), &job)?
                .is_some()
            {
                outcome.scheduled += 1;
            }
        }
        while started.elapsed() < RUN_BUDGET {
            let Some(job) = store.claim_export_job(spoor_core::time::now_ms())? else {
                break;
            };
            match self.run_one(store, &job, &runtime) {
                Ok(()) => outcome.completed += 1,
                Err(e) => {
                    outcome.failed += 1;
                    tracing::warn!(job = job.id, "export failed: {e}");
                    store.finish_export(job.id, Err(&e), None, spoor_core::time::now_ms())?;
                }
            }
        }
        self.deliver_due(store, &runtime, spoor_core::time::now_ms(), &mut outcome)?;
        Ok(outcome)
    }

    /// Computes, renders and stores one job's file; the error says why not.
    fn run_one(
        &self,
        store: &Store,
        job: &ExportJob,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<(), String> {
        let project = store
            .project_by_id(job.project_id)
            .map_err(|e| e.to_string())?;
        let params: report::Params = serde_json::from_str(&job.params)
            .map_err(|e| format!("the job's parameters cannot be read: {e}"))?;
        let mut last = 0;
        let mut progress = |p: i64| {
            // Progress is for people watching; a failed write only loses a tick.
            if p > last {
                last = p;
                let _ = store.export_progress(job.id, p);
            }
        };
        let report = report::compute(store, &project, &job.report, &params, &mut progress)
            .map_err(|e| e.to_string())?;
        let bytes = render::render(&report, &job.format, spoor_core::time::now_ms());
        let key = file_key(job);
        let size = bytes.len() as i64;
        // Noted first, so that a file whose job is deleted meanwhile (or a crash
        // before the job is finished) is found and removed later.
        store
            .intend_file(job.project_id, &key, spoor_core::time::now_ms())
            .map_err(|e| e.to_string())?;
        runtime
            .block_on(self.files.put(&key, Bytes::from(bytes)))
            .map_err(|e| e.to_string())?;
        let delivery = job.schedule_id.map(|_| DELIVERY_PENDING);
        store
            .finish_export(
                job.id,
                Ok((&key, size)),
                delivery,
                spoor_core::time::now_ms(),
            )
            .map_err(|e| e.to_string())
    }

    fn deliver_due(
        &self,
        store: &Store,
        runtime: &tokio::runtime::Runtime,
        now: i64,
        outcome: &mut Outcome,
    ) -> Result<(), StoreError> {
        for job in store.due_deliveries(now, 20)? {
            let schedule = job.schedule_id.and_then(|id| {
                store
                    .schedules(Some(job.project_id))
                    .ok()?
                    .into_iter()
                    .find(|s| s.id == id)
            });
            let result = match schedule {
                None => Err("its schedule was deleted".to_string()),
                Some(s) => {
                    let project = store.project_by_id(job.project_id)?;
                    runtime.block_on(self.deliver(&s, &job, &project.name))
                }
            };
            let attempts = u32::try_from(job.delivery_attempts + 1).unwrap_or(u32::MAX);
            match result {
                Ok(()) => {
                    outcome.delivered += 1;
                    store.delivery_attempted(job.id, DELIVERY_SENT, None, now)?;
                }
                Err(e) if attempts >= notify::MAX_ATTEMPTS => {
                    outcome.delivery_failed += 1;
                    tracing::warn!(
                        job = job.id,
                        "scheduled report not delivered, for good: {e}"
                    );
                    store.delivery_attempted(job.id, DELIVERY_FAILED, Some(&e), now)?;
                }
                Err(e) => {
                    outcome.delivery_failed += 1;
                    let next = now + notify::backoff(attempts).as_millis() as i64;
                    store.delivery_attempted(job.id, DELIVERY_PENDING, Some(&e), next)?;
                }
            }
        }
        Ok(())
    }

    async fn deliver(
        &self,
        s: &ReportSchedule,
        job: &ExportJob,
        project: &str,
    ) -> Result<(), String> {
        let params: serde_json::Value = serde_json::from_str(&job.params).unwrap_or_default();
        let range = report::range_words(
            params["from"].as_i64().unwrap_or(0),
            params["to"].as_i64().unwrap_or(0),
        );
        let summary = format!("{} {} report for {project}, {range}", s.cadence, job.report);
        let download = format!(
            "/api/projects/{}/exports/{}/download",
            job.project_id, job.id
        );
        let bytes = job.bytes.unwrap_or(0);
        let file_name = format!(
            "{}-{}.{}",
            job.report,
            job.id,
            render::extension(&job.format)
        );
        // The file itself goes along when it is small enough for a webhook body
        // or a mail server; a bigger one is named by its download path.
        let file = match &job.file_key {
            Some(key) if bytes <= INLINE_BYTES => {
                Some(self.files.get(key).await.map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        if let Some(url) = &s.webhook_url {
            let mut body = json!({
                "type": "scheduled_report",
                "schedule_id": s.id,
                "job_id": job.id,
                "project_id": job.project_id,
                "project": project,
                "report": job.report,
                "format": job.format,
                "cadence": s.cadence,
                "from": params["from"],
                "to": params["to"],
                "summary": summary,
                "bytes": bytes,
                "download_path": download,
            });
            if let Some(file) = &file {
                body["file_name"] = file_name.clone().into();
                body["content_base64"] =
                    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, file).into();
            }
            self.notifier
                .webhook(
                    url,
                    &s.signing_secret,
                    &format!("spoor-report-{}", job.id),
                    body.to_string().as_bytes(),
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        if let Some(to) = &s.email {
            let kind = job.format.to_uppercase();
            let text = match &file {
                Some(_) => format!(
                    "{summary}.\n\nThe {kind} file is attached ({file_name}, {bytes} bytes). \
                     It is also on the project's \"Recordings & exports\" page in Spoor.\n"
                ),
                None => format!(
                    "{summary}.\n\nThe {kind} file ({bytes} bytes) is too big to attach: open the \
                     project's \"Recordings & exports\" page in Spoor, or download it from \
                     {download} with an admin token.\n"
                ),
            };
            let attachment = file.map(|bytes| notify::Attachment {
                file_name,
                content_type: render::content_type(&job.format).to_owned(),
                bytes: bytes.to_vec(),
            });
            self.notifier
                .email_with(to, &format!("[Spoor] {summary}"), &text, attachment)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        spoor_core::time::parse_iso(s).unwrap()
    }

    #[test]
    fn weekly_reports_run_on_mondays_and_monthly_on_the_first() {
        // 2026-11-23 is a Monday.
        assert_eq!(
            next_run("weekly", at("2026-11-23T05:00:00Z")),
            at("2026-11-23T06:00:00Z")
        );
        assert_eq!(
            next_run("weekly", at("2026-11-23T06:00:00Z")),
            at("2026-11-30T06:00:00Z")
        );
        assert_eq!(
            next_run("weekly", at("2026-11-26T12:00:00Z")),
            at("2026-11-30T06:00:00Z")
        );
        assert_eq!(
            next_run("monthly", at("2026-11-23T12:00:00Z")),
            at("2026-12-01T06:00:00Z")
        );
        assert_eq!(
            next_run("monthly", at("2026-12-31T23:00:00Z")),
            at("2027-01-01T06:00:00Z")
        );
        assert_eq!(
            next_run("monthly", at("2026-12-01T05:59:00Z")),
            at("2026-12-01T06:00:00Z")
        );
    }

    #[test]
    fn scheduled_ranges_are_the_last_week_or_month() {
        assert_eq!(
            scheduled_range("weekly", at("2026-11-23T06:00:00Z")),
            (at("2026-11-16T00:00:00Z"), at("2026-11-23T00:00:00Z"))
        );
        assert_eq!(
            scheduled_range("monthly", at("2026-12-01T06:00:00Z")),
            (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
        );
        assert_eq!(
            scheduled_range("monthly", at("2026-01-01T06:00:00Z")),
            (at("2025-12-01T00:00:00Z"), at("2026-01-01T00:00:00Z"))
        );
    }
}
