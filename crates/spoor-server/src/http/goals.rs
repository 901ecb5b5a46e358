//! A project's goals and their conversions (session cookie or admin token; a
//! viewer reads, an owner or member defines goals):
//!
//! - `GET`/`POST …/goals`, `PUT`/`DELETE …/goals/{gid}`: a goal is a named
//!   funnel step, an event with optional conditions or page views of a page
//!   pattern.
//! - `GET …/goals/conversions`: over a range, the visitors, each goal's
//!   conversions and rate, and with `breakdown` the same per value of a field,
//!   which is how the overview lists channels, sources and campaigns.
//!
//! The counting is `spoor_domain::insights::goals`'.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spoor_store::insights::goals::{
    Conversions, ConversionsQuery, Goal, GoalSpec, MAX_GOALS_PER_PROJECT,
};
use spoor_store::insights::{Field, Limits, boards, breakdown_limit};

use super::blocking;
use super::body;
use super::caller::{ProjectRead, ProjectWrite};
use super::error::ApiError;
use super::insights::{StepBody, fold, one, query_pairs, range};
use crate::app::App;

/// A goal as the API shows it: its definition's fields beside its name.
#[derive(Serialize)]
struct GoalOut {
    id: i64,
    name: String,
    #[serde(flatten)]
    definition: Value,
    created_at: i64,
    updated_at: i64,
}

impl From<&Goal> for GoalOut {
    fn from(g: &Goal) -> GoalOut {
        GoalOut {
            id: g.id,
            name: g.name.clone(),
            // Stored by `GoalBody::checked` from a `StepBody`.
            definition: serde_json::from_str(&g.definition).unwrap_or(Value::Null),
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalBody {
    name: String,
    event: String,
    page: Option<String>,
    #[serde(rename = "where")]
    conditions: Option<serde_json::Map<String, Value>>,
}

impl GoalBody {
    fn checked(self, project_id: i64, now: i64) -> Result<Goal, ApiError> {
        let name = boards::title("name", &self.name)?;
        let step = StepBody {
            event: self.event,
            page: self.page,
            conditions: self.conditions,
        };
        step.matcher("event")?;
        let definition = serde_json::to_string(&step)
            .map_err(|e| ApiError::Internal(format!("a goal's definition: {e}")))?;
        Ok(Goal {
            id: 0,
            project_id,
            name,
            definition: boards::query_text(definition)?,
            created_at: now,
            updated_at: now,
        })
    }
}

fn no_goal(gid: i64) -> ApiError {
    ApiError::NotFound(format!("no goal {gid} in this project"))
}

/// `GET /api/projects/{id}/goals`.
pub async fn list(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let project = access.project.id;
    let goals = blocking(move || Ok(app.store.goals(project)?)).await?;
    let out: Vec<GoalOut> = goals.iter().map(GoalOut::from).collect();
    Ok(Json(json!({ "goals": out })))
}

/// `POST /api/projects/{id}/goals`.
pub async fn create(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b: GoalBody = body::parse_json(&bytes)?;
    let goal = b.checked(access.project.id, spoor_core::time::now_ms())?;
    let stored = blocking(move || Ok(app.store.create_goal(&goal, MAX_GOALS_PER_PROJECT)?))
        .await?
        .ok_or_else(|| boards::full(MAX_GOALS_PER_PROJECT, "goals"))?;
    Ok((StatusCode::CREATED, Json(json!(GoalOut::from(&stored)))))
}

/// `PUT /api/projects/{id}/goals/{gid}`.
pub async fn update(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, gid)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: GoalBody = body::parse_json(&bytes)?;
    let mut goal = b.checked(access.project.id, spoor_core::time::now_ms())?;
    goal.id = gid;
    let stored = blocking(move || Ok(app.store.update_goal(&goal)?))
        .await?
        .ok_or_else(|| no_goal(gid))?;
    Ok(Json(json!(GoalOut::from(&stored))))
}

/// `DELETE /api/projects/{id}/goals/{gid}`.
pub async fn delete(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    Path((_, gid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let project = access.project.id;
    let gone = blocking(move || Ok(app.store.delete_goal(project, gid)?)).await?;
    if !gone {
        return Err(no_goal(gid));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/projects/{id}/goals/conversions`: `from`, `to` (default the last
/// 30 days), `breakdown` (any field: `$channel`, `$utm_source`, a property...),
/// `limit` (values shown, 1 to 50, default 10).
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
    let limit = one(&params, "limit")?
        .map(|l| {
            l.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::BadRequest(format!("`limit` must be a number, not {l:?}")))
        })
        .transpose()?;
    let limit = breakdown_limit("limit", limit)?;
    let project = access.project.id;
    blocking(move || {
        let goals = app
            .store
            .goals(project)?
            .into_iter()
            .map(|g| {
                let step: StepBody = body::parse_json(g.definition.as_bytes())?;
                Ok(GoalSpec {
                    id: g.id,
                    name: g.name,
                    matcher: step.matcher("event")?,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
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
        fold(&app.store, &rows, |r| conversions.add(r))?;
        Ok(Json(serde_json::to_value(conversions.finish()).map_err(
            |e| ApiError::Internal(format!("conversions' answer: {e}")),
        )?))
    })
    .await
}
