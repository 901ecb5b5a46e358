//! An organisation's people and keys to its API, as its owners and admins
//! manage them: `/api/orgs` (the caller's organisations, and making one),
//! `/api/orgs/{org}/members` (roles, removal, password-reset links, ending a
//! member's sessions), `/api/orgs/{org}/invites` and `/api/orgs/{org}/tokens`.
//!
//! Who may do what: any member reads the members list; owners manage people
//! (invitations, roles, removal, resets, sessions); owners and admins manage
//! admin tokens, which themselves act as admins. An organisation the caller is
//! not in is answered 404, like a project. The store refuses, in the
//! transaction that would do it, any change that leaves an organisation
//! without an owner. A password reset or ending someone's sessions reaches
//! beyond one organisation (a person has one password), so it needs an owner
//! of every organisation the member belongs to.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use spoor_core::secret;
use spoor_store::{
    Invite, Member, MemberChange, NewInvite, NewToken, Org, Role, SessionsToEnd, Store, TokenRecord,
};

use super::account::email_of;
use super::blocking;
use super::body;
use super::caller::{Caller, Identity, session_cookie};
use super::error::ApiError;
use super::projects::check_name;
use crate::app::App;

/// How long an invitation link works.
pub const INVITE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a password-reset link works.
pub const RESET_TTL: Duration = Duration::from_secs(3600);
/// The prefix of invitation tokens, so that a pasted one is recognisable.
pub const INVITE_PREFIX: &str = "inv_";
/// The prefix of password-reset tokens.
pub const RESET_PREFIX: &str = "pr_";

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn now() -> i64 {
    spoor_core::time::now_ms()
}

impl Caller {
    /// The caller's role in the organisation; 404 when they are not in it.
    fn member_of(&self, org_id: i64) -> Result<Role, ApiError> {
        self.role_in(org_id)
            .ok_or_else(|| ApiError::NotFound(format!("no organisation with id {org_id}")))
    }

    /// The organisation, if the caller is one of its owners.
    fn owner_of(&self, org_id: i64) -> Result<(), ApiError> {
        match self.member_of(org_id)? {
            Role::Owner => Ok(()),
            _ => Err(ApiError::Forbidden(
                "only an owner of the organisation manages its people; ask one of its owners"
                    .into(),
            )),
        }
    }

    /// The signed-in person, for what an admin token may not do.
    fn person(&self, what: &str) -> Result<i64, ApiError> {
        match &self.identity {
            Identity::Person { user, .. } => Ok(user.id),
            Identity::Token { .. } => Err(ApiError::Forbidden(format!(
                "an admin token cannot {what}: sign in to the dashboard as a person"
            ))),
        }
    }
}

fn org_json(org: &Org, role: Role) -> Value {
    json!({ "id": org.id, "name": org.name, "role": role, "created_at": org.created_at })
}

fn member_json(m: &Member, caller: &Caller) -> Value {
    let you = matches!(&caller.identity, Identity::Person { user, .. } if user.id == m.user_id);
    json!({
        "user_id": m.user_id,
        "email": m.email,
        "role": m.role,
        "created_at": m.created_at,
        "last_login_at": m.last_login_at,
        "you": you,
    })
}

fn invite_json(i: &Invite) -> Value {
    json!({
        "id": i.id,
        "role": i.role,
        "email": i.email,
        "created_by": i.created_by,
        "created_at": i.created_at,
        "expires_at": i.expires_at,
    })
}

fn token_json(t: &TokenRecord) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "prefix": t.prefix,
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
    })
}

/// A role as sent in a body.
fn role_of(sent: &str) -> Result<Role, ApiError> {
    Role::parse(sent).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "role must be \"owner\", \"admin\" or \"viewer\", not {sent:?}"
        ))
    })
}

pub async fn list_orgs(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let orgs: Vec<Value> = app
            .store
            .orgs()?
            .iter()
            .filter_map(|o| Some(org_json(o, caller.role_in(o.id)?)))
            .collect();
        Ok(Json(json!({ "orgs": orgs })))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    name: String,
}

pub async fn create_org(
    State(app): State<Arc<App>>,
    caller: Caller,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let new: NewOrg = body::parse_json(&bytes)?;
    let user_id = caller.person("create an organisation")?;
    let name = check_name(&new.name, "organisation")?;
    blocking(move || {
        let org = app.store.create_org_owned_by(&name, user_id, now())?;
        Ok((StatusCode::CREATED, Json(org_json(&org, Role::Owner))).into_response())
    })
    .await
}

pub async fn members(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(org): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    caller.member_of(org)?;
    blocking(move || {
        let members: Vec<Value> = app
            .store
            .org_members(org)?
            .iter()
            .map(|m| member_json(m, &caller))
            .collect();
        Ok(Json(json!({ "members": members })))
    })
    .await
}

/// The member, read back after a change.
fn member_of_org(store: &Store, org: i64, user: i64, caller: &Caller) -> Result<Value, ApiError> {
    store
        .org_members(org)?
        .iter()
        .find(|m| m.user_id == user)
        .map(|m| member_json(m, caller))
        .ok_or_else(|| {
            ApiError::NotFound(format!("user {user} is not a member of this organisation"))
        })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: String,
}

