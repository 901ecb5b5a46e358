//! Report exports for the dashboard and scripts (session cookie or admin
//! token): `POST/GET /api/projects/{id}/exports`, one job, its download and
//! deletion; report schedules (`.../report-schedules`, with `.../run` to send
//! one now); and seed 002's `POST /functions/v1/export-pdf`. Jobs are run by
//! the `exports` job (`crate::exports`), which is also started at once when a
//! job is queued here.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_store::files::{COMPLETED, ExportJob, NewExportJob, ReportSchedule};

use spoor_core::range::{self, TimeRange};

use super::blocking;
use super::body;
use super::caller::{Caller, ProjectRead, ProjectWrite};
use super::error::ApiError;
use crate::app::App;
use crate::exports::report::{self, Cohorts, Params, Segment};
use crate::exports::{next_run, render, scheduled_params};
use crate::notify::{check_webhook_url, redacted_url};

const DAY: i64 = spoor_store::friction::DAY_MS;
const MAX_DAYS: i64 = 400;
const LIST_ROWS: i64 = 100;

/// An export as asked for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    report: Option<String>,
    format: Option<String>,
    days: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    filters: Segment,
    cohorts: Option<Cohorts>,
}

/// The start of the UTC day a date (`2026-11-01`), a date-time or ms names.
fn day_start(field: &'static str, s: &str) -> Result<i64, ApiError> {
    Ok(range::day_of(range::parse_instant(field, s)?))
}

/// The report, format and params of a request, checked.
fn checked(mut r: ExportRequest, now: i64) -> Result<(String, String, Params), ApiError> {
    let report = r.report.unwrap_or_default();
    if !report::KINDS.contains(&report.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "`report` must be friction, journeys or cohorts, not {report:?}"
        )));
    }
    let format = r.format.unwrap_or_else(|| "pdf".into());
    if !render::FORMATS.contains(&format.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "`format` must be pdf, csv or ndjson, not {format:?}"
        )));
    }
    let today_end = now - now.rem_euclid(DAY) + DAY;
    let (from, to) = match (r.from.as_deref(), r.to.as_deref(), r.days) {
        (None, None, days) => {
            let days = days.unwrap_or(30);
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(ApiError::BadRequest(format!(
                    "`days` is 1 to {MAX_DAYS}, not {days}"
                )));
            }
            (today_end - days * DAY, today_end)
        }
        (from, to, _) => {
            // `to` names the last day included.
            let to = to.map_or(Ok(today_end), |t| day_start("to", t).map(|d| d + DAY))?;
            let from = from.map_or(Ok(to - 30 * DAY), |f| day_start("from", f))?;
            (from, to)
        }
    };
    let (from, to) = {
        let r = TimeRange::new(from, to, MAX_DAYS)?;
        (r.from(), r.to())
    };
    r.filters = r.filters.checked("filters.page")?;
    if let Some(c) = &mut r.cohorts {
        c.a.filters = std::mem::take(&mut c.a.filters).checked("cohorts.a.filters.page")?;
        c.b.filters = std::mem::take(&mut c.b.filters).checked("cohorts.b.filters.page")?;
    }
    if report == "cohorts" {
        match &r.cohorts {
            None => {
                return Err(ApiError::BadRequest(
                    "a cohort comparison needs cohorts: {\"a\": {\"name\", \"filters\"}, \"b\": {...}}"
                        .into(),
                ));
            }
            Some(c) if c.a.name.trim().is_empty() || c.b.name.trim().is_empty() => {
                return Err(ApiError::BadRequest("name both cohorts".into()));
            }
            Some(_) => {}
        }
    }
    Ok((
        report,
        format,
        Params {
            from,
            to,
            filters: r.filters,
            cohorts: r.cohorts,
        },
    ))
}

pub fn shown(job: &ExportJob) -> Value {
    let mut v = json!(job);
    let o = v.as_object_mut().expect("an object");
    o.insert(
        "params".into(),
        serde_json::from_str(&job.params).unwrap_or(Value::Null),
    );
    for (field, ms) in [
        ("created_at", Some(job.created_at)),
        ("started_at", job.started_at),
        ("finished_at", job.finished_at),
    ] {
        o.insert(field.into(), ms.map(spoor_core::time::format_iso).into());
    }
    o.insert(
        "download_url".into(),
        (job.status == COMPLETED)
            .then(|| {
                format!(
                    "/api/projects/{}/exports/{}/download",
                    job.project_id, job.id
                )
            })
            .into(),
    );
    v
}

/// Asks the exports runner to look at the queue now; it runs on its own task
/// (`scheduler::run_exports_when_asked`), so the request does not wait for it.
fn kick(app: &Arc<App>) {
    app.exports_wanted.notify_one();
}

