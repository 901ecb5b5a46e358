//! What a link an owner handed out lets its holder do, signed in or not:
//! accept an invitation (`/api/invites/{token}`, `/api/invites/accept`) and
//! set a new password through a reset link (`/api/auth/reset`).
//!
//! The links' tokens are random; the store keeps only their SHA-256, and each
//! works once, until it expires. A token that is wrong, used or expired is
//! answered the same way, so the answer says nothing about which.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use spoor_core::{password, secret};
use spoor_store::{Joined, Joiner, Membership, Role};
use utoipa::ToSchema;

use super::access;
use super::account::{
    MembershipOut, SignedIn, UserOut, account_body, new_account_email, over_https, signed_in_with,
};
use super::blocking;
use super::caller::{self, Identity};
use super::error::{ApiError, ErrorBody};
use crate::app::App;

fn now() -> i64 {
    spoor_core::time::now_ms()
}

/// The longest token any link holds; longer is not one, and is not hashed.
const MAX_TOKEN_BYTES: usize = 128;

fn token_hash(token: &str) -> Result<String, ApiError> {
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(ApiError::BadRequest(format!(
            "send the token from the link (at most {MAX_TOKEN_BYTES} characters)"
        )));
    }
    Ok(secret::hash(token))
}

fn invite_not_valid() -> ApiError {
    ApiError::NotFound(
        "this invitation link is not valid (anymore): each works once, for 7 days; ask an owner for a new one"
            .into(),
    )
}

fn reset_not_valid() -> ApiError {
    ApiError::NotFound(
        "this password-reset link is not valid (anymore): each works once, for an hour; ask an owner for a new one"
            .into(),
    )
}

/// What an invitation link offers.
#[derive(Serialize, ToSchema)]
pub struct InviteOffer {
    /// The organisation's name.
    org: String,
    role: Role,
    /// Only this address may accept, when set.
    email: Option<String>,
    expires_at: i64,
}

/// Joined: the organisation, and for a new account its sign-in.
// As `SignedIn` for a new account; for a person signed in already, only
// `org`.
#[derive(Serialize, ToSchema)]
pub struct JoinedOrg {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    org: MembershipOut,
}

/// Whose password a reset link sets.
#[derive(Serialize, ToSchema)]
pub struct ResetFor {
    email: String,
}

/// What an invitation link offers.
#[utoipa::path(
    get,
    path = "/api/invites/{token}",
    tag = access::ANYONE,
    params(("token" = String, Path, description = "The link's token")),
    responses((status = 200, description = "The invitation", body = InviteOffer)),
)]
pub async fn invite(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
) -> Result<Json<InviteOffer>, ApiError> {
    let hash = token_hash(&token)?;
    blocking(move || {
        let invite = app
            .store
            .invite(&hash, now())?
            .ok_or_else(invite_not_valid)?;
        Ok(Json(InviteOffer {
            org: invite.org,
            role: invite.role,
            email: invite.email,
            expires_at: invite.expires_at,
        }))
    })
    .await
}

/// An invitation's token; with an email and a password, for a new account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    token: String,
    email: Option<String>,
    password: Option<String>,
}

