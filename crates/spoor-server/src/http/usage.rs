//! Widgets and usage reports: the dashboard's `/api/projects/{id}/widgets`
//! and `/api/projects/{id}/usage`, and `GET /v1/metering/usage` for billing
//! scripts with an admin token. A report is each widget's totals per day or
//! month (`spoor_store::metering` defines them), as JSON or CSV.
//!
//! Query: `from` and `to` (ISO-8601 or ms; whole UTC days, `to` exclusive) or
//! `month` (`2026-11`; the current month when none of them is given),
//! `group` (`day` or `month`, default `day`), `widget` (one widget's id),
//! `format` (`json`, the default, or `csv`); `/v1/metering/usage` also takes
//! `project` (a name, default `default`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use spoor_core::range::TimeRange;
use spoor_store::metering::{self, Group, Widget, WidgetChange};
use spoor_store::{JobRun, Project, Store};
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use crate::app::App;
use crate::metering::{CLEANUP_JOB, UsageReport, report};
use crate::telemetry::OutcomeLabel;

/// A project's widgets.
#[derive(Serialize, ToSchema)]
pub struct Widgets {
    /// Oldest first.
    widgets: Vec<Widget>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/widgets",
    tag = access::PROJECT_READ,
    summary = "The project's widgets",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "Widgets, oldest first", body = Widgets)),
)]
pub async fn widgets(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Widgets>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        Ok(Json(Widgets {
            widgets: app.store.widgets(Some(id))?,
        }))
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct NewWidget {
    name: String,
    /// Hosts it may send from, with their subdomains; empty or absent: any.
    #[serde(default)]
    domains: Vec<String>,
    /// Its events are answered and not stored.
    #[serde(default)]
    demo: bool,
    #[schema(minimum = 1)]
    rate_limit_per_minute: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/widgets",
    tag = access::PROJECT_WRITE,
    summary = "Creates a widget (owners and admins)",
    params(("id" = i64, Path, description = "Project id")),
    request_body = NewWidget,
    responses(
        (status = 201, description = "The widget", body = Widget),
        (status = 400, description = "A bad name, domain or limit", body = ErrorBody),
    ),
)]
pub async fn create_widget(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let id = access.project.id;
    let new: NewWidget = body::parse_json(&bytes)?;
    blocking(move || {
        let widget = Widget::new(
            id,
            &new.name,
            &new.domains,
            new.demo,
            new.rate_limit_per_minute,
            spoor_core::time::now_ms(),
        )
        .map_err(ApiError::BadRequest)?;
        let widget = app.store.create_widget(&widget)?;
        Ok((StatusCode::CREATED, Json(widget)).into_response())
    })
    .await
}

/// What to change; what is absent stays.
#[derive(Deserialize, ToSchema)]
pub struct WidgetUpdate {
    name: Option<String>,
    domains: Option<Vec<String>>,
    active: Option<bool>,
}

#[utoipa::path(
    patch,
    path = "/api/projects/{id}/widgets/{widget}",
    tag = access::PROJECT_WRITE,
    summary = "Renames a widget, changes its domains, activates or deactivates it",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("widget" = String, Path, description = "Widget id"),
    ),
    request_body = WidgetUpdate,
    responses(
        (status = 200, description = "The widget", body = Widget),
        (status = 404, description = "No such project or widget", body = ErrorBody),
    ),
)]
pub async fn update_widget(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, widget_id)): Path<(i64, String)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Widget>, ApiError> {
    let id = access.project.id;
    let update: WidgetUpdate = body::parse_json(&bytes)?;
    blocking(move || {
        let missing =
            || ApiError::NotFound(format!("no widget with id {widget_id} in this project"));
        let widget = app.store.widget(&widget_id)?.ok_or_else(missing)?;
        if widget.project_id != id {
            return Err(missing());
        }
        let name = update
            .name
            .as_deref()
            .map(metering::widget_name)
            .transpose()
            .map_err(ApiError::BadRequest)?;
        let domains = update
            .domains
            .as_deref()
            .map(metering::domains_list)
            .transpose()
            .map_err(ApiError::BadRequest)?;
        let change = WidgetChange {
            name,
            domains,
            active: update.active,
        };
        Ok(Json(app.store.update_widget(&widget.id, &change)?))
    })
    .await
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// ISO-8601 or ms; whole UTC days.
    from: Option<String>,
    /// ISO-8601 or ms, excluded.
    to: Option<String>,
    /// 2026-11, instead of from and to (default: this month).
    month: Option<String>,
    /// day (default) or month.
    group: Option<String>,
    /// Only this widget's id.
    widget: Option<String>,
    /// json (default) or csv.
    format: Option<String>,
}

