//! `GET /v1/events`: stored events as JSON pages, for an admin token.
//!
//! Query: `project` (name, default `default`), `since` and `until` (ISO-8601 or ms),
//! `limit` (1 to 1000, default 100), `order` (`asc`, the default, or `desc`) and
//! `cursor` (the previous page's `next_cursor`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use spoor_store::{EventQuery, Store};
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::auth;
use super::error::ApiError;
use crate::app::App;

/// A stored event: the Segment message as it was sent, with its projectId
/// and enrichment (and, in the dashboard's API, its place in the log).
#[derive(Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventOut {
    /// Its place in the project's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<i64>,
    /// The message's fields: type, messageId, projectId, enrichment, and
    /// whatever else it was sent with.
    #[serde(flatten)]
    message: Map<String, Value>,
}

impl EventOut {
    pub(super) fn new(message: Value, seq: Option<i64>) -> EventOut {
        let message = match message {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        EventOut { seq, message }
    }
}

/// A page of events.
#[derive(Serialize, ToSchema)]
pub struct Events {
    events: Vec<EventOut>,
    /// Where the next page starts (`cursor=`); null on the last page.
    next_cursor: Option<String>,
}

impl Events {
    pub(super) fn new(events: Vec<EventOut>, next_cursor: Option<String>) -> Events {
        Events {
            events,
            next_cursor,
        }
    }
}

const MAX_PAGE: u32 = 1000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// The project's name (`default` when absent).
    project: Option<String>,
    /// Received from (ISO 8601 or ms since the epoch).
    since: Option<String>,
    /// Received before.
    until: Option<String>,
    /// 1 to 1,000 (default 100).
    limit: Option<u32>,
    /// asc (default) or desc.
    order: Option<String>,
    /// A page's `next_cursor`.
    cursor: Option<String>,
}

/// A time given as ISO-8601, a date or ms since the epoch, within the calendar
/// window (`spoor_core::range`).
pub fn parse_time(field: &'static str, s: &str) -> Result<i64, ApiError> {
    Ok(spoor_core::range::parse_instant(field, s)?)
}

pub fn parse_cursor(s: &str) -> Result<(i64, i64), ApiError> {
    let bad = || {
        ApiError::BadRequest("`cursor` is not one this API returned; start again without it".into())
    };
    let (ts, seq) = s.split_once('.').ok_or_else(bad)?;
    Ok((
        ts.parse().map_err(|_| bad())?,
        seq.parse().map_err(|_| bad())?,
    ))
}

/// Read a project's events, oldest first (or newest with order=desc), a page
/// at a time.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = access::ADMIN_TOKEN,
    params(EventsParams),
    responses((status = 200, description = "A page of events; next_cursor is null on the last page", body = Events)),
)]
pub async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(p): Query<EventsParams>,
) -> Result<Json<Events>, ApiError> {
    // Everything here touches the store (the token check records its use), so it
    // runs off the async workers.
    let store = app.store.clone();
    super::blocking(move || page(&store, &headers, p))
        .await
        .map(Json)
}

fn page(store: &Store, headers: &HeaderMap, p: EventsParams) -> Result<Events, ApiError> {
    let project = auth::admin_project(store, headers, p.project.as_deref())?;
    let limit = p.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_PAGE}"
        )));
    }
    let newest_first = match p.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "`order` must be asc or desc, not {other:?}"
            )));
        }
    };
    let query = EventQuery {
        project_id: project.id,
        since: p
            .since
            .as_deref()
            .map(|s| parse_time("since", s))
            .transpose()?,
        until: p
            .until
            .as_deref()
            .map(|s| parse_time("until", s))
            .transpose()?,
        after: p.cursor.as_deref().map(parse_cursor).transpose()?,
        limit: Some(limit),
        newest_first,
        filter: Default::default(),
    };
    let rows = store.events(&query)?;
    let next_cursor = (rows.len() == limit as usize)
        .then(|| {
            rows.last()
                .map(|r| format!("{}.{}", r.event.timestamp, r.seq))
        })
        .flatten();
    let events = rows
        .iter()
        .map(|r| EventOut::new(r.event.to_json(&project.name), None))
        .collect();
    Ok(Events::new(events, next_cursor))
}
