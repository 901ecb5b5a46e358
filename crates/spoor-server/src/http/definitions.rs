//! A project's goals and segments, and goals' conversions (session cookie or
//! admin token; a viewer reads, an owner or member defines):
//!
//! - `GET`/`POST …/goals`, `PUT`/`DELETE …/goals/{gid}`: a goal is a named
//!   funnel step, an event with optional conditions or page views of a page
//!   pattern.
//! - `GET …/goals/conversions`: over a range, the visitors, each goal's
//!   conversions and rate, and with `breakdown` the same per value of a field,
//!   which is how the overview lists channels, sources and campaigns.
//! - `GET`/`POST …/segments`, `PUT`/`DELETE …/segments/{sid}`: a segment is a
//!   named step and whether its people did it (`did`, default true); every
//!   insight takes `segment` to read only its people's rows.
//!
//! The counting is `spoor_domain::insights::goals`' and `segments`'.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spoor_store::insights::definitions::{Defined, Definition};
use spoor_store::insights::goals::{Conversions, ConversionsAnswer, ConversionsQuery, GoalSpec};
use spoor_store::insights::{Field, Limits, boards};
use utoipa::{IntoParams, ToSchema};

use super::access;
use super::asking::{
    Audience, AudienceShape, ConditionValue, RangeShape, StepBody, Stored, fold, limit_param, one,
    query_pairs, range,
};
use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use crate::app::App;

/// A goal or a segment: its step (and a segment's `did`) beside its name.
/// Times are ms since the epoch.
#[derive(Serialize, ToSchema)]
#[schema(as = Definition)]
pub struct Out {
    id: i64,
    name: String,
    /// A track event's name, or $pageview.
    event: String,
    /// For $pageview: a path or pattern (/property/*).
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<String>,
    /// Property (or a field such as $page or $channel) equal to a string,
    /// number or boolean.
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, ConditionValue>>)]
    conditions: Option<serde_json::Map<String, Value>>,
    /// Segments only: whether its people did the step (true) or did not
    /// (false).
    #[serde(skip_serializing_if = "Option::is_none")]
    did: Option<bool>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<&Definition> for Out {
    type Error = ApiError;

    fn try_from(d: &Definition) -> Result<Out, ApiError> {
        // Stored by `DefinitionBody::checked` from a `Stored`.
        let step = Stored::parse(d)?;
        Ok(Out {
            id: d.id,
            name: d.name.clone(),
            event: step.event,
            page: step.page,
            conditions: step.conditions,
            did: step.did,
            created_at: d.created_at,
            updated_at: d.updated_at,
        })
    }
}

/// A project's goals, oldest first.
#[derive(Serialize, ToSchema)]
pub struct Goals {
    goals: Vec<Out>,
}

/// A project's segments, oldest first.
#[derive(Serialize, ToSchema)]
pub struct Segments {
    segments: Vec<Out>,
}

/// A goal or segment as sent.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DefinitionBody {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// A track event's name, or $pageview.
    event: String,
    /// For $pageview: a path or pattern (/property/*).
    page: Option<String>,
    /// Property (or $page, $browser, $os, $device_type, $country, $region,
    /// $city, $referrer, $utm_source, $utm_medium, $utm_campaign, $utm_term,
    /// $utm_content, $channel) equal to a string, number or boolean.
    #[serde(rename = "where")]
    #[schema(value_type = Option<std::collections::HashMap<String, ConditionValue>>)]
    conditions: Option<serde_json::Map<String, Value>>,
    /// Segments only: whether its people did the step (default true) or did
    /// not; a goal refuses it.
    did: Option<bool>,
}

impl DefinitionBody {
    fn checked(self, of: Defined, project_id: i64, now: i64) -> Result<Definition, ApiError> {
        let name = boards::title("name", &self.name)?;
        let did = match (of, self.did) {
            (Defined::Goals, Some(_)) => {
                return Err(ApiError::BadRequest(
                    "`did` belongs to segments; a goal is reached by doing its step".into(),
                ));
            }
            (Defined::Goals, None) => None,
            (Defined::Segments, did) => Some(did.unwrap_or(true)),
        };
        let step = StepBody {
            event: self.event,
            page: self.page,
            conditions: self.conditions,
        };
        step.matcher("event")?;
        let stored = Stored {
            event: step.event,
            page: step.page,
            conditions: step.conditions,
            did,
        };
        let definition = serde_json::to_string(&stored)
            .map_err(|e| ApiError::Internal(format!("a definition: {e}")))?;
        Ok(Definition {
            id: 0,
            project_id,
            name,
            definition: boards::query_text(definition)?,
            created_at: now,
            updated_at: now,
        })
    }
}

