//! Projects and their write keys, as the dashboard manages them:
//! `/api/projects`, `/api/projects/{id}/keys` and the project's retention,
//! `/api/projects/{id}/retention`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use spoor_core::secret;
use spoor_store::{
    DEFAULT_KEY_RATE_LIMIT, DEFAULT_PER_ADDRESS_RATE_LIMIT, KeyChange, KeyRecord, MAX_RATE_LIMIT,
    NewKey, Project, Role,
};
use utoipa::ToSchema;

use super::access;
use super::blocking;
use super::body;
use super::caller::{Caller, ProjectRead, ProjectWrite};
use super::error::{ApiError, ErrorBody};
use crate::app::App;

/// A project, with its organisation and the caller's role there.
#[derive(Serialize, ToSchema)]
#[schema(as = Project)]
pub struct ProjectOut {
    id: i64,
    name: String,
    org_id: i64,
    /// The organisation's name.
    org: String,
    role: Role,
    /// Whether its events keep the sender's whole IP address.
    keep_full_ip: bool,
    /// ms since the epoch.
    created_at: i64,
}

impl ProjectOut {
    fn new(p: Project, org: &str, role: Role) -> ProjectOut {
        ProjectOut {
            id: p.id,
            name: p.name,
            org_id: p.org_id,
            org: org.to_string(),
            role,
            keep_full_ip: p.keep_full_ip,
            created_at: p.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Projects {
    projects: Vec<ProjectOut>,
}

/// A write key as the API shows it: never the key itself, which only its
/// creation answers.
#[derive(Serialize, ToSchema)]
#[schema(as = Key)]
pub struct KeyOut {
    id: i64,
    project_id: i64,
    /// The project's name.
    project: String,
    name: String,
    /// The first 10 characters.
    prefix: String,
    /// Sites allowed to send with it (none: any).
    domains: Vec<String>,
    /// Requests a minute from every sender together.
    rate_limit_per_minute: u32,
    /// Requests a minute from one client address (an IPv6 /64; loopback and
    /// private addresses are not limited); 0: no such limit.
    per_address_rate_limit_per_minute: u32,
    active: bool,
    keep_full_ip: bool,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<KeyRecord> for KeyOut {
    fn from(k: KeyRecord) -> KeyOut {
        KeyOut {
            id: k.id,
            project_id: k.project_id,
            project: k.project,
            name: k.name,
            prefix: k.prefix,
            domains: k.domains,
            rate_limit_per_minute: k.rate_limit_per_minute,
            per_address_rate_limit_per_minute: k.per_address_rate_limit_per_minute,
            active: k.active,
            keep_full_ip: k.keep_full_ip,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Keys {
    keys: Vec<KeyOut>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key itself: shown here only.
    key: String,
    record: KeyOut,
}

/// How many days raw events and sessions are kept (0: for ever).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    #[schema(maximum = 36_500)]
    days: u32,
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

/// Projects of the caller's organisations.
#[utoipa::path(
    get,
    path = "/api/projects",
    tag = access::SIGNED_IN,
    responses((status = 200, description = "The projects", body = Projects)),
)]
pub async fn list(State(app): State<Arc<App>>, caller: Caller) -> Result<Json<Projects>, ApiError> {
    blocking(move || {
        let projects = app
            .store
            .projects()?
            .into_iter()
            .filter_map(|p| {
                let m = caller.memberships.iter().find(|m| m.org_id == p.org_id)?;
                Some(ProjectOut::new(p, &m.org, m.role))
            })
            .collect();
        Ok(Json(Projects { projects }))
    })
    .await
}

/// A new project.
#[derive(Deserialize, ToSchema)]
pub struct NewProject {
    /// The organisation it belongs to.
    org_id: i64,
    /// 1 to 100 characters.
    name: String,
}

/// Create a project (owner or admin).
#[utoipa::path(
    post,
    path = "/api/projects",
    tag = access::SIGNED_IN_WRITE,
    request_body = NewProject,
    responses(
        (status = 201, description = "Created", body = ProjectOut),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ),
)]
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
        Ok((StatusCode::CREATED, Json(ProjectOut::new(p, org, role))).into_response())
    })
    .await
}

/// A project's new name.
#[derive(Deserialize, ToSchema)]
#[schema(as = ProjectRename)]
pub struct Rename {
    /// 1 to 100 characters.
    name: String,
}

