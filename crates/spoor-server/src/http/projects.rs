//! Projects and their write keys, as the dashboard manages them:
//! `/api/projects`, `/api/projects/{id}/keys` and the project's retention,
//! `/api/projects/{id}/retention`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_core::secret;
use spoor_store::{
    DEFAULT_KEY_RATE_LIMIT, DEFAULT_PER_ADDRESS_RATE_LIMIT, KeyChange, MAX_RATE_LIMIT, NewKey,
    Project, Role,
};

use super::blocking;
use super::body;
use super::caller::{Caller, ProjectRead, ProjectWrite};
use super::error::ApiError;
use crate::app::App;

fn project_json(p: &Project, org: &str, role: Role) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "org_id": p.org_id,
        "org": org,
        "role": role,
        "keep_full_ip": p.keep_full_ip,
        "created_at": p.created_at,
    })
}

pub(super) fn check_name(name: &str, what: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::BadRequest(format!(
            "give the {what} a name of 1 to 100 characters"
        )));
    }
    Ok(name.to_string())
}

pub async fn list(State(app): State<Arc<App>>, caller: Caller) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let projects: Vec<Value> = app
            .store
            .projects()?
            .iter()
            .filter_map(|p| {
                let m = caller.memberships.iter().find(|m| m.org_id == p.org_id)?;
                Some(project_json(p, &m.org, m.role))
            })
            .collect();
        Ok(Json(json!({ "projects": projects })))
    })
    .await
}

#[derive(Deserialize)]
pub struct NewProject {
    org_id: i64,
    name: String,
}

pub async fn create(
    State(app): State<Arc<App>>,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let new: NewProject = body::parse_json(&bytes)?;
    blocking(move || {
        let role = caller.org_to_change(new.org_id)?;
        let name = check_name(&new.name, "project")?;
        let p = app.store.create_project(new.org_id, &name)?;
        let org = caller
            .memberships
            .iter()
            .find(|m| m.org_id == p.org_id)
            .map_or("", |m| m.org.as_str());
        Ok((StatusCode::CREATED, Json(project_json(&p, org, role))).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct Rename {
    name: String,
}

pub async fn rename(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<i64>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let change: Rename = body::parse_json(&bytes)?;
    blocking(move || {
        let (_, role) = caller.project(&app.store, id, true)?;
        let name = check_name(&change.name, "project")?;
        let p = app.store.rename_project(id, &name)?;
        let org = caller
            .memberships
            .iter()
            .find(|m| m.org_id == p.org_id)
            .map_or("", |m| m.org.as_str());
        Ok(Json(project_json(&p, org, role)))
    })
    .await
}

pub async fn keys(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    blocking(move || Ok(Json(json!({ "keys": app.store.keys_of_project(id)? })))).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    name: String,
    #[serde(default)]
    domains: Vec<String>,
    // Read wide, so that a negative or huge limit is answered by name.
    rate_limit_per_minute: Option<i64>,
    per_address_rate_limit_per_minute: Option<i64>,
}

/// A key's limit as sent, checked: from `least` to [`MAX_RATE_LIMIT`].
fn check_limit(name: &str, sent: Option<i64>, least: u32) -> Result<Option<u32>, ApiError> {
    let Some(l) = sent else { return Ok(None) };
    u32::try_from(l)
        .ok()
        .filter(|l| (least..=MAX_RATE_LIMIT).contains(l))
        .map(Some)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{name} must be from {least}{} to {MAX_RATE_LIMIT}, not {l}",
                if least == 0 { " (no limit)" } else { "" }
            ))
        })
}

/// Both of a key's limits: its own at least 1, the per-address one at least
/// 0 (off).
fn check_limits(
    own: Option<i64>,
    per_address: Option<i64>,
) -> Result<(Option<u32>, Option<u32>), ApiError> {
    Ok((
        check_limit("rate_limit_per_minute", own, 1)?,
        check_limit("per_address_rate_limit_per_minute", per_address, 0)?,
    ))
}

