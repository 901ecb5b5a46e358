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
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spoor_store::closed::{one_of, one_of_or_null};
use spoor_store::files::{
    COMPLETED, DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_SENT, ExportJob, FAILED, NewExportJob,
    QUEUED, RUNNING, ReportSchedule,
};
use utoipa::ToSchema;

use spoor_core::range::{self, TimeRange};

use super::access;
use super::blocking;
use super::body;
use super::caller::{Caller, ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use crate::app::App;
use crate::exports::report::{self, Cohorts, Params, Segment};
use crate::exports::{next_run, render, scheduled_params};
use crate::notify::{check_webhook_url, redacted_url};

const DAY: i64 = spoor_store::friction::DAY_MS;
const MAX_DAYS: i64 = 400;
const LIST_ROWS: i64 = 100;
/// How often a schedule sends its report.
const CADENCES: [&str; 2] = ["weekly", "monthly"];

// The closed sets of strings answers hold, for the OpenAPI document.
fn reports() -> utoipa::openapi::Object {
    one_of(&report::KINDS)
}
fn formats() -> utoipa::openapi::Object {
    one_of(&render::FORMATS)
}
fn statuses() -> utoipa::openapi::Object {
    one_of(&[QUEUED, RUNNING, COMPLETED, FAILED])
}
fn deliveries() -> utoipa::openapi::Object {
    one_of_or_null(&[DELIVERY_PENDING, DELIVERY_SENT, DELIVERY_FAILED])
}
fn cadences() -> utoipa::openapi::Object {
    one_of(&CADENCES)
}

/// An export as asked for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// friction, journeys or cohorts.
    #[schema(required = true)]
    report: Option<String>,
    /// pdf (default), csv or ndjson.
    format: Option<String>,
    /// The last N days, today included (1 to 400, default 30), when neither
    /// from nor to is given.
    days: Option<i64>,
    /// A date (2026-11-01), ISO-8601 or ms.
    from: Option<String>,
    /// The last day included.
    to: Option<String>,
    #[serde(default)]
    filters: Segment,
    /// Needed by the cohorts report.
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

/// An export job. Times are ISO-8601.
#[derive(Serialize, ToSchema)]
#[schema(as = ExportJob)]
pub struct JobOut {
    id: i64,
    project_id: i64,
    #[schema(schema_with = reports)]
    report: String,
    #[schema(schema_with = formats)]
    format: String,
    /// What it covers: from and to (ms), filters, cohorts.
    #[schema(value_type = Option<Object>)]
    params: Value,
    #[schema(schema_with = statuses)]
    status: String,
    /// Percent done.
    progress: i64,
    error: Option<String>,
    /// The file's size once completed.
    bytes: Option<i64>,
    /// The report schedule that queued it.
    schedule_id: Option<i64>,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    /// For a scheduled job: whether its report was delivered.
    #[schema(schema_with = deliveries)]
    delivery: Option<String>,
    delivery_attempts: i64,
    /// The last delivery failure.
    delivery_error: Option<String>,
    /// Where the file is downloaded, once completed.
    download_url: Option<String>,
}

impl From<&ExportJob> for JobOut {
    fn from(job: &ExportJob) -> JobOut {
        let iso = spoor_core::time::format_iso;
        JobOut {
            id: job.id,
            project_id: job.project_id,
            report: job.report.clone(),
            format: job.format.clone(),
            params: serde_json::from_str(&job.params).unwrap_or(Value::Null),
            status: job.status.clone(),
            progress: job.progress,
            error: job.error.clone(),
            bytes: job.bytes,
            schedule_id: job.schedule_id,
            created_at: iso(job.created_at),
            started_at: job.started_at.map(iso),
            finished_at: job.finished_at.map(iso),
            delivery: job.delivery.clone(),
            delivery_attempts: job.delivery_attempts,
            delivery_error: job.delivery_error.clone(),
            download_url: (job.status == COMPLETED).then(|| {
                format!(
                    "/api/projects/{}/exports/{}/download",
                    job.project_id, job.id
                )
            }),
        }
    }
}

/// A job just queued.
#[derive(Serialize, ToSchema)]
pub struct JobQueued {
    job: JobOut,
}

/// Export jobs, newest first.
#[derive(Serialize, ToSchema)]
pub struct Jobs {
    jobs: Vec<JobOut>,
}

/// Asks the exports runner to look at the queue now; it runs on its own task
/// (`scheduler::run_exports_when_asked`), so the request does not wait for it.
fn kick(app: &Arc<App>) {
    app.exports_wanted.notify_one();
}

/// Queues an export of a project the caller may change.
async fn queue(app: Arc<App>, id: i64, r: ExportRequest) -> Result<ExportJob, ApiError> {
    let (report, format, params) = checked(r, spoor_core::time::now_ms())?;
    let app2 = app.clone();
    let job = blocking(move || {
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

#[utoipa::path(
    post,
    path = "/api/projects/{id}/exports",
    tag = access::PROJECT_WRITE,
    summary = "Queue a report export (friction summary, journey analysis or cohort comparison) as PDF, CSV or NDJSON",
    params(("id" = i64, Path, description = "Project id")),
    request_body = ExportRequest,
    responses(
        (status = 202, description = "Queued", body = JobQueued),
        (status = 400, description = "The request is wrong; the error says how", body = ErrorBody),
        (status = 403, description = "Viewers cannot export", body = ErrorBody),
    ),
)]
pub async fn create(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let r: ExportRequest = body::parse_json(&bytes)?;
    let job = queue(app, access.project.id, r).await?;
    let job = JobOut::from(&job);
    Ok((StatusCode::ACCEPTED, Json(JobQueued { job })).into_response())
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/exports",
    tag = access::PROJECT_READ,
    summary = "Export jobs, newest first",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The latest 100", body = Jobs)),
)]
pub async fn list(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Jobs>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let jobs = app.store.export_jobs(id, LIST_ROWS)?;
        Ok(Json(Jobs {
            jobs: jobs.iter().map(JobOut::from).collect(),
        }))
    })
    .await
}

