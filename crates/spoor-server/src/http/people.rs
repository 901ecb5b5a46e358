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
use serde::{Deserialize, Serialize};
use spoor_core::secret;
use spoor_store::{
    Invite, Member, MemberChange, NewInvite, NewToken, Org, Role, SessionsToEnd, Store, TokenRecord,
};

use super::access;
use super::account::{Revoked, email_of};
use super::blocking;
use super::body;
use super::caller::{Caller, Identity, session_cookie};
use super::error::{ApiError, ErrorBody};
use super::projects::check_name;
use crate::app::App;
use utoipa::ToSchema;

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

/// An organisation, with the caller's role there. Times are ms since the
/// epoch.
#[derive(Serialize, ToSchema)]
#[schema(as = Org)]
pub struct OrgOut {
    id: i64,
    name: String,
    role: Role,
    created_at: i64,
}

impl OrgOut {
    fn new(org: &Org, role: Role) -> OrgOut {
        OrgOut {
            id: org.id,
            name: org.name.clone(),
            role,
            created_at: org.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Orgs {
    orgs: Vec<OrgOut>,
}

/// A member of an organisation.
#[derive(Serialize, ToSchema)]
#[schema(as = Member)]
pub struct MemberOut {
    user_id: i64,
    email: String,
    role: Role,
    created_at: i64,
    last_login_at: Option<i64>,
    /// Whether this is the caller.
    you: bool,
}

impl MemberOut {
    fn new(m: &Member, caller: &Caller) -> MemberOut {
        MemberOut {
            user_id: m.user_id,
            email: m.email.clone(),
            role: m.role,
            created_at: m.created_at,
            last_login_at: m.last_login_at,
            you: matches!(&caller.identity, Identity::Person { user, .. } if user.id == m.user_id),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Members {
    members: Vec<MemberOut>,
}

/// A pending invitation.
#[derive(Serialize, ToSchema)]
#[schema(as = Invite)]
pub struct InviteOut {
    id: i64,
    role: Role,
    /// Only this address may accept, when set.
    email: Option<String>,
    /// Who made it.
    created_by: Option<String>,
    created_at: i64,
    expires_at: i64,
}

impl From<&Invite> for InviteOut {
    fn from(i: &Invite) -> InviteOut {
        InviteOut {
            id: i.id,
            role: i.role,
            email: i.email.clone(),
            created_by: i.created_by.clone(),
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Invites {
    invites: Vec<InviteOut>,
}

/// An invitation just made, with its link's token: shown only now.
#[derive(Serialize, ToSchema)]
pub struct InviteMade {
    #[serde(flatten)]
    invite: InviteOut,
    token: String,
}

/// An admin token, never the token itself.
#[derive(Serialize, ToSchema)]
#[schema(as = AdminToken)]
pub struct TokenOut {
    id: i64,
    name: String,
    /// The token's first characters, to recognise it.
    prefix: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<&TokenRecord> for TokenOut {
    fn from(t: &TokenRecord) -> TokenOut {
        TokenOut {
            id: t.id,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdminTokens {
    tokens: Vec<TokenOut>,
}

/// An admin token just made, with the token itself: shown only now.
#[derive(Serialize, ToSchema)]
pub struct AdminTokenMade {
    #[serde(flatten)]
    record: TokenOut,
    token: String,
}

/// A password-reset link's token: shown only now.
#[derive(Serialize, ToSchema)]
pub struct ResetMade {
    token: String,
    expires_at: i64,
}

/// A role as sent in a body.
fn role_of(sent: &str) -> Result<Role, ApiError> {
    Role::parse(sent).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "role must be \"owner\", \"admin\" or \"viewer\", not {sent:?}"
        ))
    })
}

/// The caller's organisations and roles.
#[utoipa::path(
    get,
    path = "/api/orgs",
    tag = access::ORG_READ,
    responses((status = 200, description = "Organisations", body = Orgs)),
)]
pub async fn list_orgs(
    State(app): State<Arc<App>>,
    caller: Caller,
) -> Result<Json<Orgs>, ApiError> {
    blocking(move || {
        let orgs = app
            .store
            .orgs()?
            .iter()
            .filter_map(|o| Some(OrgOut::new(o, caller.role_in(o.id)?)))
            .collect();
        Ok(Json(Orgs { orgs }))
    })
    .await
}

/// A new organisation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
}

/// Make an organisation, owned by the signed-in person (an admin token
/// belongs to one organisation and cannot).
#[utoipa::path(
    post,
    path = "/api/orgs",
    tag = access::PERSON_WRITE,
    request_body = NewOrg,
    responses(
        (status = 201, description = "Made", body = OrgOut),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ),
)]
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
        Ok((StatusCode::CREATED, Json(OrgOut::new(&org, Role::Owner))).into_response())
    })
    .await
}

/// An organisation's members (any member reads them).
#[utoipa::path(
    get,
    path = "/api/orgs/{org}/members",
    tag = access::ORG_READ,
    params(("org" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "Members", body = Members)),
)]
pub async fn members(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(org): Path<i64>,
) -> Result<Json<Members>, ApiError> {
    caller.member_of(org)?;
    blocking(move || {
        let members = app
            .store
            .org_members(org)?
            .iter()
            .map(|m| MemberOut::new(m, &caller))
            .collect();
        Ok(Json(Members { members }))
    })
    .await
}