pub async fn change_role(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((org, user)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // The organisation is checked before the body is read: another
    // organisation's is answered as one that does not exist, whatever is sent.
    caller.owner_of(org)?;
    let change: RoleChange = body::parse_json(&bytes)?;
    let role = role_of(&change.role)?;
    blocking(move || {
        app.store
            .change_member(org, user, MemberChange::Role(role))?;
        Ok(Json(member_of_org(&app.store, org, user, &caller)?))
    })
    .await
}

pub async fn remove_member(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((org, user)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    // Anyone may leave; only owners remove others.
    let leaving = matches!(&caller.identity, Identity::Person { user: me, .. } if me.id == user);
    if leaving {
        caller.member_of(org)?;
    } else {
        caller.owner_of(org)?;
    }
    blocking(move || {
        app.store.change_member(org, user, MemberChange::Remove)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// A member whose every organisation the caller owns: only then may the
/// caller act on what the member has across them (their password, their
/// sessions).
fn wholly_owned_member(
    store: &Store,
    caller: &Caller,
    org: i64,
    user: i64,
) -> Result<(), ApiError> {
    caller.owner_of(org)?;
    let theirs = store.memberships(user)?;
    if !theirs.iter().any(|m| m.org_id == org) {
        return Err(ApiError::NotFound(format!(
            "user {user} is not a member of this organisation"
        )));
    }
    if let Some(other) = theirs
        .iter()
        .find(|m| caller.role_in(m.org_id) != Some(Role::Owner))
    {
        return Err(ApiError::Forbidden(format!(
            "this person also belongs to {:?}, which you do not own: an owner of every organisation they are in must do this",
            other.org
        )));
    }
    Ok(())
}

pub async fn password_reset(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((org, user)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let by = caller.person("reset a password")?;
    blocking(move || {
        wholly_owned_member(&app.store, &caller, org, user)?;
        let token = secret::generate(RESET_PREFIX);
        let expires_at = now().saturating_add(ms(RESET_TTL));
        app.store
            .create_password_reset(user, &secret::hash(&token), Some(by), expires_at)?;
        Ok((
            StatusCode::CREATED,
            Json(json!({ "token": token, "expires_at": expires_at })),
        )
            .into_response())
    })
    .await
}

pub async fn end_member_sessions(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    Path((org, user)): Path<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    // An owner who picks themselves keeps the session they asked from, as
    // `DELETE /api/me/sessions` does.
    let own = match (&caller.identity, session_cookie(&headers)) {
        (Identity::Person { user: me, .. }, Some(cookie)) if me.id == user => {
            Some(secret::hash(&cookie))
        }
        _ => None,
    };
    blocking(move || {
        wholly_owned_member(&app.store, &caller, org, user)?;
        let which = own
            .as_deref()
            .map_or(SessionsToEnd::All, SessionsToEnd::AllBut);
        let revoked = app.store.end_web_sessions(user, which)?;
        Ok(Json(json!({ "revoked": revoked })))
    })
    .await
}

pub async fn invites(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(org): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    caller.owner_of(org)?;
    blocking(move || {
        let invites: Vec<Value> = app
            .store
            .invites(org, now())?
            .iter()
            .map(invite_json)
            .collect();
        Ok(Json(json!({ "invites": invites })))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    role: String,
    #[serde(default)]
    email: Option<String>,
}

pub async fn create_invite(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(org): Path<i64>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.owner_of(org)?;
    let req: InviteRequest = body::parse_json(&bytes)?;
    let role = role_of(&req.role)?;
    let email = match req.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(typed) => Some(email_of(typed)?),
    };
    let by = match &caller.identity {
        Identity::Person { user, .. } => Some(user.id),
        Identity::Token { .. } => None,
    };
    blocking(move || {
        let token = secret::generate(INVITE_PREFIX);
        let token_hash = secret::hash(&token);
        let now = now();
        let invite = app.store.create_invite(&NewInvite {
            org_id: org,
            token_hash: &token_hash,
            role,
            email: email.as_deref(),
            created_by: by,
            now,
            expires_at: now.saturating_add(ms(INVITE_TTL)),
        })?;
        let mut answer = invite_json(&invite);
        answer["token"] = json!(token);
        Ok((StatusCode::CREATED, Json(answer)).into_response())
    })
    .await
}

pub async fn delete_invite(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((org, invite)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.owner_of(org)?;
    blocking(move || {
        app.store.delete_invite(org, invite)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

pub async fn tokens(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(org): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    caller.org_to_change(org)?;
    blocking(move || {
        let tokens: Vec<Value> = app
            .store
            .tokens_of_org(org)?
            .iter()
            .map(token_json)
            .collect();
        Ok(Json(json!({ "tokens": tokens })))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    name: String,
}

pub async fn create_token(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(org): Path<i64>,
    bytes: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.org_to_change(org)?;
    let req: TokenRequest = body::parse_json(&bytes)?;
    let name = check_name(&req.name, "token")?;
    blocking(move || {
        let token = secret::generate(secret::ADMIN_TOKEN_PREFIX);
        let record = app.store.create_token(&NewToken {
            org_id: org,
            name,
            hash: secret::hash(&token),
            prefix: secret::shown_prefix(&token),
        })?;
        let mut answer = token_json(&record);
        answer["token"] = json!(token);
        Ok((StatusCode::CREATED, Json(answer)).into_response())
    })
    .await
}

pub async fn delete_token(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((org, token)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.org_to_change(org)?;
    blocking(move || {
        app.store.delete_token(org, token)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