/// The project `/v1/metering/usage` reports on, within the admin token's
/// organisation.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ByName {
    /// Project name (default: default).
    project: Option<String>,
}

/// A report's range and grouping, checked.
pub struct UsageQuery {
    pub from: i64,
    pub to: i64,
    pub group: Group,
    pub widget: Option<String>,
    pub csv: bool,
}

const DAY_MS: i64 = 86_400_000;
/// Usage reports read stored day totals and walk no days, so they may cover
/// ten years.
const MAX_USAGE_DAYS: i64 = 3_660;

impl UsageParams {
    fn query(&self, now: i64) -> Result<UsageQuery, ApiError> {
        let (from, to) = match (&self.month, &self.from, &self.to) {
            (Some(month), None, None) => metering::month_range(month).ok_or_else(|| {
                ApiError::BadRequest(format!("`month` must look like 2026-11, not {month:?}"))
            })?,
            (Some(_), _, _) => {
                return Err(ApiError::BadRequest(
                    "give either `month` or `from` and `to`, not both".into(),
                ));
            }
            (None, None, None) => {
                let month = spoor_core::time::format_iso(now)[..7].to_string();
                metering::month_range(&month)
                    .ok_or_else(|| ApiError::Internal("this month has no range".into()))?
            }
            (None, from, to) => {
                let r = TimeRange::parse(
                    from.as_deref(),
                    to.as_deref(),
                    now + DAY_MS,
                    30,
                    MAX_USAGE_DAYS,
                )?;
                (r.from(), r.to())
            }
        };
        let group = match self.group.as_deref() {
            None => Group::Day,
            Some(g) => Group::parse(g).ok_or_else(|| {
                ApiError::BadRequest(format!("`group` is day or month, not {g:?}"))
            })?,
        };
        let csv = match self.format.as_deref() {
            None | Some("json") => false,
            Some("csv") => true,
            Some(f) => {
                return Err(ApiError::BadRequest(format!(
                    "`format` is json or csv, not {f:?}"
                )));
            }
        };
        Ok(UsageQuery {
            // Totals are kept per UTC day: a range covers the days it starts and ends in.
            from: from.div_euclid(DAY_MS) * DAY_MS,
            to,
            group,
            widget: self.widget.clone().filter(|w| !w.is_empty()),
            csv,
        })
    }
}