fn job_of(app: &App, project: i64, job: i64) -> Result<ExportJob, ApiError> {
    app.store
        .export_job(job)?
        .filter(|j| j.project_id == project)
        .ok_or_else(|| ApiError::NotFound(format!("no export job {job} in this project")))
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/exports/{job}",
    tag = access::PROJECT_READ,
    summary = "One export job: status, progress, download_url once completed",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("job" = i64, Path, description = "Export job id"),
    ),
    responses(
        (status = 200, description = "The job", body = JobOut),
        (status = 404, description = "No such project or job", body = ErrorBody),
    ),
)]
pub async fn one(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, job)): Path<(i64, i64)>,
) -> Result<Json<JobOut>, ApiError> {
    let id = access.project.id;
    blocking(move || Ok(Json(JobOut::from(&job_of(&app, id, job)?)))).await
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/exports/{job}/download",
    tag = access::PROJECT_READ,
    summary = "A completed job's file",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("job" = i64, Path, description = "Export job id"),
    ),
    responses(
        (
            status = 200,
            description = "The PDF, CSV or NDJSON",
            content(
                (String = "application/pdf"),
                (String = "text/csv"),
                (String = "application/x-ndjson"),
            ),
        ),
        (status = 404, description = "No such project or job", body = ErrorBody),
        (status = 409, description = "The job is not completed", body = ErrorBody),
    ),
)]
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

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/exports/{job}",
    tag = access::PROJECT_WRITE,
    summary = "Delete an export job and its file",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("job" = i64, Path, description = "Export job id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or job", body = ErrorBody),
    ),
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// friction, journeys or cohorts.
    #[schema(required = true)]
    report: Option<String>,
    /// pdf (default), csv or ndjson.
    format: Option<String>,
    /// weekly (Mondays) or monthly (the 1st).
    #[schema(required = true)]
    cadence: Option<String>,
    /// Where the report is mailed; this or webhook_url, or both.
    email: Option<String>,
    /// Where the report is posted, signed with the schedule's secret.
    webhook_url: Option<String>,
    #[serde(default)]
    filters: Segment,
    /// Needed by the cohorts report.
    cohorts: Option<Cohorts>,
}

/// A report schedule. Times are ISO-8601.
#[derive(Serialize, ToSchema)]
#[schema(as = ReportSchedule)]
pub struct ScheduleOut {
    id: i64,
    project_id: i64,
    #[schema(schema_with = reports)]
    report: String,
    #[schema(schema_with = formats)]
    format: String,
    #[schema(schema_with = cadences)]
    cadence: String,
    email: Option<String>,
    /// Redacted for viewers: a webhook URL is often a secret of its
    /// receiver's.
    webhook_url: Option<String>,
    /// Filters and cohorts.
    #[schema(value_type = Option<Object>)]
    params: Value,
    next_run_at: String,
    last_run_at: Option<String>,
    created_at: String,
    /// What each webhook post is signed with; shown only to those who may
    /// change schedules, since it lets its holder forge deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl ScheduleOut {
    fn new(s: &ReportSchedule, may_change: bool) -> ScheduleOut {
        let iso = spoor_core::time::format_iso;
        ScheduleOut {
            id: s.id,
            project_id: s.project_id,
            report: s.report.clone(),
            format: s.format.clone(),
            cadence: s.cadence.clone(),
            email: s.email.clone(),
            webhook_url: if may_change {
                s.webhook_url.clone()
            } else {
                s.webhook_url.as_deref().map(redacted_url)
            },
            params: serde_json::from_str(&s.params).unwrap_or(Value::Null),
            next_run_at: iso(s.next_run_at),
            last_run_at: s.last_run_at.map(iso),
            created_at: iso(s.created_at),
            secret: may_change.then(|| s.signing_secret.clone()),
        }
    }
}

