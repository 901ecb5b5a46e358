//! Who is calling the dashboard API: a person signed in with a session cookie,
//! or a script with an admin token. Either way the caller has a role in some
//! organisations and sees only their projects; anything else is answered 404,
//! as if it did not exist.
//!
//! Cross-site request forgery: the session cookie is `SameSite=Strict`, so other
//! sites' pages cannot send it; and every state-changing request made with the
//! cookie must also carry the session's CSRF token in `X-CSRF-Token`, which
//! only the dashboard's own pages can read. Admin tokens travel in a header that
//! browsers never add by themselves, so they need no CSRF token.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use spoor_core::secret;
use spoor_store::{Membership, Project, Role, Store, User};
use subtle::ConstantTimeEq;

use super::auth;
use super::error::ApiError;
use crate::app::App;

pub const SESSION_COOKIE: &str = "spoor_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub enum Identity {
    Person { user: User, csrf_token: String },
    Token { name: String },
}

pub struct Caller {
    pub identity: Identity,
    pub memberships: Vec<Membership>,
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_string())
        })
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Identifies the caller; blocking (store calls), so run off the async workers.
pub(super) fn identify(
    store: &Store,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Caller, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        let token = auth::admin(store, headers)?;
        let org = store
            .orgs()?
            .into_iter()
            .find(|o| o.id == token.org_id)
            .ok_or_else(|| ApiError::Unauthorized("this token's organisation is gone".into()))?;
        return Ok(Caller {
            identity: Identity::Token { name: token.name },
            memberships: vec![Membership {
                org_id: org.id,
                org: org.name,
                role: Role::Admin,
            }],
        });
    }
    let not_signed_in = || ApiError::Unauthorized("sign in first (POST /api/auth/login)".into());
    let cookie = session_cookie(headers).ok_or_else(not_signed_in)?;
    let session = store
        .web_session(&secret::hash(&cookie))?
        .ok_or_else(not_signed_in)?;
    if changes_state(method) {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(session.csrf_token.as_bytes())) {
            return Err(ApiError::Forbidden(
                "missing or wrong X-CSRF-Token: send the csrf_token from GET /api/me with every change"
                    .into(),
            ));
        }
    }
    let user = store.user(session.user_id)?.ok_or_else(not_signed_in)?;
    Ok(Caller {
        memberships: store.memberships(user.id)?,
        identity: Identity::Person {
            user,
            csrf_token: session.csrf_token,
        },
    })
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Caller, ApiError> {
        let (store, headers, method) = (
            app.store.clone(),
            parts.headers.clone(),
            parts.method.clone(),
        );
        super::blocking(move || identify(&store, &headers, &method)).await
    }
}

impl Caller {
    pub fn role_in(&self, org_id: i64) -> Option<Role> {
        self.memberships
            .iter()
            .find(|m| m.org_id == org_id)
            .map(|m| m.role)
    }

    /// The project, if it belongs to one of the caller's organisations; 404
    /// otherwise, so that other organisations' projects cannot be discovered.
    /// With `to_change`, a viewer gets 403.
    pub fn project(
        &self,
        store: &Store,
        id: i64,
        to_change: bool,
    ) -> Result<(Project, Role), ApiError> {
        let missing = || ApiError::NotFound(format!("no project with id {id}"));
        // Only a project that is not there is a 404: a store that cannot
        // answer says so (503), rather than deny that the project exists.
        let project = store.project_by_id(id).map_err(|e| match e {
            spoor_store::StoreError::NotFound(_) => missing(),
            e => ApiError::from(e),
        })?;
        let role = self.role_in(project.org_id).ok_or_else(missing)?;
        if to_change && !role.may_change() {
            return Err(ApiError::Forbidden(
                "viewers cannot change anything; ask an owner or admin of the organisation".into(),
            ));
        }
        Ok((project, role))
    }

    /// The organisation, if the caller may change things in it.
    pub fn org_to_change(&self, org_id: i64) -> Result<Role, ApiError> {
        let role = self
            .role_in(org_id)
            .ok_or_else(|| ApiError::NotFound(format!("no organisation with id {org_id}")))?;
        if !role.may_change() {
            return Err(ApiError::Forbidden(
                "viewers cannot change anything; ask an owner or admin of the organisation".into(),
            ));
        }
        Ok(role)
    }
}

/// The project the path's `{id}` names, which the caller may read. A handler
/// that takes it cannot reach the project without the check, and the check
/// runs before anything else the handler reads, its body included: another
/// organisation's project and one that does not exist are answered alike.
pub struct ProjectRead {
    pub project: Project,
    pub role: Role,
}

/// The project the path's `{id}` names, which the caller may change (a
/// viewer is answered 403).
pub struct ProjectWrite {
    pub project: Project,
}

/// The caller's project named by the path's `{id}`.
async fn project_in_path(
    parts: &mut Parts,
    app: &Arc<App>,
    to_change: bool,
) -> Result<(Project, Role), ApiError> {
    let caller = Caller::from_request_parts(parts, app).await?;
    let params = RawPathParams::from_request_parts(parts, app)
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let raw = params
        .iter()
        .find_map(|(name, value)| (name == "id").then_some(value))
        .ok_or_else(|| ApiError::Internal("a project route without {id} in its path".into()))?;
    let id: i64 = raw.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "the project id in the path is not a number: {raw:?}"
        ))
    })?;
    let store = app.store.clone();
    super::blocking(move || caller.project(&store, id, to_change)).await
}

impl FromRequestParts<Arc<App>> for ProjectRead {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let (project, role) = project_in_path(parts, app, false).await?;
        Ok(ProjectRead { project, role })
    }
}

impl FromRequestParts<Arc<App>> for ProjectWrite {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let (project, _) = project_in_path(parts, app, true).await?;
        Ok(ProjectWrite { project })
    }
}