/// Rename a project.
#[utoipa::path(
    patch,
    path = "/api/projects/{id}",
    tag = access::PROJECT_WRITE,
    params(("id" = i64, Path, description = "Project id")),
    request_body = Rename,
    responses(
        (status = 200, description = "The project", body = ProjectOut),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ),
)]
pub async fn rename(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(id): Path<i64>,
    bytes: axum::body::Bytes,
) -> Result<Json<ProjectOut>, ApiError> {
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
        Ok(Json(ProjectOut::new(p, org, role)))
    })
    .await
}

/// The project's write keys.
#[utoipa::path(
    get,
    path = "/api/projects/{id}/keys",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The keys", body = Keys)),
)]
pub async fn keys(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Keys>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let keys = app.store.keys_of_project(id)?;
        Ok(Json(Keys {
            keys: keys.into_iter().map(KeyOut::from).collect(),
        }))
    })
    .await
}

/// A new write key.
#[derive(Deserialize, ToSchema)]
#[schema(as = NewKey)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// 1 to 100 characters.
    name: String,
    /// Sites allowed to send with it (`example.com`, `*.example.com`); none:
    /// any.
    #[serde(default)]
    domains: Vec<String>,
    // Read wide, so that a negative or huge limit is answered by name.
    /// Requests a minute from every sender together, 1 or more.
    rate_limit_per_minute: Option<i64>,
    /// Requests a minute from one client address; 0: no such limit.
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

/// Create a write key; the key is in this answer only.
#[utoipa::path(
    post,
    path = "/api/projects/{id}/keys",
    tag = access::PROJECT_WRITE,
    params(("id" = i64, Path, description = "Project id")),
    request_body = KeyRequest,
    responses((status = 201, description = "Created", body = CreatedKey)),
)]
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
            Json(CreatedKey {
                key,
                record: record.into(),
            }),
        )
            .into_response())
    })
    .await
}

/// A change to a key: what is sent changes, what is left out stays.
#[derive(Deserialize, ToSchema)]
#[schema(as = KeyChange)]
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

/// Change a key: its name, whether it is on, its allowed domains and its
/// limits (what is left out stays).
#[utoipa::path(
    patch,
    path = "/api/projects/{id}/keys/{key}",
    tag = access::PROJECT_WRITE,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("key" = i64, Path, description = "Key id"),
    ),
    request_body = KeyPatch,
    responses(
        (status = 200, description = "The key", body = KeyOut),
        (status = 404, description = "No such project or key", body = ErrorBody),
    ),
)]
pub async fn update_key(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((project, key)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<KeyOut>, ApiError> {
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
        Ok(Json(app.store.update_key(key, &change)?.into()))
    })
    .await
}

/// Delete a key (it gets 401 at once; its events stay).
#[utoipa::path(
    delete,
    path = "/api/projects/{id}/keys/{key}",
    tag = access::PROJECT_WRITE,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("key" = i64, Path, description = "Key id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such project or key", body = ErrorBody),
    ),
)]
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

/// How long the project keeps raw events and sessions (90 days unless set).
#[utoipa::path(
    get,
    path = "/api/projects/{id}/retention",
    tag = access::PROJECT_READ,
    params(("id" = i64, Path, description = "Project id")),
    responses((status = 200, description = "The retention", body = Retention)),
)]
pub async fn retention(
    State(app): State<Arc<App>>,
    access: ProjectRead,
) -> Result<Json<Retention>, ApiError> {
    let id = access.project.id;
    blocking(move || {
        let days = app.store.project_retention(id)?;
        Ok(Json(Retention { days }))
    })
    .await
}

/// Sets the retention; the daily project-retention job applies it.
// The daily `project-retention` job deletes what is older from then on.
#[utoipa::path(
    put,
    path = "/api/projects/{id}/retention",
    tag = access::PROJECT_WRITE,
    params(("id" = i64, Path, description = "Project id")),
    request_body = Retention,
    responses((status = 200, description = "The retention", body = Retention)),
)]
pub async fn set_retention(
    State(app): State<Arc<App>>,
    access: ProjectWrite,
    bytes: axum::body::Bytes,
) -> Result<Json<Retention>, ApiError> {
    let body: Retention = body::parse_json(&bytes)?;
    if body.days > MAX_RETENTION_DAYS {
        return Err(ApiError::BadRequest(format!(
            "days must be from 0 (keep for ever) to {MAX_RETENTION_DAYS}, not {}",
            body.days
        )));
    }
    blocking(move || {
        app.store
            .set_project_retention(access.project.id, body.days)?;
        Ok(Json(Retention { days: body.days }))
    })
    .await
}
