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
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_store::customers::{CustomerEvents, CustomerQuery, SortBy};
use spoor_store::{Project, Store};

use super::blocking;
use super::caller::Caller;
use super::error::ApiError;
use crate::app::App;

const DAY: i64 = 24 * 60 * 60_000;
const MAX_PAGE: i64 = 500;
/// Sessions listed with each person in the metrics.
const SESSIONS_PER_PERSON: i64 = 10;

#[derive(Deserialize)]
pub struct ProjectParam {
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

#[derive(Deserialize)]
pub struct MetricsParams {
    project: Option<String>,
    interval: Option<String>,
    #[serde(rename = "sortBy")]
    sort_by: Option<String>,
    #[serde(rename = "sortOrder")]
    sort_order: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/customers/metrics`: identified people with their summaries and
/// latest sessions, sorted on the server, plus seed 004's monitoring figures.
/// `interval` keeps the people whose latest session started within the last
/// day, week or 30 days, and the monitoring figures cover the same span.
pub async fn metrics(
    State(app): State<Arc<App>>,
    caller: Caller,
    Query(p): Query<MetricsParams>,
) -> Result<Json<Value>, ApiError> {
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
        for person in &people {
            let sessions =
                store.recent_sessions_of(project.id, &person.person, since, SESSIONS_PER_PERSON)?;
            let mut v = json!(person);
            v["sessions"] = json!(
                sessions
                    .iter()
                    .map(super::query::SessionOut::from)
                    .collect::<Vec<_>>()
            );
            users.push(v);
        }
        let monitoring = store.session_monitoring(project.id, since, now - 7 * DAY)?;
        let next_offset = (offset + limit < total).then_some(offset + limit);
        Ok(Json(json!({
            "project": {"id": project.id, "name": project.name},
            "interval": interval,
            "sortBy": sort_name,
            "sortOrder": order,
            "total": total,
            "next_offset": next_offset,
            "users": users,
            "monitoring": monitoring,
        })))
    })
    .await
}

/// `GET /api/customers/{userId}`: one identified person's summary.
pub async fn one(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(p): Query<ProjectParam>,
) -> Result<Json<Value>, ApiError> {
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
        Ok(Json(json!(person)))
    })
    .await
}

/// `GET /api/projects/{id}/customer-events`: which events count as orders,
/// bookings and reviews.
pub async fn mapping(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        caller.project(&app.store, id, false)?;
        Ok(Json(json!(app.store.customer_events(id)?)))
    })
    .await
}

/// `PUT /api/projects/{id}/customer-events`: replaces the mapping; it applies
/// to events read from then on (`spoor rebuild sessions` applies it to the
/// past).
pub async fn set_mapping(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body must be UTF-8 JSON".into()))?
        .to_string();
    let map = CustomerEvents::parse(&text).map_err(ApiError::BadRequest)?;
    blocking(move || {
        caller.project(&app.store, id, true)?;
        app.store.set_customer_events(id, &map)?;
        Ok(Json(json!(map)))
    })
    .await
}

/// `DELETE /v1/users/{userId}`: erases the user, every anonymous or former id
/// linked to them, and all that was derived from them, and refuses their
/// messages from then on. Answers what was erased.
pub async fn erase(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(user_id): Path<String>,
    Query(p): Query<ProjectParam>,
) -> Result<Json<Value>, ApiError> {
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
        let answer = json!({
            "success": true,
            "project": project.name,
            "user_id": user_id,
            "erased": erased,
            "recordings": freed.recordings,
            "screenshots": freed.screenshots,
            "exports": freed.exports,
        });
        Ok((answer, freed))
    })
    .await?;
    app.files.delete_all(&freed.file_keys).await;
    Ok(Json(answer))
}