/// Accept an invitation: as the signed-in person (with the session cookie and
/// its CSRF token), or with an email and a password as a new account, then
/// signed in.
#[utoipa::path(
    post,
    path = "/api/invites/accept",
    tag = access::JOINING,
    request_body = Acceptance,
    responses(
        (status = 200, description = "Joined; a new account is signed in (sets the session cookie)", body = JoinedOrg),
        (status = 409, description = "The email has an account already: sign in first", body = ErrorBody),
    ),
)]
pub async fn accept(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let a: Acceptance = account_body(&headers, body).await?;
    let hash = token_hash(&a.token)?;
    let secure = over_https(&headers);
    // A live session decides: the signed-in person joins, and a change made
    // with the cookie carries its CSRF token. A cookie whose session has ended
    // counts as none.
    let signed_in = match caller::session_cookie(&headers) {
        Some(_) => {
            let store = app.store.clone();
            match blocking(move || caller::identify(&store, &headers, &Method::POST)).await {
                Ok(caller) => Some(caller),
                Err(ApiError::Unauthorized(_)) => None,
                Err(e) => return Err(e),
            }
        }
        None => None,
    };
    if let Some(caller) = signed_in {
        let Identity::Person { user, .. } = caller.identity else {
            return Err(ApiError::Forbidden("sign in as a person to accept".into()));
        };
        let store = app.store.clone();
        let joined =
            blocking(move || Ok(store.accept_invite(&hash, Joiner::Existing(user.id), now())?))
                .await?;
        let (_, membership) = refused(joined, &user.email)?;
        let joined = JoinedOrg {
            user: None,
            csrf_token: None,
            org: MembershipOut::from(&membership),
        };
        return Ok(Json(joined).into_response());
    }
    let (Some(email), Some(typed)) = (a.email, a.password) else {
        return Err(ApiError::BadRequest(
            "send an email and a password for your new account, or sign in first and accept again"
                .into(),
        ));
    };
    let email = new_account_email(&email)?;
    password::check_new(&typed).map_err(ApiError::BadRequest)?;
    // The link is checked before the password is hashed, so that a wrong one
    // costs no hashing.
    let store = app.store.clone();
    let h = hash.clone();
    if blocking(move || Ok(store.invite(&h, now())?))
        .await?
        .is_none()
    {
        return Err(invite_not_valid());
    }
    let password_hash = app.password_pool.hash(typed).await?;
    let store = app.store.clone();
    blocking(move || {
        let joiner = Joiner::New {
            email: &email,
            password_hash: &password_hash,
        };
        let joined = store.accept_invite(&hash, joiner, now())?;
        let (user, membership) = refused(joined, &email)?;
        signed_in_with(
            &store,
            &user,
            secure,
            Some(MembershipOut::from(&membership)),
        )
    })
    .await
}

/// The member, or why the invitation was not accepted.
fn refused(joined: Joined, email: &str) -> Result<(spoor_store::User, Membership), ApiError> {
    match joined {
        Joined::Member(user, membership) => Ok((user, membership)),
        Joined::NotValid => Err(invite_not_valid()),
        Joined::OtherEmail => Err(ApiError::Forbidden(format!(
            "this invitation is for another email address than {email:?}; ask the owner who sent it"
        ))),
        Joined::AlreadyMember => Err(ApiError::Conflict(
            "you are a member of this organisation already".into(),
        )),
        Joined::EmailTaken => Err(ApiError::Conflict(format!(
            "{email:?} has an account already: sign in, then open the link again"
        ))),
    }
}

/// Whose password a reset link sets.
#[utoipa::path(
    get,
    path = "/api/auth/reset/{token}",
    tag = access::ANYONE,
    params(("token" = String, Path, description = "The link's token")),
    responses((status = 200, description = "The link's person", body = ResetFor)),
)]
pub async fn reset_link(
    State(app): State<Arc<App>>,
    Path(token): Path<String>,
) -> Result<Json<ResetFor>, ApiError> {
    let hash = token_hash(&token)?;
    blocking(move || {
        let user = app
            .store
            .password_reset_user(&hash, now())?
            .ok_or_else(reset_not_valid)?;
        Ok(Json(ResetFor { email: user.email }))
    })
    .await
}

/// A reset link's token and the new password.
#[derive(Deserialize, ToSchema)]
#[schema(as = PasswordReset)]
#[serde(deny_unknown_fields)]
pub struct Reset {
    token: String,
    password: String,
}

/// Set a new password through a reset link: every earlier session of the
/// person ends, and this browser is signed in.
#[utoipa::path(
    post,
    path = "/api/auth/reset",
    tag = access::ANYONE,
    request_body = Reset,
    responses((status = 200, description = "Signed in; sets the session cookie", body = SignedIn)),
)]
pub async fn reset(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let r: Reset = account_body(&headers, body).await?;
    let hash = token_hash(&r.token)?;
    password::check_new(&r.password).map_err(ApiError::BadRequest)?;
    let secure = over_https(&headers);
    let store = app.store.clone();
    let h = hash.clone();
    if blocking(move || Ok(store.password_reset_user(&h, now())?))
        .await?
        .is_none()
    {
        return Err(reset_not_valid());
    }
    let typed = r.password;
    let password_hash = app.password_pool.hash(typed).await?;
    let store = app.store.clone();
    blocking(move || {
        let user = store
            .reset_password(&hash, &password_hash, now())?
            .ok_or_else(reset_not_valid)?;
        signed_in_with(&store, &user, secure, None)
    })
    .await
}