/// The member, read back after a change.
fn member_of_org(
    store: &Store,
    org: i64,
    user: i64,
    caller: &Caller,
) -> Result<MemberOut, ApiError> {
    store
        .org_members(org)?
        .iter()
        .find(|m| m.user_id == user)
        .map(|m| MemberOut::new(m, caller))
        .ok_or_else(|| {
            ApiError::NotFound(format!("user {user} is not a member of this organisation"))
        })
}

/// A member's new role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    #[schema(value_type = Role)]
    role: String,
}

/// Change a member's role (owners only); never leaves the organisation
/// without an owner.
#[utoipa::path(
    patch,
    path = "/api/orgs/{org}/members/{user}",
    tag = access::ORG_WRITE,
    params(
        ("org" = i64, Path, description = "Organisation id"),
        ("user" = i64, Path, description = "The member's user id"),
    ),
    request_body = RoleChange,
    responses(
        (status = 200, description = "Changed", body = MemberOut),
        (status = 409, description = "It would leave the organisation without an owner", body = ErrorBody),
    ),
)]
pub async fn change_role(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((org, user)): Path<(i64, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<MemberOut>, ApiError> {
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

/// Remove a member (owners), or leave (anyone); never the last owner.
#[utoipa::path(
    delete,
    path = "/api/orgs/{org}/members/{user}",
    tag = access::ORG_WRITE,
    params(
        ("org" = i64, Path, description = "Organisation id"),
        ("user" = i64, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "It would leave the organisation without an owner", body = ErrorBody),
    ),
)]
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

/// A one-time password-reset link's token for a member, valid for an hour
/// (a signed-in owner of every organisation the member is in); the link is
/// /#/reset?token=TOKEN.
#[utoipa::path(
    post,
    path = "/api/orgs/{org}/members/{user}/password-reset",
    tag = access::PERSON_WRITE,
    params(
        ("org" = i64, Path, description = "Organisation id"),
        ("user" = i64, Path, description = "The member's user id"),
    ),
    responses((status = 201, description = "Made; shown only now", body = ResetMade)),
)]
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
        Ok((StatusCode::CREATED, Json(ResetMade { token, expires_at })).into_response())
    })
    .await
}

