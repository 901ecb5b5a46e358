//! `GET /v1/events`: stored events as JSON pages, for an admin token.
//!
//! Query: `project` (name, default `default`), `since` and `until` (ISO-8601 or ms),
//! `limit` (1 to 1000, default 100), `order` (`asc`, the default, or `desc`) and
//! `cursor` (the previous page's `next_cursor`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_store::{EventQuery, Store};

use super::auth;
use super::error::ApiError;
use crate::app::App;

const MAX_PAGE: u32 = 1000;

#[derive(Deserialize)]
pub struct EventsParams {
    project: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<u32>,
    order: Option<String>,
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

pub async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(p): Query<EventsParams>,
) -> Result<Json<Value>, ApiError> {
    // Everything here touches the store (the token check records its use), so it
    // runs off the async workers.
    let store = app.store.clone();
    super::blocking(move || page(&store, &headers, p))
        .await
        .map(Json)
}

fn page(store: &Store, headers: &HeaderMap, p: EventsParams) -> Result<Value, ApiError> {
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
    let events: Vec<Value> = rows
        .iter()
        .map(|r| r.event.to_json(&project.name))
        .collect();
    Ok(json!({ "events": events, "next_cursor": next_cursor }))
}
