//! What the dashboard shows, as JSON a script can fetch too: the overview
//! (`/api/projects/{id}/overview`) and the events explorer
//! (`/api/projects/{id}/events`, `/api/projects/{id}/events/{seq}`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use serde::{Deserialize, Serialize};
use spoor_core::range::{MAX_REPORT_DAYS, TimeRange};
use spoor_store::analytics::{Bucket, OverviewQuery, RowOverview, TopLists, Totals};
use spoor_store::insights::overview::OverviewFilter;
use spoor_store::{EventFilter, EventQuery, StoredEvent};
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::asking::{Audience, AudienceShape, fold, one, query_pairs, where_params};
use super::blocking;
use super::caller::ProjectRead;
use super::error::ApiError;
use super::error::ErrorBody;
use super::events::{EventOut, Events, parse_cursor, parse_time};
use crate::app::App;
use spoor_store::sessions::Session;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const MAX_PAGE: u32 = 1000;

/// The overview's range: a named one, or `from` and `to`; and whether bots count.
struct OverviewParams {
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
    bots: Option<bool>,
}

/// The range's start and end and the width of one point of its series: minutes
/// for an hour, hours up to two days, days up to two months, then weeks. Named
/// ranges end at the end of the current bucket, so that polling every few
/// seconds keeps the same buckets.
fn range(p: &OverviewParams, now: i64) -> Result<(i64, i64, i64), ApiError> {
    let bucket_for = |span: i64| match span {
        s if s <= 2 * HOUR => MINUTE,
        s if s <= 2 * DAY => HOUR,
        s if s <= 62 * DAY => DAY,
        _ => 7 * DAY,
    };
    if p.from.is_some() || p.to.is_some() {
        let r = TimeRange::parse(p.from.as_deref(), p.to.as_deref(), now, 1, MAX_REPORT_DAYS)?;
        return Ok((r.from(), r.to(), bucket_for(r.span_ms())));
    }
    let span = match p.range.as_deref().unwrap_or("24h") {
        "1h" => HOUR,
        "24h" => DAY,
        "7d" => 7 * DAY,
        "30d" => 30 * DAY,
        other => {
            return Err(ApiError::BadRequest(format!(
                "`range` must be 1h, 24h, 7d or 30d (or give from and to), not {other:?}"
            )));
        }
    };
    let bucket = bucket_for(span);
    let to = (now / bucket + 1) * bucket;
    Ok((to - span, to, bucket))
}

/// `GET /api/projects/{id}/overview`: `range` (1h, 24h, 7d, 30d) or `from`
/// and `to`, `bots`; and the filter bar: `where` (repeated, FIELD=VALUE or
/// FIELD!=VALUE on any event field), `segment` (a segment's id), `person`
/// (repeated, on people's properties). Without a filter it is answered from
/// rollups; with one it is counted from the log's page views and track
/// events of the range (bots left out), in the same shape.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/overview",
    tag = access::PROJECT_READ,
    summary = "Totals, a time series and top lists",
    description = "With a filter (where, segment or person) the overview is counted from the log's page views and track events of the range, bots left out, in the same shape.",
    params(("id" = i64, Path, description = "Project id"), OverviewShape, AudienceShape),
    responses(
        (status = 200, description = "The overview", body = Overview),
        (status = 414, description = "The URL is longer than the server reads (64 KiB): send fewer or shorter conditions"),
    ),
)]
pub async fn overview(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    RawQuery(raw): RawQuery,
) -> Result<Json<Overview>, ApiError> {
    let params = query_pairs(&raw.unwrap_or_default())?;
    let p = OverviewParams {
        range: one(&params, "range")?.map(str::to_string),
        from: one(&params, "from")?.map(str::to_string),
        to: one(&params, "to")?.map(str::to_string),
        bots: one(&params, "bots")?
            .map(|b| match b {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(ApiError::BadRequest(format!(
                    "`bots` is true or false, not {other:?}"
                ))),
            })
            .transpose()?,
    };
    let conditions = where_params(&params, "the overview")?;
    let audience = Audience::from_params(&params)?;
    let id = access.project.id;
    let now = spoor_core::time::now_ms();
    let (from, to, bucket_ms) = range(&p, now)?;
    let q = OverviewQuery {
        project_id: id,
        from,
        to,
        bucket_ms,
        include_bots: p.bots.unwrap_or(false),
    };
    blocking(move || {
        let o = if conditions.is_empty() && audience.is_everyone() {
            app.store.overview(&q, now)?
        } else {
            let filter = OverviewFilter::new(id, from, to, &conditions)?;
            let members = audience.members(&app.store, id, from, to)?;
            let mut overview = RowOverview::new(q);
            fold(&app.store, filter.rows(), &members, |row| {
                if let Some(r) = filter.admit(row) {
                    overview.add(&r);
                }
                Ok(())
            })?;
            overview.finish()
        };
        Ok(Json(Overview {
            from,
            to,
            interval_ms: bucket_ms,
            totals: o.totals,
            series: o.series,
            top: o.top,
        }))
    })
    .await
}

