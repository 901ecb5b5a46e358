//! People: seed 004's customer metrics (`GET /api/customers/metrics`), one
//! person's summary, a project's customer-event mapping, and erasure
//! (`DELETE /v1/users/{userId}`).
//!
//! `project` is a project's id or name, the default project when absent; the
//! caller is a dashboard session or an admin token, and sees only its
//! organisations' projects.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use spoor_store::customers::{Customer, CustomerEvents, CustomerQuery, Erased, Monitoring, SortBy};
use spoor_store::{Project, Store};
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::blocking;
use super::caller::{Caller, ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use super::query::SessionOut;
use crate::app::App;

const DAY: i64 = 24 * 60 * 60_000;
const MAX_PAGE: i64 = 500;
/// Sessions listed with each person in the metrics.
const SESSIONS_PER_PERSON: i64 = 10;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectParam {
    /// Project id or name (default: the default project).
    project: Option<String>,
}

/// The project a `project` parameter names (id or name), within the caller's
/// organisations; `to_change` refuses viewers.
fn project_of(
    caller: &Caller,
    store: &Store,
    param: Option<&str>,
    to_change: bool,
) -> Result<Project, ApiError> {
    let given = param.map(str::trim).filter(|p| !p.is_empty());
    let id = match given {
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p
            .parse::<i64>()
            .map_err(|_| ApiError::NotFound(format!("no project with id {p}")))?,
        _ => {
            let name = given.unwrap_or("default");
            let project = store
                .project(name)
                .map_err(|_| ApiError::NotFound(format!("no project named {name:?}")))?;
            project.id
        }
    };
    Ok(caller.project(store, id, to_change)?.0)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsParams {
    /// Project id or name (default: the default project).
    project: Option<String>,
    /// all, daily, weekly or monthly: keep people whose latest session
    /// started in the last day, 7 days or 30 days (default all).
    interval: Option<String>,
    /// sessions, orders, bookings, last_login or registered (default
    /// sessions).
    #[serde(rename = "sortBy")]
    #[param(rename = "sortBy")]
    sort_by: Option<String>,
    /// asc or desc (default desc).
    #[serde(rename = "sortOrder")]
    #[param(rename = "sortOrder")]
    sort_order: Option<String>,
    /// 1 to 500 (default 50).
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// A project named in an answer.
#[derive(Serialize, ToSchema)]
pub struct ProjectName {
    id: i64,
    name: String,
}

/// A person's summary with their latest sessions.
#[derive(Serialize, ToSchema)]
pub struct CustomerSessions {
    #[serde(flatten)]
    customer: Customer,
    /// Their latest 10 sessions (within the interval), newest first.
    sessions: Vec<SessionOut>,
}

/// A page of seed 004's customer metrics.
#[derive(Serialize, ToSchema)]
pub struct Metrics {
    project: ProjectName,
    interval: String,
    #[serde(rename = "sortBy")]
    sort_by: String,
    #[serde(rename = "sortOrder")]
    sort_order: String,
    /// People matching, on all pages.
    total: i64,
    /// Where the next page starts (`offset=`); null on the last page.
    next_offset: Option<i64>,
    users: Vec<CustomerSessions>,
    /// Session end rate, average duration and this week's most active users.
    monitoring: Monitoring,
}

/// `GET /api/customers/metrics`: identified people with their summaries and
/// latest sessions, sorted on the server, plus seed 004's monitoring figures.
/// `interval` keeps the people whose latest session started within the last
/// day, week or 30 days, and the monitoring figures cover the same span.
#[utoipa::path(
    get,
    path = "/api/customers/metrics",
    tag = access::SIGNED_IN,
    summary = "Seed 004's customer metrics: identified people with their summaries and latest 10 sessions, sorted on the server, and the monitoring figures (session end rate, average duration, most active users this week)",
    params(MetricsParams),
    responses((status = 200, description = "A page", body = Metrics)),
)]
pub async fn metrics(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(p): Query<MetricsParams>,
) -> Result<Json<Metrics>, ApiError> {
    let interval = p.interval.unwrap_or_else(|| "all".into());
    let span = match interval.as_str() {
        "all" => None,
        "daily" => Some(DAY),
        "weekly" => Some(7 * DAY),
        "monthly" => Some(30 * DAY),
        other => {
            return Err(ApiError::BadRequest(format!(
                "`interval` must be all, daily, weekly or monthly, not {other:?}"
            )));
        }
    };
    let sort_name = p.sort_by.unwrap_or_else(|| "sessions".into());
    let sort_by = SortBy::parse(&sort_name).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`sortBy` must be sessions, orders, bookings, last_login or registered, not {sort_name:?}"
        ))
    })?;
    let order = p.sort_order.unwrap_or_else(|| "desc".into());
    let descending = match order.as_str() {
        "desc" => true,
        "asc" => false,
        other => {
            return Err(ApiError::BadRequest(format!(
                "`sortOrder` must be asc or desc, not {other:?}"
            )));
        }
    };
    let limit = p.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_PAGE}"
        )));
    }
    let offset = p.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::BadRequest("`offset` must not be negative".into()));
    }
    blocking(move || {
        let store = &app.store;
        let project = project_of(&caller, store, p.project.as_deref(), false)?;
        let now = spoor_core::time::now_ms();
        let since = span.map(|s| now - s);
        let (people, total) = store.customers_page(&CustomerQuery {
            project_id: project.id,
            sort_by,
            descending,
            active_since: since,
            limit,
            offset,
        })?;
        let mut users = Vec::with_capacity(people.len());
        for person in people {
            let sessions =
                store.recent_sessions_of(project.id, &person.person, since, SESSIONS_PER_PERSON)?;
            users.push(CustomerSessions {
                customer: person,
                sessions: sessions.iter().map(SessionOut::from).collect(),
            });
        }
        let monitoring = store.session_monitoring(project.id, since, now - 7 * DAY)?;
        let next_offset = (offset + limit < total).then_some(offset + limit);
        Ok(Json(Metrics {
            project: ProjectName {
                id: project.id,
                name: project.name,
            },
            interval,
            sort_by: sort_name,
            sort_order: order,
            total,
            next_offset,
            users,
            monitoring,
        }))
    })
    .await
}