async fn queue(
    app: Arc<App>,
    caller: Caller,
    id: i64,
    r: ExportRequest,
) -> Result<ExportJob, ApiError> {
    let (report, format, params) = checked(r, spoor_core::time::now_ms())?;
    let app2 = app.clone();
    let job = blocking(move || {
        caller.project(&app2.store, id, true)?;
        Ok(app2.store.create_export_job(&NewExportJob {
            project_id: id,
            report,
            format,
            params: serde_json::to_string(&params).expect("params are JSON"),
            schedule_id: None,
            now: spoor_core::time::now_ms(),
        })?)
    })
    .await?;
    kick(&app);
    Ok(job)
}

pub async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<i64>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let r: ExportRequest = body::parse_json(&bytes)?;
    let job = queue(app, caller, id, r).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "job": shown(&job) }))).into_response())
}

pub async fn list(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let jobs = app.store.export_jobs(id, LIST_ROWS)?;
        Ok(Json(
            json!({ "jobs": jobs.iter().map(shown).collect::<Vec<_>>() }),
        ))
    })
    .await
}

fn job_of(app: &App, project: i64, job: i64) -> Result<ExportJob, ApiError> {
    app.store
        .export_job(job)?
        .filter(|j| j.project_id == project)
        .ok_or_else(|| ApiError::NotFound(format!("no export job {job} in this project")))
}

pub async fn one(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, job)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    blocking(move || Ok(Json(shown(&job_of(&app, id, job)?)))).await
}

pub async fn download(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, job)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    let app2 = app.clone();
    let job = blocking(move || job_of(&app2, id, job)).await?;
    let Some(key) = job.file_key.clone().filter(|_| job.status == COMPLETED) else {
        return Err(ApiError::Conflict(format!(
            "export job {} is {}; download it once it is completed",
            job.id, job.status
        )));
    };
    let name = format!(
        "spoor-{}-{}.{}",
        job.report,
        job.id,
        render::extension(&job.format)
    );
    super::file_answer::stream(&app, &key, render::content_type(&job.format), &name).await
}

pub async fn delete(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, job)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let id = access.project.id;
    let app2 = app.clone();
    let freed = blocking(move || Ok(app2.store.delete_export_job(id, job)?)).await?;
    app.files.delete_all(&freed.file_keys).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    report: Option<String>,
    format: Option<String>,
    cadence: Option<String>,
    email: Option<String>,
    webhook_url: Option<String>,
    #[serde(default)]
    filters: Segment,
    cohorts: Option<Cohorts>,
}

fn shown_schedule(s: &ReportSchedule, may_change: bool) -> Value {
    let mut v = json!(s);
    let o = v.as_object_mut().expect("an object");
    o.insert(
        "params".into(),
        serde_json::from_str(&s.params).unwrap_or(Value::Null),
    );
    o.insert(
        "next_run_at".into(),
        spoor_core::time::format_iso(s.next_run_at).into(),
    );
    o.insert(
        "last_run_at".into(),
        s.last_run_at.map(spoor_core::time::format_iso).into(),
    );
    o.insert(
        "created_at".into(),
        spoor_core::time::format_iso(s.created_at).into(),
    );
    // The secret lets its holder forge deliveries, and a webhook URL is
    // often a secret of its receiver's.
    let secret = o.remove("signing_secret");
    if may_change {
        o.insert("secret".into(), secret.unwrap_or(Value::Null));
    } else if let Some(url) = &s.webhook_url {
        o.insert("webhook_url".into(), redacted_url(url).into());
    }
    v
}

pub async fn schedules(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let role = access.role;
        let list = app.store.schedules(Some(id))?;
        Ok(Json(json!({
            "schedules": list.iter().map(|s| shown_schedule(s, role.may_change())).collect::<Vec<_>>()
        })))
    })
    .await
}

