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
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spoor_core::pattern::PagePattern;
use spoor_core::range::{MAX_REPORT_DAYS, TimeRange};
use spoor_store::friction::{
    self, Days, Filter, FrictionReport, FrictionSession, Issue, IssueStatus, VitalsReport,
};
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use crate::app::App;

const DAY: i64 = friction::DAY_MS;
/// What a heatmap counts.
const HEATMAP_KINDS: [&str; 3] = ["click", "rage_click", "dead_click"];

fn heatmap_kinds() -> utoipa::openapi::Object {
    spoor_store::closed::one_of(&HEATMAP_KINDS)
}

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
async fn report<F, T>(
    app: Arc<App>,
    _access: ProjectRead,
    id: i64,
    p: ReportParams,
    run: F,
) -> Result<Json<T>, ApiError>
where
    F: FnOnce(&App, Filter) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let days = days(&p, spoor_core::time::now_ms())?;
    let f = filter(id, &p, days)?;
    blocking(move || Ok(Json(run(&app, f)?))).await
}

// The parameters each report takes, for the OpenAPI document only: every
// report reads one `ReportParams`, and these say which of its fields each
// one uses.

/// A report's range.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ReportRange {
    /// Last 1h, 24h, 7d (default), 30d or 90d; whole UTC days.
    range: Option<String>,
    /// ISO-8601 or ms, instead of range.
    from: Option<String>,
    /// ISO-8601 or ms.
    to: Option<String>,
}

/// A page a report is narrowed to.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct PageParam {
    /// A path, or a pattern where * matches anything (/property/*).
    page: Option<String>,
}

/// The friction a drill-down lists.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct DrillDown {
    /// rage_click, dead_click or form_error.
    kind: String,
    /// The element's selector (a form error's form.field).
    selector: Option<String>,
    /// The element's text (a form error's reason).
    text: Option<String>,
}

/// The page a heatmap draws, and what it counts.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct HeatmapShape {
    /// A path, or a pattern where * matches anything.
    page: String,
    /// click (default), rage_click or dead_click.
    kind: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/friction",
    tag = access::PROJECT_READ,
    summary = "Rage clicks, dead clicks and form errors: totals with affected sessions and users and the previous period, per day, by page and by element",
    params(
        ("id" = i64, Path, description = "Project id"),
        ReportRange,
        PageParam,
        ("kind" = Option<String>, Query, description = "rage_click, dead_click or form_error"),
    ),
    responses(
        (status = 200, description = "The friction report", body = FrictionReport),
        (status = 400, description = "A parameter is wrong; the error says which", body = ErrorBody),
    ),
)]
pub async fn friction_report(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<FrictionReport>, ApiError> {
    let id = access.project.id;
    report(app, access, id, p, |app, f| {
        Ok(app.store.friction_report(&f)?)
    })
    .await
}

/// A session of a drill-down, with its screenshot and recording.
#[derive(Serialize, ToSchema)]
pub struct FrictionSessionOut {
    #[serde(flatten)]
    session: FrictionSession,
    /// One of the session's screenshots, of this kind where there is one.
    screenshot_url: Option<String>,
    /// The session's recording.
    recording_id: Option<i64>,
}

/// The sessions of a drill-down.
#[derive(Serialize, ToSchema)]
pub struct FrictionSessions {
    /// Newest first, at most 100.
    sessions: Vec<FrictionSessionOut>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/friction/sessions",
    tag = access::PROJECT_READ,
    summary = "The sessions where a kind of friction happened (on a page, element), newest first",
    params(("id" = i64, Path, description = "Project id"), ReportRange, PageParam, DrillDown),
    responses(
        (status = 200, description = "Up to 100 sessions", body = FrictionSessions),
        (status = 400, description = "A parameter is wrong; the error says which", body = ErrorBody),
    ),
)]
pub async fn friction_sessions(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<FrictionSessions>, ApiError> {
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
        let sessions = sessions
            .into_iter()
            .zip(links)
            .map(
                |(session, (screenshot_url, recording_id))| FrictionSessionOut {
                    session,
                    screenshot_url,
                    recording_id,
                },
            )
            .collect();
        Ok(FrictionSessions { sessions })
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

/// Error issues and errors per day over whole UTC days.
#[derive(Serialize, ToSchema)]
pub struct Errors {
    from: i64,
    to: i64,
    /// Per day: t (the day's start) and count.
    #[schema(value_type = Vec<Object>)]
    series: Vec<serde_json::Map<String, Value>>,
    /// Most occurrences first.
    issues: Vec<Issue>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/errors",
    tag = access::PROJECT_READ,
    summary = "Error issues grouped by fingerprint (type, normalised message, top frame) with their counts, users, pages and browsers in the range",
    params(
        ("id" = i64, Path, description = "Project id"),
        ReportRange,
        PageParam,
        ("status" = Option<String>, Query, description = "open (default), resolved or all"),
    ),
    responses(
        (status = 200, description = "The issues and errors per day", body = Errors),
        (status = 400, description = "A parameter is wrong; the error says which", body = ErrorBody),
    ),
)]
pub async fn errors(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<Errors>, ApiError> {
    let id = access.project.id;
    let status = status(&p)?;
    report(app, access, id, p, move |app, f| {
        let (issues, series) = app.store.errors_report(&f, status, false)?;
        let days = f.days;
        Ok(Errors {
            from: days.from,
            to: days.to,
            series,
            issues,
        })
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/errors/{fingerprint}",
    tag = access::PROJECT_READ,
    summary = "One error issue, with its occurrences per day",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("fingerprint" = String, Path, description = "The issue's fingerprint"),
        ReportRange,
        PageParam,
    ),
    responses(
        (status = 200, description = "The issue", body = Issue),
        (status = 400, description = "A parameter is wrong; the error says which", body = ErrorBody),
        (status = 404, description = "No such project or issue", body = ErrorBody),
    ),
)]
pub async fn error_issue(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, fingerprint)): Path<(i64, String)>,
    Query(p): Query<ReportParams>,
) -> Result<Json<Issue>, ApiError> {
    let id = access.project.id;
    report(app, access, id, p, move |app, f| {
        one_issue(app, f, &fingerprint)
    })
    .await
}