/// Sign a member out of every browser (an owner of every organisation the
/// member is in; the caller's own session stays).
#[utoipa::path(
    delete,
    path = "/api/orgs/{org}/members/{user}/sessions",
    tag = access::ORG_WRITE,
    params(
        ("org" = i64, Path, description = "Organisation id"),
        ("user" = i64, Path, description = "The member's user id"),
    ),
    responses((status = 200, description = "Signed out", body = Revoked)),
)]
pub async fn end_member_sessions(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    Path((org, user)): Path<(i64, i64)>,
) -> Result<Json<Revoked>, ApiError> {
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
        Ok(Json(Revoked { revoked }))
    })
    .await
}

/// An organisation's pending invitations (owners).
#[utoipa::path(
    get,
    path = "/api/orgs/{org}/invites",
    tag = access::ORG_READ,
    params(("org" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "Invitations", body = Invites)),
)]
pub async fn invites(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(org): Path<i64>,
) -> Result<Json<Invites>, ApiError> {
    caller.owner_of(org)?;
    blocking(move || {
        let invites = app
            .store
            .invites(org, now())?
            .iter()
            .map(InviteOut::from)
            .collect();
        Ok(Json(Invites { invites }))
    })
    .await
}

/// An invitation to make.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    #[schema(value_type = Role)]
    role: String,
    /// Only this address may accept, when set.
    #[serde(default)]
    email: Option<String>,
}

/// Invite someone by link (owners): valid for 7 days, once; with an email,
/// only that address may accept.
#[utoipa::path(
    post,
    path = "/api/orgs/{org}/invites",
    tag = access::ORG_WRITE,
    params(("org" = i64, Path, description = "Organisation id")),
    request_body = InviteRequest,
    responses((status = 201, description = "Made", body = InviteMade)),
)]
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
        let answer = InviteMade {
            invite: (&invite).into(),
            token,
        };
        Ok((StatusCode::CREATED, Json(answer)).into_response())
    })
    .await
}

/// Revoke an invitation (owners).
#[utoipa::path(
    delete,
    path = "/api/orgs/{org}/invites/{invite}",
    tag = access::ORG_WRITE,
    params(
        ("org" = i64, Path, description = "Organisation id"),
        ("invite" = i64, Path, description = "Invitation id"),
    ),
    responses((status = 204, description = "Revoked")),
)]
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

/// An organisation's admin tokens (owners and admins).
#[utoipa::path(
    get,
    path = "/api/orgs/{org}/tokens",
    tag = access::ORG_READ,
    params(("org" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "Tokens", body = AdminTokens)),
)]
pub async fn tokens(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(org): Path<i64>,
) -> Result<Json<AdminTokens>, ApiError> {
    caller.org_to_change(org)?;
    blocking(move || {
        let tokens = app
            .store
            .tokens_of_org(org)?
            .iter()
            .map(TokenOut::from)
            .collect();
        Ok(Json(AdminTokens { tokens }))
    })
    .await
}

/// An admin token to make.
#[derive(Deserialize, ToSchema)]
#[schema(as = NewAdminToken)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
}

/// Make an admin token for the organisation (owners and admins); it acts as
/// an admin, and is shown only now.
#[utoipa::path(
    post,
    path = "/api/orgs/{org}/tokens",
    tag = access::ORG_WRITE,
    params(("org" = i64, Path, description = "Organisation id")),
    request_body = TokenRequest,
    responses((status = 201, description = "Made", body = AdminTokenMade)),
)]
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
        let answer = AdminTokenMade {
            record: (&record).into(),
            token,
        };
        Ok((StatusCode::CREATED, Json(answer)).into_response())
    })
    .await
}

/// Revoke an admin token (owners and admins): it is refused at once.
#[utoipa::path(
    delete,
    path = "/api/orgs/{org}/tokens/{token}",
    tag = access::ORG_WRITE,
    params(
        ("org" = i64, Path, description = "Organisation id"),
        ("token" = i64, Path, description = "Admin token id"),
    ),
    responses((status = 204, description = "Revoked")),
)]
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