pub async fn create_schedule(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    let r: ScheduleRequest = body::parse_json(&bytes)?;
    let cadence = r.cadence.clone().unwrap_or_default();
    if cadence != "weekly" && cadence != "monthly" {
        return Err(ApiError::BadRequest(format!(
            "`cadence` must be weekly or monthly, not {cadence:?}"
        )));
    }
    let email = r
        .email
        .clone()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    let webhook = r
        .webhook_url
        .clone()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    if email.is_none() && webhook.is_none() {
        return Err(ApiError::BadRequest(
            "give email or webhook_url: where the report is sent".into(),
        ));
    }
    if let Some(e) = &email
        && (!e.contains('@') || e.len() > 254)
    {
        return Err(ApiError::BadRequest(format!(
            "{e:?} is not an email address"
        )));
    }
    if let Some(url) = &webhook {
        check_webhook_url(url).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    // The same checks as an export; the range is the schedule's own.
    let (report, format, params) = checked(
        ExportRequest {
            report: r.report,
            format: r.format,
            days: Some(7),
            from: None,
            to: None,
            filters: r.filters,
            cohorts: r.cohorts,
        },
        spoor_core::time::now_ms(),
    )?;
    let stored_params = json!({"filters": params.filters, "cohorts": params.cohorts}).to_string();
    blocking(move || {
        let now = spoor_core::time::now_ms();
        let s = app.store.create_schedule(&ReportSchedule {
            id: 0,
            project_id: id,
            report,
            format,
            cadence: cadence.clone(),
            email,
            webhook_url: webhook,
            params: stored_params,
            signing_secret: spoor_core::secret::generate("whsec_"),
            next_run_at: next_run(&cadence, now),
            last_run_at: None,
            created_at: now,
        })?;
        Ok((
            StatusCode::CREATED,
            Json(json!({ "schedule": shown_schedule(&s, true) })),
        )
            .into_response())
    })
    .await
}

pub async fn delete_schedule(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, sid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let id = access.project.id;
    blocking(move || {
        if app.store.delete_schedule(id, sid)? {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::NotFound(format!(
                "no report schedule {sid} in this project"
            )))
        }
    })
    .await
}

/// Makes and sends a schedule's report now, over the range its next run
/// would cover; the schedule's own times do not move.
pub async fn run_schedule(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, sid)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    let app2 = app.clone();
    let job = blocking(move || {
        let s = app2
            .store
            .schedules(Some(id))?
            .into_iter()
            .find(|s| s.id == sid)
            .ok_or_else(|| {
                ApiError::NotFound(format!("no report schedule {sid} in this project"))
            })?;
        let now = spoor_core::time::now_ms();
        Ok(app2.store.create_export_job(&NewExportJob {
            project_id: id,
            report: s.report.clone(),
            format: s.format.clone(),
            params: scheduled_params(&s, now),
            schedule_id: Some(s.id),
            now,
        })?)
    })
    .await?;
    kick(&app);
    Ok((StatusCode::ACCEPTED, Json(json!({ "job": shown(&job) }))).into_response())
}

/// Seed 002's body.
#[derive(Deserialize)]
pub struct SeedExport {
    project_id: Option<i64>,
    report_type: Option<String>,
    date_range: Option<SeedRange>,
    #[serde(default)]
    filters: Segment,
    cohorts: Option<Cohorts>,
    format: Option<String>,
}

#[derive(Deserialize)]
pub struct SeedRange {
    start: Option<String>,
    end: Option<String>,
}

/// `POST /functions/v1/export-pdf`: queues a PDF export and answers with its job.
pub async fn seed_export_pdf(
    State(app): State<Arc<App>>,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let r: SeedExport = body::parse_json(&bytes)?;
    let report = match r.report_type.as_deref() {
        Some("friction_summary") => "friction",
        Some("journey_analysis") => "journeys",
        Some("cohort_comparison") => "cohorts",
        other => {
            return Err(ApiError::BadRequest(format!(
                "report_type must be friction_summary, journey_analysis or cohort_comparison, not {other:?}"
            )));
        }
    };
    let project_id = match r.project_id {
        Some(id) => id,
        None => {
            // One project in reach needs no naming.
            let app2 = app.clone();
            let orgs: Vec<i64> = caller.memberships.iter().map(|m| m.org_id).collect();
            let mine: Vec<i64> = blocking(move || {
                Ok(app2
                    .store
                    .projects()?
                    .into_iter()
                    .filter(|p| orgs.contains(&p.org_id))
                    .map(|p| p.id)
                    .collect())
            })
            .await?;
            match mine.as_slice() {
                [one] => *one,
                _ => {
                    return Err(ApiError::BadRequest(
                        "send project_id: the project whose report to export".into(),
                    ));
                }
            }
        }
    };
    let (from, to) = match &r.date_range {
        Some(d) => (d.start.clone(), d.end.clone()),
        None => (None, None),
    };
    let job = queue(
        app,
        caller,
        project_id,
        ExportRequest {
            report: Some(report.into()),
            format: Some(r.format.unwrap_or_else(|| "pdf".into())),
            days: None,
            from,
            to,
            filters: r.filters,
            cohorts: r.cohorts,
        },
    )
    .await?;
    Ok(Json(json!({
        "success": true,
        "job_id": job.id,
        "status": job.status,
        "job": shown(&job),
    })))
}