fn csv_response(body: String, project: &Project, q: &UsageQuery) -> Response {
    let name = format!(
        "usage-{}-{}.csv",
        project
            .name
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        &spoor_core::time::format_iso(q.from)[..10]
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// How widget tracking requests ended, since this server started.
#[derive(Serialize, ToSchema)]
pub struct Delivery {
    stored: u64,
    duplicates: u64,
    demo: u64,
    refused: u64,
    /// Delivered (stored, duplicate or demo) of all requests; null before any.
    rate: Option<f64>,
}

/// Widget tracking requests since this server started.
#[derive(Serialize, ToSchema)]
pub struct Tracking {
    requests: u64,
    /// Mean time to answer one; null before any.
    mean_ms: Option<f64>,
}

/// The cleanup job that gives abandoned calls an inferred end.
#[derive(Serialize, ToSchema)]
pub struct CleanupStatus {
    every_secs: u64,
    /// Calls it completed since this server started.
    completed_total: u64,
    /// Its last run on any node; null before the first.
    last_run: Option<JobRun>,
}

/// This server's tracking and cleanup figures.
#[derive(Serialize, ToSchema)]
pub struct UsageMonitoring {
    delivery: Delivery,
    tracking: Tracking,
    cleanup: CleanupStatus,
}

/// A usage report with this server's tracking and cleanup figures.
#[derive(Serialize, ToSchema)]
pub struct ProjectUsage {
    #[serde(flatten)]
    report: UsageReport,
    monitoring: UsageMonitoring,
}

/// This server's tracking and cleanup figures since it started, and the
/// cleanup job's last run.
fn monitoring(app: &App, store: &Store) -> Result<UsageMonitoring, ApiError> {
    let m = &app.metrics;
    let count = |outcome| {
        m.widget_events
            .get_or_create(&OutcomeLabel { outcome })
            .get()
    };
    let (stored, duplicates, demo, refused) = (
        count("stored"),
        count("duplicate"),
        count("demo"),
        count("refused"),
    );
    let requests = stored + duplicates + demo + refused;
    let delivered = stored + duplicates + demo;
    let last_run = store
        .job_runs()?
        .into_iter()
        .find(|r| r.name == CLEANUP_JOB);
    Ok(UsageMonitoring {
        delivery: Delivery {
            stored,
            duplicates,
            demo,
            refused,
            rate: (requests > 0).then(|| delivered as f64 / requests as f64),
        },
        tracking: Tracking {
            requests,
            mean_ms: (requests > 0)
                .then(|| m.widget_track_seconds.get() * 1000.0 / requests as f64),
        },
        cleanup: CleanupStatus {
            every_secs: app.config.scheduler.metering.cleanup_every.as_secs(),
            completed_total: m.calls_inferred.get(),
            last_run,
        },
    })
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/usage",
    tag = access::PROJECT_READ,
    summary = "Usage per widget and period (seed 001's billing), with this server's tracking and cleanup figures",
    params(("id" = i64, Path, description = "Project id"), UsageParams),
    responses(
        (
            status = 200,
            description = "The report (text/csv with format=csv)",
            content((ProjectUsage = "application/json"), (String = "text/csv")),
        ),
        (status = 400, description = "A bad range, group or format", body = ErrorBody),
    ),
)]
pub async fn project_usage(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<UsageParams>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let project = access.project;
        let q = p.query(spoor_core::time::now_ms())?;
        let report = report(
            &app.store,
            &project,
            q.from,
            q.to,
            q.group,
            q.widget.as_deref(),
        )?;
        if q.csv {
            return Ok(csv_response(report.csv(), &project, &q));
        }
        Ok(Json(ProjectUsage {
            report: report.json(&project, q.from, q.to, q.group),
            monitoring: monitoring(&app, &app.store)?,
        })
        .into_response())
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/metering/usage",
    tag = access::ADMIN_TOKEN,
    summary = "Usage per widget and period, for billing scripts (admin token)",
    params(ByName, UsageParams),
    responses(
        (
            status = 200,
            description = "The report (text/csv with format=csv)",
            content((UsageReport = "application/json"), (String = "text/csv")),
        ),
        (status = 400, description = "A bad range, group or format", body = ErrorBody),
        (status = 404, description = "No such project in the token's organisation", body = ErrorBody),
    ),
)]
pub async fn metering_usage(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(scope): Query<ByName>,
    Query(p): Query<UsageParams>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let project = super::auth::admin_project(&app.store, &headers, scope.project.as_deref())?;
        let q = p.query(spoor_core::time::now_ms())?;
        let report = report(
            &app.store,
            &project,
            q.from,
            q.to,
            q.group,
            q.widget.as_deref(),
        )?;
        Ok(if q.csv {
            csv_response(report.csv(), &project, &q)
        } else {
            Json(report.json(&project, q.from, q.to, q.group)).into_response()
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_default_to_this_month_and_refuse_what_cannot_be() {
        let now = spoor_core::time::parse_iso("2026-11-22T10:00:00Z").unwrap();
        let q = UsageParams::default().query(now).unwrap();
        assert_eq!(
            spoor_core::time::format_iso(q.from),
            "2026-11-01T00:00:00.000Z"
        );
        assert_eq!(
            spoor_core::time::format_iso(q.to),
            "2026-12-01T00:00:00.000Z"
        );
        let bad = |p: UsageParams| p.query(now).err().map(|e| e.message().to_string());
        assert!(
            bad(UsageParams {
                month: Some("2026-13".into()),
                ..Default::default()
            })
            .unwrap()
            .contains("2026-11")
        );
        assert!(
            bad(UsageParams {
                group: Some("week".into()),
                ..Default::default()
            })
            .unwrap()
            .contains("day or month")
        );
        assert!(
            bad(UsageParams {
                from: Some("2026-11-05".into()),
                to: Some("2026-11-01".into()),
                ..Default::default()
            })
            .is_some()
        );
    }
}