/// A project's report schedules.
#[derive(Serialize, ToSchema)]
pub struct Schedules {
    schedules: Vec<ScheduleOut>,
}

/// A schedule just made, with its signing secret.
#[derive(Serialize, ToSchema)]
pub struct ScheduleMade {
    schedule: ScheduleOut,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/report-schedules",
    tag = access::PROJECT_READ,
    summary = "Report schedules",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The schedules", body = Schedules)),
)]
pub async fn schedules(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Schedules>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let may_change = access.role.may_change();
        let list = app.store.schedules(Some(id))?;
        Ok(Json(Schedules {
            schedules: list
                .iter()
                .map(|s| ScheduleOut::new(s, may_change))
                .collect(),
        }))
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/report-schedules",
    tag = access::PROJECT_WRITE,
    summary = "Send a report every week (Mondays) or month (the 1st) by email or signed webhook",
    params(("id" = i64, Path, description = "Project id")),
    request_body = ScheduleRequest,
    responses(
        (status = 201, description = "The schedule, with its signing secret", body = ScheduleMade),
        (status = 400, description = "The request is wrong; the error says how", body = ErrorBody),
    ),
)]
pub async fn create_schedule(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    let r: ScheduleRequest = body::parse_json(&bytes)?;
    let cadence = r.cadence.clone().unwrap_or_default();
    if !CADENCES.contains(&cadence.as_str()) {
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
            Json(ScheduleMade {
                schedule: ScheduleOut::new(&s, true),
            }),
        )
            .into_response())
    })
    .await
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/report-schedules/{sid}",
    tag = access::PROJECT_WRITE,
    summary = "Delete a report schedule",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("sid" = i64, Path, description = "Report schedule id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or schedule", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/api/projects/{id}/report-schedules/{sid}/run",
    tag = access::PROJECT_WRITE,
    summary = "Make and send the schedule's report now",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("sid" = i64, Path, description = "Report schedule id"),
    ),
    responses(
        (status = 202, description = "Queued", body = JobQueued),
        (status = 404, description = "No such project or schedule", body = ErrorBody),
    ),
)]
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
    let job = JobOut::from(&job);
    Ok((StatusCode::ACCEPTED, Json(JobQueued { job })).into_response())
}

/// Seed 002's body.
#[derive(Deserialize, ToSchema)]
pub struct SeedExport {
    /// Needed when the caller reaches more than one project.
    project_id: Option<i64>,
    /// friction_summary, journey_analysis or cohort_comparison.
    #[schema(required = true)]
    report_type: Option<String>,
    date_range: Option<SeedRange>,
    #[serde(default)]
    filters: Segment,
    cohorts: Option<Cohorts>,
    /// pdf (default), csv or ndjson.
    format: Option<String>,
}

/// Seed 002's range: dates, ISO-8601 or ms; end is the last day included.
#[derive(Deserialize, ToSchema)]
pub struct SeedRange {
    start: Option<String>,
    end: Option<String>,
}

/// Seed 002's answer: the job queued.
#[derive(Serialize, ToSchema)]
pub struct SeedQueued {
    success: bool,
    job_id: i64,
    /// queued.
    status: String,
    job: JobOut,
}

/// `POST /functions/v1/export-pdf`: queues a PDF export and answers with its job.
#[utoipa::path(
    post,
    path = "/functions/v1/export-pdf",
    tag = access::SIGNED_IN_WRITE,
    summary = "Seed 002's export: queue a PDF report",
    request_body = SeedExport,
    responses(
        (status = 200, description = "The job", body = SeedQueued),
        (status = 400, description = "The request is wrong; the error says how", body = ErrorBody),
    ),
)]
pub async fn seed_export_pdf(
    State(app): State<Arc<App>>,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Json<SeedQueued>, ApiError> {
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
    let store = app.store.clone();
    blocking(move || caller.project(&store, project_id, true)).await?;
    let job = queue(
        app,
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
    Ok(Json(SeedQueued {
        success: true,
        job_id: job.id,
        status: job.status.clone(),
        job: JobOut::from(&job),
    }))
}