/// The overview's own parameters.
// For the OpenAPI document only: the route reads its query string as pairs
// (`query_pairs`), so that a repeated parameter is refused by name.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct OverviewShape {
    /// 1h, 24h (default), 7d or 30d.
    range: Option<String>,
    /// Start, ISO-8601 or ms (instead of range).
    from: Option<String>,
    /// End, ISO-8601 or ms.
    to: Option<String>,
    /// Include bots (default false).
    bots: Option<bool>,
    /// A condition on each event, FIELD=VALUE or FIELD!=VALUE (a property,
    /// $page, $browser, $country, $channel, $utm_source...), repeated for
    /// more (at most 10): count only the events that meet every one.
    #[param(rename = "where", style = Form, explode, max_items = 10)]
    conditions: Option<Vec<String>>,
}

/// A project's totals, series and top lists over a range.
#[derive(Serialize, ToSchema)]
pub struct Overview {
    /// ms since the epoch.
    from: i64,
    /// ms since the epoch.
    to: i64,
    /// The width of one point of the series.
    interval_ms: i64,
    totals: Totals,
    /// Every bucket of the range, empty ones included, oldest first.
    series: Vec<Bucket>,
    top: TopLists,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// track, page, identify, screen, group or alias.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The event's name.
    name: Option<String>,
    user_id: Option<String>,
    anonymous_id: Option<String>,
    session_id: Option<String>,
    /// Text in the page's URL.
    url: Option<String>,
    /// From (ISO 8601 or ms since the epoch).
    from: Option<String>,
    /// Before.
    to: Option<String>,
    /// Whether bots' events are shown (default true).
    bots: Option<bool>,
    /// 1 to 1,000 (default 50).
    limit: Option<u32>,
    /// A page's `next_cursor`.
    cursor: Option<String>,
}

fn event_out(e: &StoredEvent, project: &str) -> EventOut {
    EventOut::new(e.event.to_json(project), Some(e.seq))
}

/// An empty filter field means no condition, as an HTML form sends it.
fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Events, newest first, paged.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/events",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id"), EventsParams),
    responses((status = 200, description = "A page", body = Events)),
)]
pub async fn events(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<EventsParams>,
) -> Result<Json<Events>, ApiError> {
    let id = access.project.id;
    let limit = p.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_PAGE}"
        )));
    }
    let query = EventQuery {
        project_id: id,
        since: given(p.from).map(|s| parse_time("from", &s)).transpose()?,
        until: given(p.to).map(|s| parse_time("to", &s)).transpose()?,
        after: given(p.cursor).map(|c| parse_cursor(&c)).transpose()?,
        limit: Some(limit),
        newest_first: true,
        filter: EventFilter {
            kind: given(p.kind),
            name: given(p.name),
            user_id: given(p.user_id),
            anonymous_id: given(p.anonymous_id),
            session_id: given(p.session_id),
            url_contains: given(p.url),
            no_bots: !p.bots.unwrap_or(true),
        },
    };
    blocking(move || {
        let project = access.project;
        let rows = app.store.events(&query)?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| {
                rows.last()
                    .map(|r| format!("{}.{}", r.event.timestamp, r.seq))
            })
            .flatten();
        let events = rows.iter().map(|r| event_out(r, &project.name)).collect();
        Ok(Json(Events::new(events, next_cursor)))
    })
    .await
}

/// One event, whole.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/events/{seq}",
    tag = access::PROJECT_READ,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("seq" = i64, Path, description = "Its place in the log"),
    ),
    responses(
        (status = 200, description = "The event", body = EventOut),
        (status = 404, description = "No such project or event", body = ErrorBody),
    ),
)]
pub async fn event(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Path((_, seq)): Path<(i64, i64)>,
) -> Result<Json<EventOut>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let project = access.project;
        let e = app
            .store
            .event_by_seq(id, seq)?
            .ok_or_else(|| ApiError::NotFound(format!("no event {seq} in project {id}")))?;
        Ok(Json(event_out(&e, &project.name)))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionsParams {
    /// One person's sessions.
    user_id: Option<String>,
    /// 1 to 1,000 (default 50).
    limit: Option<u32>,
    /// A page's `next_cursor`.
    cursor: Option<String>,
}

