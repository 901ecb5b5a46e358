//! Friction analytics for the dashboard and scripts (session cookie or admin
//! token): `/api/projects/{id}/friction` (and `/friction/sessions`, the
//! drill-down), `/errors` (and one issue, which a PATCH resolves or reopens),
//! `/heatmap` and `/heatmap/pages`, and `/vitals`. The rules and the
//! answers' shapes are `spoor_store::friction`'s.
//!
//! Every report takes `range` (`1h`, `24h`, `7d`, the default, `30d`, `90d`)
//! or `from`/`to` (ISO-8601 or ms), and covers the whole UTC days the range
//! touches; `page` narrows it to a path, where `*` matches anything
//! (`/property/*`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_core::pattern::PagePattern;
use spoor_core::range::{MAX_REPORT_DAYS, TimeRange};
use spoor_store::friction::{self, Days, Filter, IssueStatus};

use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::ApiError;
use crate::app::App;

const DAY: i64 = friction::DAY_MS;

#[derive(Deserialize, Default)]
pub struct ReportParams {
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
    kind: Option<String>,
    selector: Option<String>,
    text: Option<String>,
    device: Option<String>,
    status: Option<String>,
}

/// The whole UTC days a report covers.
fn days(p: &ReportParams, now: i64) -> Result<Days, ApiError> {
    let range = if p.from.is_some() || p.to.is_some() {
        TimeRange::parse(p.from.as_deref(), p.to.as_deref(), now, 7, MAX_REPORT_DAYS)?
    } else {
        let span = match p.range.as_deref().unwrap_or("7d") {
            "1h" => DAY / 24,
            "24h" => DAY,
            "7d" => 7 * DAY,
            "30d" => 30 * DAY,
            "90d" => 90 * DAY,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "`range` must be 1h, 24h, 7d, 30d or 90d (or give from and to), not {other:?}"
                )));
            }
        };
        // The last `span` of whole days, today included.
        TimeRange::ending(friction::day_of(now) + DAY, span.max(DAY), MAX_REPORT_DAYS)?
    };
    Ok(range.days())
}

fn filter(id: i64, p: &ReportParams, days: Days) -> Result<Filter, ApiError> {
    let page = p
        .page
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| PagePattern::parse("page", s))
        .transpose()?;
    if let Some(kind) = p.kind.as_deref()
        && !friction::KINDS.contains(&kind)
        && kind != "click"
    {
        return Err(ApiError::BadRequest(format!(
            "`kind` must be one of click, rage_click, dead_click, form_error, not {kind:?}"
        )));
    }
    Ok(Filter {
        project_id: id,
        days,
        page: page.map(|p| friction::page_like(p.as_str())),
        kind: p.kind.clone().filter(|k| k != "click"),
        selector: p.selector.clone(),
        text: p.text.clone(),
        device: p.device.clone().filter(|d| !d.is_empty()),
        fingerprint: None,
    })
}

/// Parses the parameters and checks the caller may read the project, then
/// runs the report off the async workers.
async fn report<F>(
    app: Arc<App>,
    _access: ProjectRead,
    id: i64,
    p: ReportParams,
    run: F,
) -> Result<Json<Value>, ApiError>
where
    F: FnOnce(&App, Filter) -> Result<Value, ApiError> + Send + 'static,
{
    let days = days(&p, spoor_core::time::now_ms())?;
    let f = filter(id, &p, days)?;
    blocking(move || Ok(Json(run(&app, f)?))).await
}

pub async fn friction_report(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    report(app, access, id, p, |app, f| {
        Ok(json!(app.store.friction_report(&f)?))
    })
    .await
}

pub async fn friction_sessions(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    if p.kind.as_deref().is_none_or(|k| k == "click") {
        return Err(ApiError::BadRequest(
            "`kind` is required: rage_click, dead_click or form_error".into(),
        ));
    }
    report(app, access, id, p, |app, f| {
        let sessions = app.store.friction_sessions(&f, friction::REPORT_ROWS)?;
        let ids: Vec<String> = sessions.iter().map(|s| s.session_id.clone()).collect();
        let links = super::recordings::session_links(app, f.project_id, &ids, f.kind.as_deref())?;
        let rows: Vec<Value> = sessions
            .iter()
            .zip(links)
            .map(|(s, (screenshot, recording))| {
                let mut row = json!(s);
                row["screenshot_url"] = screenshot.into();
                row["recording_id"] = recording.into();
                row
            })
            .collect();
        Ok(json!({ "sessions": rows }))
    })
    .await
}

fn status(p: &ReportParams) -> Result<IssueStatus, ApiError> {
    p.status
        .as_deref()
        .unwrap_or("open")
        .parse()
        .map_err(ApiError::BadRequest)
}