fn missing(of: Defined, id: i64) -> ApiError {
    let what = match of {
        Defined::Goals => "goal",
        Defined::Segments => "segment",
    };
    ApiError::NotFound(format!("no {what} {id} in this project"))
}

async fn list(app: Arc<App>, of: Defined, project: i64) -> Result<Vec<Out>, ApiError> {
    let all = blocking(move || Ok(app.store.definitions(of, project)?)).await?;
    all.iter().map(Out::try_from).collect()
}

async fn create(
    app: Arc<App>,
    of: Defined,
    project: i64,
    bytes: &[u8],
) -> Result<(StatusCode, Json<Out>), ApiError> {
    let b: DefinitionBody = body::parse_json(bytes)?;
    let d = b.checked(of, project, spoor_core::time::now_ms())?;
    let stored = blocking(move || Ok(app.store.create_definition(of, &d)?))
        .await?
        .ok_or_else(|| boards::full(of.max(), of.table()))?;
    Ok((StatusCode::CREATED, Json(Out::try_from(&stored)?)))
}

async fn update(
    app: Arc<App>,
    of: Defined,
    project: i64,
    id: i64,
    bytes: &[u8],
) -> Result<Json<Out>, ApiError> {
    let b: DefinitionBody = body::parse_json(bytes)?;
    let mut d = b.checked(of, project, spoor_core::time::now_ms())?;
    d.id = id;
    let stored = blocking(move || Ok(app.store.update_definition(of, &d)?))
        .await?
        .ok_or_else(|| missing(of, id))?;
    Ok(Json(Out::try_from(&stored)?))
}

async fn delete(app: Arc<App>, of: Defined, project: i64, id: i64) -> Result<StatusCode, ApiError> {
    let gone = blocking(move || Ok(app.store.delete_definition(of, project, id)?)).await?;
    if !gone {
        return Err(missing(of, id));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/goals",
    tag = access::PROJECT_READ,
    summary = "A project's goals, oldest first",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The goals", body = Goals)),
)]
pub async fn list_goals(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Goals>, ApiError> {
    let goals = list(app, Defined::Goals, access.project.id).await?;
    Ok(Json(Goals { goals }))
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/goals",
    tag = access::PROJECT_WRITE,
    summary = "Define a goal: an event with optional conditions, or page views of a page pattern (viewers may not)",
    params(("id" = i64, Path, description = "Project id")),
    request_body = DefinitionBody,
    responses(
        (status = 201, description = "The goal", body = Out),
        (status = 400, description = "A field is wrong, or the project keeps 50 goals; the error says which", body = ErrorBody),
    ),
)]
pub async fn create_goal(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<Out>), ApiError> {
    create(app, Defined::Goals, access.project.id, &bytes).await
}

#[utoipa::path(
    put,
    path = "/api/projects/{id}/goals/{gid}",
    tag = access::PROJECT_WRITE,
    summary = "Change a goal",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("gid" = i64, Path, description = "Goal id"),
    ),
    request_body = DefinitionBody,
    responses(
        (status = 200, description = "The goal", body = Out),
        (status = 400, description = "A field is wrong; the error says which", body = ErrorBody),
        (status = 404, description = "No such project or goal", body = ErrorBody),
    ),
)]
pub async fn update_goal(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, gid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Out>, ApiError> {
    update(app, Defined::Goals, access.project.id, gid, &bytes).await
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/goals/{gid}",
    tag = access::PROJECT_WRITE,
    summary = "Delete a goal",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("gid" = i64, Path, description = "Goal id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or goal", body = ErrorBody),
    ),
)]
pub async fn delete_goal(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, gid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    delete(app, Defined::Goals, access.project.id, gid).await
}