/// A session: its start, last activity, end and the reason it ended (null
/// while active), duration, entry and exit page, counts, and the device,
/// place and address of its first event. Times are ms since the epoch.
#[derive(Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionOut {
    project_id: i64,
    session_id: String,
    /// For sessions made by inactivity: the user or anonymous id they group.
    identity: Option<String>,
    user_id: Option<String>,
    anonymous_id: Option<String>,
    started_at: i64,
    last_seen_at: i64,
    ended_at: Option<i64>,
    /// sign_out, user_switch, page_unload, timeout or explicit.
    end_reason: Option<String>,
    entry_url: Option<String>,
    exit_url: Option<String>,
    pageviews: i64,
    events: i64,
    device_type: Option<String>,
    browser: Option<String>,
    browser_version: Option<String>,
    os: Option<String>,
    os_version: Option<String>,
    country: Option<String>,
    region: Option<String>,
    city: Option<String>,
    ip: Option<String>,
    /// Not ended yet.
    active: bool,
    duration_ms: Option<i64>,
}

impl From<&Session> for SessionOut {
    fn from(s: &Session) -> SessionOut {
        SessionOut {
            project_id: s.project_id,
            session_id: s.session_id.clone(),
            identity: s.identity.clone(),
            user_id: s.user_id.clone(),
            anonymous_id: s.anonymous_id.clone(),
            started_at: s.started_at,
            last_seen_at: s.last_seen_at,
            ended_at: s.ended_at,
            end_reason: s.end_reason.clone(),
            entry_url: s.entry_url.clone(),
            exit_url: s.exit_url.clone(),
            pageviews: s.pageviews,
            events: s.events,
            device_type: s.device_type.clone(),
            browser: s.browser.clone(),
            browser_version: s.browser_version.clone(),
            os: s.os.clone(),
            os_version: s.os_version.clone(),
            country: s.country.clone(),
            region: s.region.clone(),
            city: s.city.clone(),
            ip: s.ip.clone(),
            active: s.ended_at.is_none(),
            duration_ms: s.duration_ms(),
        }
    }
}

/// A page of sessions.
#[derive(Serialize, ToSchema)]
pub struct Sessions {
    sessions: Vec<SessionOut>,
    /// Where the next page starts (`cursor=`); null on the last page.
    next_cursor: Option<String>,
}

/// Sessions, newest first, paged; end_reason is sign_out, user_switch,
/// page_unload, timeout or explicit.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/sessions",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id"), SessionsParams),
    responses((status = 200, description = "A page", body = Sessions)),
)]
pub async fn sessions(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    Query(p): Query<SessionsParams>,
) -> Result<Json<Sessions>, ApiError> {
    let id = access.project.id;
    let limit = p.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::BadRequest(format!(
            "`limit` must be between 1 and {MAX_PAGE}"
        )));
    }
    let before = given(p.cursor)
        .map(|c| {
            c.split_once('.')
                .and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "`cursor` is not one this API returned; start again without it".into(),
                    )
                })
        })
        .transpose()?;
    blocking(move || {
        let user = given(p.user_id);
        let rows = app
            .store
            .sessions_page(id, user.as_deref(), before, i64::from(limit))?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| {
                rows.last()
                    .map(|s| format!("{}.{}", s.started_at, s.session_id))
            })
            .flatten();
        Ok(Json(Sessions {
            sessions: rows.iter().map(SessionOut::from).collect(),
            next_cursor,
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(range: Option<&str>, from: Option<&str>, to: Option<&str>) -> OverviewParams {
        OverviewParams {
            range: range.map(Into::into),
            from: from.map(Into::into),
            to: to.map(Into::into),
            bots: None,
        }
    }

    #[test]
    fn named_ranges_end_with_the_current_bucket() {
        let now = 10 * DAY + 5 * HOUR + 7 * MINUTE + 3;
        let (from, to, bucket) = range(&params(Some("1h"), None, None), now).unwrap();
        assert_eq!((to - from, bucket), (HOUR, MINUTE));
        assert_eq!(to, 10 * DAY + 5 * HOUR + 8 * MINUTE);
        let (from, to, bucket) = range(&params(Some("30d"), None, None), now).unwrap();
        assert_eq!((to - from, bucket, to), (30 * DAY, DAY, 11 * DAY));
        assert_eq!(
            range(&params(None, None, None), now).unwrap().2,
            HOUR,
            "24h by default"
        );
        assert!(range(&params(Some("2y"), None, None), now).is_err());
        let (from, to, bucket) = range(&params(None, Some("1000"), Some("2000")), now).unwrap();
        assert_eq!((from, to, bucket), (1000, 2000, MINUTE));
        assert!(range(&params(None, Some("2000"), Some("1000")), now).is_err());
    }
}