pub async fn errors(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    let status = status(&p)?;
    report(app, access, id, p, move |app, f| {
        let (issues, series) = app.store.errors_report(&f, status, false)?;
        let days = f.days;
        Ok(json!({ "from": days.from, "to": days.to, "series": series, "issues": issues }))
    })
    .await
}

pub async fn error_issue(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, fingerprint)): Path<(i64, String)>,
    Query(p): Query<ReportParams>,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    report(app, access, id, p, move |app, f| {
        one_issue(app, f, &fingerprint)
    })
    .await
}

fn one_issue(app: &App, mut f: Filter, fingerprint: &str) -> Result<Value, ApiError> {
    f.fingerprint = Some(fingerprint.to_string());
    let (issues, _) = app.store.errors_report(&f, IssueStatus::All, true)?;
    issues
        .into_iter()
        .next()
        .map(|i| json!(i))
        .ok_or_else(|| ApiError::NotFound(format!("no error issue {fingerprint} in this project")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueChange {
    status: String,
}

pub async fn update_issue(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, fingerprint)): Path<(i64, String)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    let change: IssueChange = body::parse_json(&bytes)?;
    let resolved_at = match change.status.as_str() {
        "resolved" => Some(spoor_core::time::now_ms()),
        "open" => None,
        other => {
            return Err(ApiError::BadRequest(format!(
                "status must be resolved or open, not {other:?}"
            )));
        }
    };
    let days = days(&ReportParams::default(), spoor_core::time::now_ms())?;
    blocking(move || {
        if app.store.error_issue(id, &fingerprint)?.is_none() {
            return Err(ApiError::NotFound(format!(
                "no error issue {fingerprint} in this project"
            )));
        }
        app.store
            .set_issue_resolved(id, &fingerprint, resolved_at)?;
        Ok(Json(one_issue(
            &app,
            filter(id, &ReportParams::default(), days)?,
            &fingerprint,
        )?))
    })
    .await
}

pub async fn heatmap_pages(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    report(app, access, id, p, |app, f| {
        let mut pages = app.store.page_totals(&f)?;
        pages.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then_with(|| a.0.cmp(&b.0)));
        pages.truncate(200);
        let pages: Vec<Value> = pages
            .into_iter()
            .map(|(page, t)| {
                json!({"page": page, "clicks": t[0], "rage_clicks": t[1], "dead_clicks": t[2], "views": t[3]})
            })
            .collect();
        Ok(json!({ "pages": pages }))
    })
    .await
}

pub async fn heatmap(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(mut p): Query<ReportParams>,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    let Some(page) = p.page.clone().filter(|s| !s.trim().is_empty()) else {
        return Err(ApiError::BadRequest(
            "`page` is required: a path such as /pricing or a pattern such as /property/*".into(),
        ));
    };
    let kind = p.kind.take().unwrap_or_else(|| "click".into());
    if !["click", "rage_click", "dead_click"].contains(&kind.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "`kind` must be click, rage_click or dead_click, not {kind:?}"
        )));
    }
    report(app, access, id, p, move |app, f| {
        let cells = app.store.heatmap_cells(&f, &kind)?;
        let elements = app.store.heatmap_elements(&f, &kind, 50)?;
        let totals = app.store.page_totals(&f)?;
        let width = totals.iter().map(|(_, t)| t[4]).max().unwrap_or(0);
        let height = totals.iter().map(|(_, t)| t[5]).max().unwrap_or(0);
        let views: i64 = totals.iter().map(|(_, t)| t[3]).sum();
        let depths = app.store.scroll_depths(&f)?;
        // Views whose deepest scroll reached at least each tenth.
        let reached: Vec<Value> = (1..=10)
            .map(|d| {
                let n: i64 = depths.iter().filter(|(b, _)| *b >= d).map(|(_, n)| n).sum();
                json!({"depth": d * 10, "views": n})
            })
            .collect();
        let clicks: i64 = cells.iter().map(|c| c.2).sum();
        let max = cells.iter().map(|c| c.2).max().unwrap_or(0);
        let days = f.days;
        let background = super::recordings::page_background(app, id, page.trim())?;
        Ok(json!({
            "page": page, "kind": kind, "from": days.from, "to": days.to,
            "background_url": background,
            "clicks": clicks, "columns": friction::COLUMNS, "row_height": friction::ROW_HEIGHT,
            "width": width, "height": height,
            "cells": cells.iter().map(|c| [c.0, c.1, c.2]).collect::<Vec<_>>(),
            "max": max,
            "elements": elements.iter().map(|(s, t, n)| json!({"selector": s, "text": t, "count": n})).collect::<Vec<_>>(),
            "scroll": {"views": views, "reached": reached},
            "screenshot": Value::Null,
        }))
    })
    .await
}

pub async fn vitals(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    report(app, access, id, p, |app, f| {
        Ok(json!(app.store.vitals_report(&f)?))
    })
    .await
}