pub async fn create_key(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<i64>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: KeyRequest = body::parse_json(&bytes)?;
    blocking(move || {
        caller.project(&app.store, id, true)?;
        let name = check_name(&req.name, "key")?;
        let (limit, per_address) = check_limits(
            req.rate_limit_per_minute,
            req.per_address_rate_limit_per_minute,
        )?;
        let domains = spoor_core::domains::parse(&req.domains).map_err(ApiError::BadRequest)?;
        let key = secret::generate(secret::WRITE_KEY_PREFIX);
        let record = app.store.create_key(&NewKey {
            project_id: id,
            name,
            hash: secret::hash(&key),
            prefix: secret::shown_prefix(&key),
            domains,
            rate_limit_per_minute: limit.unwrap_or(DEFAULT_KEY_RATE_LIMIT),
            per_address_rate_limit_per_minute: per_address
                .unwrap_or(DEFAULT_PER_ADDRESS_RATE_LIMIT),
        })?;
        Ok((
            StatusCode::CREATED,
            Json(json!({ "key": key, "record": record })),
        )
            .into_response())
    })
    .await
}

/// `PATCH .../keys/{key}`: what is sent changes, what is left out stays.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPatch {
    name: Option<String>,
    active: Option<bool>,
    domains: Option<Vec<String>>,
    rate_limit_per_minute: Option<i64>,
    per_address_rate_limit_per_minute: Option<i64>,
}

/// The key, if it belongs to the project (which the caller may change).
fn key_of(app: &App, caller: &Caller, project: i64, key: i64) -> Result<(), ApiError> {
    caller.project(&app.store, project, true)?;
    if app
        .store
        .keys_of_project(project)?
        .iter()
        .any(|k| k.id == key)
    {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "no key with id {key} in project {project}"
        )))
    }
}

pub async fn update_key(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((project, key)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let patch: KeyPatch = body::parse_json(&bytes)?;
    blocking(move || {
        key_of(&app, &caller, project, key)?;
        let (limit, per_address) = check_limits(
            patch.rate_limit_per_minute,
            patch.per_address_rate_limit_per_minute,
        )?;
        let change = KeyChange {
            name: patch
                .name
                .as_deref()
                .map(|n| check_name(n, "key"))
                .transpose()?,
            active: patch.active,
            domains: patch
                .domains
                .as_deref()
                .map(spoor_core::domains::parse)
                .transpose()
                .map_err(ApiError::BadRequest)?,
            rate_limit_per_minute: limit,
            per_address_rate_limit_per_minute: per_address,
        };
        Ok(Json(json!(app.store.update_key(key, &change)?)))
    })
    .await
}

pub async fn delete_key(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((project, key)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        key_of(&app, &caller, project, key)?;
        app.store.delete_key(key)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// The longest retention that can be set: a hundred years.
const MAX_RETENTION_DAYS: u32 = 36_500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetentionBody {
    days: u32,
}

/// `GET /api/projects/{id}/retention`: how many days raw events and sessions
/// are kept (0: for ever).
pub async fn retention(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Value>, ApiError> {
    let id = access.project.id;
    blocking(move || Ok(Json(json!({ "days": app.store.project_retention(id)? })))).await
}

/// `PUT /api/projects/{id}/retention` with `{"days": N}`: the daily
/// `project-retention` job deletes what is older from then on.
pub async fn set_retention(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: RetentionBody = body::parse_json(&bytes)?;
    if body.days > MAX_RETENTION_DAYS {
        return Err(ApiError::BadRequest(format!(
            "days must be from 0 (keep for ever) to {MAX_RETENTION_DAYS}, not {}",
            body.days
        )));
    }
    blocking(move || {
        app.store
            .set_project_retention(access.project.id, body.days)?;
        Ok(Json(json!({ "days": body.days })))
    })
    .await
}