/// `GET /api/customers/{userId}`: one identified person's summary.
#[utoipa::path(
    get,
    path = "/api/customers/{user_id}",
    tag = access::SIGNED_IN,
    summary = "One identified person's summary",
    params(("user_id" = String, Path, description = "The user id"), ProjectParam),
    responses(
        (status = 200, description = "The summary", body = Customer),
        (status = 404, description = "No such project or customer", body = ErrorBody),
    ),
)]
pub async fn one(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(p): Query<ProjectParam>,
) -> Result<Json<Customer>, ApiError> {
    blocking(move || {
        let project = project_of(&caller, &app.store, p.project.as_deref(), false)?;
        let person = app
            .store
            .customer(project.id, true, &user_id)?
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no customer {user_id:?} in project {:?}; people appear once a message names their user id",
                    project.name
                ))
            })?;
        Ok(Json(person))
    })
    .await
}

/// `GET /api/projects/{id}/customer-events`: which events count as orders,
/// bookings and reviews.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/customer-events",
    tag = access::PROJECT_READ,
    summary = "The project's customer-event mapping (Segment's Order Completed, seed 003's booking.completed, ... by default)",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The mapping", body = CustomerEvents)),
)]
pub async fn mapping(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<CustomerEvents>, ApiError> {
    let id = access.project.id;
    blocking(move || Ok(Json(app.store.customer_events(id)?))).await
}

/// `PUT /api/projects/{id}/customer-events`: replaces the mapping; it applies
/// to events read from then on (`spoor rebuild sessions` applies it to the
/// past).
#[utoipa::path(
    put,
    path = "/api/projects/{id}/customer-events",
    tag = access::PROJECT_WRITE,
    summary = "Replaces the mapping; it applies to events processed from then on (spoor rebuild sessions applies it to the past)",
    params(("id" = i64, Path, description = "Project id")),
    request_body = CustomerEvents,
    responses(
        (status = 200, description = "The mapping as stored", body = CustomerEvents),
        (status = 400, description = "The mapping is malformed; the error says what to fix", body = ErrorBody),
    ),
)]
pub async fn set_mapping(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    body: Bytes,
) -> Result<Json<CustomerEvents>, ApiError> {
    let id = access.project.id;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body must be UTF-8 JSON".into()))?
        .to_string();
    let map = CustomerEvents::parse(&text).map_err(ApiError::BadRequest)?;
    blocking(move || {
        app.store.set_customer_events(id, &map)?;
        Ok(Json(map))
    })
    .await
}

/// `DELETE /v1/users/{userId}`: erases the user, every anonymous or former id
/// linked to them, and all that was derived from them, and refuses their
/// messages from then on. Answers what was erased.
#[utoipa::path(
    delete,
    path = "/v1/users/{user_id}",
    tag = access::SIGNED_IN_WRITE,
    summary = "GDPR erasure: every event, session, summary and identity link of the user and of the anonymous ids linked to them; their messages are answered and not stored from then on",
    params(("user_id" = String, Path, description = "The user id"), ProjectParam),
    responses(
        (status = 200, description = "What was erased", body = Erasure),
        (status = 403, description = "Viewers cannot erase", body = ErrorBody),
    ),
)]
pub async fn erase(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(p): Query<ProjectParam>,
) -> Result<Json<Erasure>, ApiError> {
    if user_id.trim().is_empty() {
        return Err(ApiError::BadRequest("give the user id to erase".into()));
    }
    let app2 = app.clone();
    let (answer, freed) = blocking(move || {
        let app = app2;
        let project = project_of(&caller, &app.store, p.project.as_deref(), true)?;
        let erased = app
            .store
            .erase_person(project.id, &user_id, spoor_core::time::now_ms())?;
        // Recordings (and their sessions' screenshots) go with the person, and
        // so do finished exports that covered their events.
        let freed = app
            .store
            .erase_files(project.id, &erased.ids, erased.span)?;
        app.tombstones.add(
            erased
                .ids
                .iter()
                .map(|id| (project.id, id.clone(), erased.mark)),
        );
        tracing::info!(
            project = project.id,
            ids = erased.ids.len(),
            events = erased.events,
            "erased a user"
        );
        let answer = Erasure {
            success: true,
            project: project.name,
            user_id,
            recordings: freed.recordings,
            screenshots: freed.screenshots,
            exports: freed.exports,
            erased,
        };
        Ok((answer, freed))
    })
    .await?;
    app.files.delete_all(&freed.file_keys).await;
    Ok(Json(answer))
}

/// What an erasure removed.
#[derive(Serialize, ToSchema)]
pub struct Erasure {
    success: bool,
    /// The project's name.
    project: String,
    user_id: String,
    erased: Erased,
    /// Recordings deleted with their files.
    recordings: u64,
    /// Screenshots of the person's sessions deleted.
    screenshots: u64,
    /// Finished exports deleted because their range covered the person's events.
    exports: u64,
}