#[utoipa::path(
    get,
    path = "/api/projects/{id}/segments",
    tag = access::PROJECT_READ,
    summary = "A project's segments, oldest first",
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The segments", body = Segments)),
)]
pub async fn list_segments(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Segments>, ApiError> {
    let segments = list(app, Defined::Segments, access.project.id).await?;
    Ok(Json(Segments { segments }))
}

#[utoipa::path(
    post,
    path = "/api/projects/{id}/segments",
    tag = access::PROJECT_WRITE,
    summary = "Save a segment: the people who did (or did not) a step in the question's range; every insight takes segment=ID (viewers may not)",
    params(("id" = i64, Path, description = "Project id")),
    request_body = DefinitionBody,
    responses(
        (status = 201, description = "The segment", body = Out),
        (status = 400, description = "A field is wrong, or the project keeps 100 segments; the error says which", body = ErrorBody),
    ),
)]
pub async fn create_segment(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<Out>), ApiError> {
    create(app, Defined::Segments, access.project.id, &bytes).await
}

#[utoipa::path(
    put,
    path = "/api/projects/{id}/segments/{sid}",
    tag = access::PROJECT_WRITE,
    summary = "Change a segment",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("sid" = i64, Path, description = "Segment id"),
    ),
    request_body = DefinitionBody,
    responses(
        (status = 200, description = "The segment", body = Out),
        (status = 400, description = "A field is wrong; the error says which", body = ErrorBody),
        (status = 404, description = "No such project or segment", body = ErrorBody),
    ),
)]
pub async fn update_segment(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, sid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Out>, ApiError> {
    update(app, Defined::Segments, access.project.id, sid, &bytes).await
}

#[utoipa::path(
    delete,
    path = "/api/projects/{id}/segments/{sid}",
    tag = access::PROJECT_WRITE,
    summary = "Delete a segment",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("sid" = i64, Path, description = "Segment id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or segment", body = ErrorBody),
    ),
)]
pub async fn delete_segment(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, sid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    delete(app, Defined::Segments, access.project.id, sid).await
}

/// `GET /api/projects/{id}/goals/conversions`: `from`, `to` (default the last
/// 30 days), `breakdown` (any field: `$channel`, `$utm_source`, a property...),
/// `limit` (values shown, 1 to 50, default 10), `segment`, `person`
/// (repeated: KEY=VALUE or KEY!=VALUE on people's properties).
#[utoipa::path(
    get,
    path = "/api/projects/{id}/goals/conversions",
    tag = access::PROJECT_READ,
    summary = "Visitors and each goal's conversions and rate over a range; with breakdown, per value of a field by each visitor's first touch (channels, sources, campaigns)",
    params(("id" = i64, Path, description = "Project id"), RangeShape, BreakdownShape, AudienceShape),
    responses(
        (status = 200, description = "The conversions", body = ConversionsAnswer),
        (status = 414, description = "The URL is longer than the server reads (64 KiB): send fewer or shorter conditions"),
    ),
)]
pub async fn conversions(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    RawQuery(raw): RawQuery,
) -> Result<Json<ConversionsAnswer>, ApiError> {
    let params = query_pairs(&raw.unwrap_or_default())?;
    let range = range(one(&params, "from")?, one(&params, "to")?, 30)?;
    let breakdown = one(&params, "breakdown")?
        .filter(|b| !b.trim().is_empty())
        .map(|b| Field::parse("breakdown", b))
        .transpose()?;
    let limit = limit_param(&params)?;
    let audience = Audience::from_params(&params)?;
    let project = access.project.id;
    blocking(move || {
        let goals = app
            .store
            .definitions(Defined::Goals, project)?
            .into_iter()
            .map(|g| {
                let step = Stored::parse(&g)?.step();
                Ok(GoalSpec {
                    id: g.id,
                    name: g.name,
                    matcher: step.matcher("event")?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let members = audience.members(&app.store, project, range.from(), range.to())?;
        let query = ConversionsQuery {
            project_id: project,
            from: range.from(),
            to: range.to(),
            goals,
            breakdown,
            limit,
        };
        let mut conversions = Conversions::new(query, Limits::default())?;
        let rows = conversions.rows().clone();
        fold(&app.store, &rows, &members, |r| conversions.add(r))?;
        Ok(Json(conversions.finish()))
    })
    .await
}

/// A breakdown and how many of its values are shown.
// For the OpenAPI document only: the route reads its query string as pairs.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct BreakdownShape {
    /// A property, or $page, $browser, $os, $device_type, $country, $region,
    /// $city, $referrer, $utm_source, $utm_medium, $utm_campaign, $utm_term,
    /// $utm_content, $channel.
    breakdown: Option<String>,
    /// Values shown before the rest is folded into $other (default 10).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<i64>,
}
