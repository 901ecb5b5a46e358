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
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_core::range::TimeRange;
use spoor_store::metering::{self, Group, Widget, WidgetChange};
use spoor_store::{Project, Store};

use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::ApiError;
use crate::app::App;
use crate::metering::{CLEANUP_JOB, report};
use crate::telemetry::OutcomeLabel;

pub async fn widgets(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    blocking(move || Ok(Json(json!({ "widgets": app.store.widgets(Some(id))? })))).await
}

#[derive(Deserialize)]
pub struct NewWidget {
    name: String,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    demo: bool,
    rate_limit_per_minute: Option<i64>,
}

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
        Ok((StatusCode::CREATED, Json(json!(widget))).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct WidgetUpdate {
    name: Option<String>,
    domains: Option<Vec<String>>,
    active: Option<bool>,
}

pub async fn update_widget(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, widget_id)): Path<(i64, String)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
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
        Ok(Json(json!(app.store.update_widget(&widget.id, &change)?)))
    })
    .await
}

#[derive(Deserialize, Default)]
pub struct UsageParams {
    project: Option<String>,
    from: Option<String>,
    to: Option<String>,
    month: Option<String>,
    group: Option<String>,
    widget: Option<String>,
    format: Option<String>,
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

/// This server's tracking and cleanup figures since it started, and the
/// cleanup job's last run.
fn monitoring(app: &App, store: &Store) -> Result<Value, ApiError> {
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
    Ok(json!({
        "delivery": {
            "stored": stored, "duplicates": duplicates, "demo": demo, "refused": refused,
            "rate": (requests > 0).then(|| delivered as f64 / requests as f64),
        },
        "tracking": {
            "requests": requests,
            "mean_ms": (requests > 0)
                .then(|| m.widget_track_seconds.get() * 1000.0 / requests as f64),
        },
        "cleanup": {
            "every_secs": app.config.scheduler.metering.cleanup_every.as_secs(),
            "completed_total": m.calls_inferred.get(),
            "last_run": last_run,
        },
    }))
}

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
        let mut body = report.json(&project, q.from, q.to, q.group);
        body["monitoring"] = monitoring(&app, &app.store)?;
        Ok(Json(body).into_response())
    })
    .await
}

pub async fn metering_usage(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(p): Query<UsageParams>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let project = super::auth::admin_project(&app.store, &headers, p.project.as_deref())?;
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
