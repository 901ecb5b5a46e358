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
use serde_json::{Value, json};
use spoor_store::insights::definitions::{Defined, Definition};
use spoor_store::insights::goals::{Conversions, ConversionsQuery, GoalSpec};
use spoor_store::insights::{Field, Limits, boards};

use super::asking::{Audience, StepBody, Stored, fold, limit_param, one, query_pairs, range};
use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::ApiError;
use crate::app::App;

/// A goal or segment as the API shows it: its definition's fields beside its
/// name.
#[derive(Serialize)]
struct Out {
    id: i64,
    name: String,
    #[serde(flatten)]
    definition: Value,
    created_at: i64,
    updated_at: i64,
}

impl From<&Definition> for Out {
    fn from(d: &Definition) -> Out {
        Out {
            id: d.id,
            name: d.name.clone(),
            // Stored by `DefinitionBody::checked` from a `Stored`.
            definition: serde_json::from_str(&d.definition).unwrap_or(Value::Null),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefinitionBody {
    name: String,
    event: String,
    page: Option<String>,
    #[serde(rename = "where")]
    conditions: Option<serde_json::Map<String, Value>>,
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

async fn list(app: Arc<App>, of: Defined, project: i64) -> Result<Json<Value>, ApiError> {
    let all = blocking(move || Ok(app.store.definitions(of, project)?)).await?;
    let out: Vec<Out> = all.iter().map(Out::from).collect();
    Ok(Json(json!({ of.table(): out })))
}

async fn create(
    app: Arc<App>,
    of: Defined,
    project: i64,
    bytes: &[u8],
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: DefinitionBody = body::parse_json(bytes)?;
    let d = b.checked(of, project, spoor_core::time::now_ms())?;
    let stored = blocking(move || Ok(app.store.create_definition(of, &d)?))
        .await?
        .ok_or_else(|| boards::full(of.max(), of.table()))?;
    Ok((StatusCode::CREATED, Json(json!(Out::from(&stored)))))
}

async fn update(
    app: Arc<App>,
    of: Defined,
    project: i64,
    id: i64,
    bytes: &[u8],
) -> Result<Json<Value>, ApiError> {
    let b: DefinitionBody = body::parse_json(bytes)?;
    let mut d = b.checked(of, project, spoor_core::time::now_ms())?;
    d.id = id;
    let stored = blocking(move || Ok(app.store.update_definition(of, &d)?))
        .await?
        .ok_or_else(|| missing(of, id))?;
    Ok(Json(json!(Out::from(&stored))))
}

async fn delete(app: Arc<App>, of: Defined, project: i64, id: i64) -> Result<StatusCode, ApiError> {
    let gone = blocking(move || Ok(app.store.delete_definition(of, project, id)?)).await?;
    if !gone {
        return Err(missing(of, id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/projects/{id}/goals`.
pub async fn list_goals(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    list(app, Defined::Goals, access.project.id).await
}

/// `POST /api/projects/{id}/goals`.
pub async fn create_goal(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create(app, Defined::Goals, access.project.id, &bytes).await
}

/// `PUT /api/projects/{id}/goals/{gid}`.
pub async fn update_goal(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, gid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    update(app, Defined::Goals, access.project.id, gid, &bytes).await
}

/// `DELETE /api/projects/{id}/goals/{gid}`.
pub async fn delete_goal(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, gid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    delete(app, Defined::Goals, access.project.id, gid).await
}

/// `GET /api/projects/{id}/segments`.
pub async fn list_segments(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    list(app, Defined::Segments, access.project.id).await
}

/// `POST /api/projects/{id}/segments`.
pub async fn create_segment(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create(app, Defined::Segments, access.project.id, &bytes).await
}

/// `PUT /api/projects/{id}/segments/{sid}`.
pub async fn update_segment(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, sid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    update(app, Defined::Segments, access.project.id, sid, &bytes).await
}

/// `DELETE /api/projects/{id}/segments/{sid}`.
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
pub async fn conversions(
    State(app): State<Arc<App>>,
    access: ProjectRead,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
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
        Ok(Json(serde_json::to_value(conversions.finish()).map_err(
            |e| ApiError::Internal(format!("conversions' answer: {e}")),
        )?))
    })
    .await
}