fn one_issue(app: &App, mut f: Filter, fingerprint: &str) -> Result<Issue, ApiError> {
    f.fingerprint = Some(fingerprint.to_string());
    let (issues, _) = app.store.errors_report(&f, IssueStatus::All, true)?;
    issues
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("no error issue {fingerprint} in this project")))
}

/// An issue's new status.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct IssueChange {
    /// resolved or open.
    status: String,
}

#[utoipa::path(
    patch,
    path = "/api/projects/{id}/errors/{fingerprint}",
    tag = access::PROJECT_WRITE,
    summary = "Resolve an issue or open it again; a resolved issue that occurs again is open again",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("fingerprint" = String, Path, description = "The issue's fingerprint"),
    ),
    request_body = IssueChange,
    responses(
        (status = 200, description = "The issue", body = Issue),
        (status = 400, description = "A parameter is wrong; the error says which", body = ErrorBody),
        (status = 404, description = "No such project or issue", body = ErrorBody),
    ),
)]
pub async fn update_issue(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, fingerprint)): Path<(i64, String)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Issue>, ApiError> {
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

/// A page's clicks and views.
#[derive(Serialize, ToSchema)]
pub struct PageClicks {
    page: String,
    clicks: i64,
    rage_clicks: i64,
    dead_clicks: i64,
    views: i64,
}

/// Pages by clicks.
#[derive(Serialize, ToSchema)]
pub struct HeatmapPages {
    /// Most clicks first, at most 200.
    pages: Vec<PageClicks>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/heatmap/pages",
    tag = access::PROJECT_READ,
    summary = "Pages by clicks, with rage and dead clicks and views",
    params(("id" = i64, Path, description = "Project id"), ReportRange),
    responses(
        (status = 200, description = "Up to 200 pages", body = HeatmapPages),
        (status = 400, description = "A parameter is wrong; the error says which", body = ErrorBody),
    ),
)]
pub async fn heatmap_pages(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<HeatmapPages>, ApiError> {
    let id = access.project.id;
    report(app, access, id, p, |app, f| {
        let mut pages = app.store.page_totals(&f)?;
        pages.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then_with(|| a.0.cmp(&b.0)));
        pages.truncate(200);
        let pages = pages
            .into_iter()
            .map(|(page, t)| PageClicks {
                page,
                clicks: t[0],
                rage_clicks: t[1],
                dead_clicks: t[2],
                views: t[3],
            })
            .collect();
        Ok(HeatmapPages { pages })
    })
    .await
}

/// An element's clicks.
#[derive(Serialize, ToSchema)]
pub struct ClickedElement {
    selector: String,
    text: String,
    count: i64,
}

/// Views whose deepest scroll reached a depth.
#[derive(Serialize, ToSchema)]
pub struct Reached {
    /// Percent of the page, 10 to 100.
    depth: i64,
    views: i64,
}

/// How far down the page's views scrolled.
#[derive(Serialize, ToSchema)]
pub struct Scroll {
    views: i64,
    reached: Vec<Reached>,
}

/// A page's clicks as a grid, its most-clicked elements and scroll depths.
#[derive(Serialize, ToSchema)]
pub struct Heatmap {
    page: String,
    #[schema(schema_with = heatmap_kinds)]
    kind: String,
    from: i64,
    to: i64,
    /// The page's newest screenshot, to draw the grid over.
    background_url: Option<String>,
    clicks: i64,
    /// Cells across the width (each 1% of it).
    columns: i64,
    /// A cell's height in px.
    row_height: i64,
    /// The widest and tallest the page was seen, px.
    width: i64,
    height: i64,
    /// [column, row, clicks] per cell with clicks.
    #[schema(value_type = Vec<Vec<i64>>)]
    cells: Vec<[i64; 3]>,
    /// The most clicks in one cell.
    max: i64,
    /// At most 50, most clicks first.
    elements: Vec<ClickedElement>,
    scroll: Scroll,
    /// Always null, for clients of the first version: background_url has
    /// the page's screenshot.
    screenshot: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/heatmap",
    tag = access::PROJECT_READ,
    summary = "Click density of a page (grid cells of 1% of the width by 10 px), its most-clicked elements and scroll depths",
    params(("id" = i64, Path, description = "Project id"), ReportRange, HeatmapShape),
    responses(
        (status = 200, description = "The heatmap", body = Heatmap),
        (status = 400, description = "A parameter is wrong; the error says which", body = ErrorBody),
    ),
)]
pub async fn heatmap(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(mut p): Query<ReportParams>,
) -> Result<Json<Heatmap>, ApiError> {
    let id = access.project.id;
    let Some(page) = p.page.clone().filter(|s| !s.trim().is_empty()) else {
        return Err(ApiError::BadRequest(
            "`page` is required: a path such as /pricing or a pattern such as /property/*".into(),
        ));
    };
    let kind = p.kind.take().unwrap_or_else(|| "click".into());
    if !HEATMAP_KINDS.contains(&kind.as_str()) {
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
        let reached = (1..=10)
            .map(|d| Reached {
                depth: d * 10,
                views: depths.iter().filter(|(b, _)| *b >= d).map(|(_, n)| n).sum(),
            })
            .collect();
        let clicks: i64 = cells.iter().map(|c| c.2).sum();
        let max = cells.iter().map(|c| c.2).max().unwrap_or(0);
        let days = f.days;
        let background = super::recordings::page_background(app, id, page.trim())?;
        Ok(Heatmap {
            page,
            kind,
            from: days.from,
            to: days.to,
            background_url: background,
            clicks,
            columns: friction::COLUMNS,
            row_height: friction::ROW_HEIGHT,
            width,
            height,
            cells: cells.iter().map(|c| [c.0, c.1, c.2]).collect(),
            max,
            elements: elements
                .into_iter()
                .map(|(selector, text, count)| ClickedElement {
                    selector,
                    text,
                    count,
                })
                .collect(),
            scroll: Scroll { views, reached },
            screenshot: None,
        })
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/vitals",
    tag = access::PROJECT_READ,
    summary = "Web vitals: p50, p75 and p95 of LCP, INP, CLS, FCP, TTFB, load time and TTI with Google's thresholds, per day, page and device",
    params(
        ("id" = i64, Path, description = "Project id"),
        ReportRange,
        PageParam,
        ("device" = Option<String>, Query, description = "desktop, mobile or tablet"),
    ),
    responses(
        (status = 200, description = "The vitals report", body = VitalsReport),
        (status = 400, description = "A parameter is wrong; the error says which", body = ErrorBody),
    ),
)]
pub async fn vitals(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<ReportParams>,
) -> Result<Json<VitalsReport>, ApiError> {
    let id = access.project.id;
    report(app, access, id, p, |app, f| {
        Ok(app.store.vitals_report(&f)?)
    })
    .await
}
