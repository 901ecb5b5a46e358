//! Signing in and out of the dashboard, the one-time set-up of the first owner,
//! and `GET /api/me`.
//!
//! A session is a random cookie value; the store keeps only its SHA-256, with
//! the user and a CSRF token. Sign-in attempts are reserved per account and
//! per client network before the password is checked, with a back-off that
//! grows past a few failures (`spoor_core::login_backoff`); passwords are
//! checked on threads of their own (`crate::password_pool`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use spoor_core::login_backoff::{self, Attempts, MAX_EMAIL_BYTES, Policy};
use spoor_core::{password, secret};
use spoor_store::{FirstOwner, Membership, Role, SessionsToEnd, Store, StoreError, User};
use utoipa::ToSchema;

use super::access;
use super::blocking;
use super::body;
use super::caller::{self, Caller, Identity, SESSION_COOKIE};
use super::error::{ApiError, ErrorBody};
use crate::app::App;

/// How long a session lasts.
const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
/// How long a set-up link works (restarting Spoor while no user exists makes a
/// new one).
pub const SETUP_TTL: Duration = Duration::from_secs(3600);
/// Sign-in and set-up bodies are a few fields; anything larger is not one.
const MAX_ACCOUNT_BODY: usize = 16 * 1024;
/// Keys the in-process count keeps at most (an email key is at most about
/// 260 bytes): past this, the least recently used key is forgotten first.
const MAX_THROTTLE_KEYS: usize = 16_384;

/// When the store has no users yet, makes a new set-up token valid for
/// [`SETUP_TTL`] (the previous one stops working) and returns it; `None` once
/// someone has signed up. Making any user ends the set-up.
pub fn setup_token(store: &Store) -> Result<Option<String>, StoreError> {
    if store.count_users()? > 0 {
        return Ok(None);
    }
    let token = secret::generate("su_");
    let ttl = i64::try_from(SETUP_TTL.as_millis()).unwrap_or(i64::MAX);
    store.set_setup_token(
        &secret::hash(&token),
        spoor_core::time::now_ms().saturating_add(ttl),
    )?;
    Ok(Some(token))
}

/// Sign-in attempts per account and per client network: in the shared store
/// when there is one (every node sees every attempt), else in this process.
pub struct LoginThrottle {
    local: Option<Mutex<HashMap<String, Attempts>>>,
}

/// How an attempt ended, for what is given back.
#[derive(Clone, Copy)]
enum Outcome {
    /// The password was right: the account starts again, the network gets
    /// its reservation back.
    SignedIn,
    /// The password was never checked (the server was busy): both get their
    /// reservation back.
    NotChecked,
}

impl LoginThrottle {
    pub fn new(shared_store: bool) -> LoginThrottle {
        LoginThrottle {
            local: (!shared_store).then(Mutex::default),
        }
    }

    /// The keys of an attempt and the policy of each.
    fn keys(email: &str, client: IpAddr) -> [(String, &'static Policy); 2] {
        [
            (format!("email:{email}"), &login_backoff::ACCOUNT),
            (
                format!("net:{}", spoor_core::ip::network(client)),
                &login_backoff::NETWORK,
            ),
        ]
    }

    /// Reserves an attempt under every key at once, or answers 429 with the
    /// longest wait. Nothing is counted when any key must wait.
    async fn reserve(
        &self,
        app: &App,
        keys: &[(String, &'static Policy); 2],
    ) -> Result<(), ApiError> {
        let now = spoor_core::time::now_ms();
        let policies = keys.each_ref().map(|(_, policy)| *policy);
        let decide = move |attempts: &mut [Attempts]| -> Result<(), i64> {
            let before: Vec<Attempts> = attempts.to_vec();
            let mut wait = 0;
            for (a, policy) in attempts.iter_mut().zip(policies) {
                if let Err(w) = a.reserve(now, policy) {
                    wait = wait.max(w);
                }
            }
            if wait > 0 {
                attempts.copy_from_slice(&before);
                return Err(wait);
            }
            Ok(())
        };
        let decided = match &self.local {
            Some(map) => {
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                make_room(&mut map, keys, now);
                let mut attempts: Vec<Attempts> = keys
                    .iter()
                    .map(|(k, _)| map.get(k).copied().unwrap_or_default())
                    .collect();
                let decided = decide(&mut attempts);
                for ((k, _), a) in keys.iter().zip(attempts) {
                    map.insert(k.clone(), a);
                }
                decided
            }
            None => {
                let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
                let store = app.store.clone();
                app.network_call(move || {
                    let mut decided = Ok(());
                    store
                        .login_attempts(&names, &mut |a| decided = decide(a))
                        .map(|()| decided)
                })
                .await??
            }
        };
        decided.map_err(|wait_ms| ApiError::RateLimited {
            retry_after_secs: u64::try_from(wait_ms.saturating_add(999) / 1000)
                .unwrap_or(1)
                .max(1),
            message: "too many failed sign-ins for this account or from this network; wait for the Retry-After seconds".into(),
        })
    }

    /// Gives back what an attempt that did not fail reserved.
    async fn settle(&self, app: &App, keys: &[(String, &'static Policy); 2], outcome: Outcome) {
        let give_back = move |attempts: &mut [Attempts]| {
            for (i, a) in attempts.iter_mut().enumerate() {
                match (&outcome, i) {
                    (Outcome::SignedIn, 0) => a.succeeded(),
                    _ => a.refund(),
                }
            }
        };
        match &self.local {
            Some(map) => {
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                let mut attempts: Vec<Attempts> = keys
                    .iter()
                    .map(|(k, _)| map.get(k).copied().unwrap_or_default())
                    .collect();
                give_back(&mut attempts);
                for ((k, _), a) in keys.iter().zip(attempts) {
                    map.insert(k.clone(), a);
                }
            }
            None => {
                let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
                let store = app.store.clone();
                let settled = app
                    .network_call(move || store.login_attempts(&names, &mut |a| give_back(a)))
                    .await;
                if !matches!(settled, Ok(Ok(()))) {
                    tracing::warn!("a sign-in's reserved attempt could not be given back");
                }
            }
        }
    }
}

/// Keeps the in-process map within its bound before new keys go in: first
/// forgets keys past their window, then the least recently used.
fn make_room(map: &mut HashMap<String, Attempts>, keys: &[(String, &'static Policy); 2], now: i64) {
    let new_keys = keys.iter().filter(|(k, _)| !map.contains_key(k)).count();
    if map.len() + new_keys <= MAX_THROTTLE_KEYS {
        return;
    }
    map.retain(|_, a| !a.forgotten(now, &login_backoff::NETWORK));
    while map.len() + new_keys > MAX_THROTTLE_KEYS {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, a)| a.last_ms)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        map.remove(&oldest);
    }
}

/// An email and a password.
#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    email: String,
    password: String,
}

/// The first owner, with the one-time link's token.
#[derive(Deserialize, ToSchema)]
pub struct Setup {
    token: String,
    email: String,
    /// At least 12 characters.
    password: String,
    /// The organisation's name.
    org: String,
}

/// A person, as the API shows them.
#[derive(Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserOut {
    id: i64,
    email: String,
}

impl From<&User> for UserOut {
    fn from(user: &User) -> UserOut {
        UserOut {
            id: user.id,
            email: user.email.clone(),
        }
    }
}

/// An organisation the caller is in, and their role there.
#[derive(Serialize, ToSchema)]
#[schema(as = Membership)]
pub struct MembershipOut {
    id: i64,
    name: String,
    role: Role,
}

impl From<&Membership> for MembershipOut {
    fn from(m: &Membership) -> MembershipOut {
        MembershipOut {
            id: m.org_id,
            name: m.org.clone(),
            role: m.role,
        }
    }
}

/// A browser signed in: the session cookie is set.
#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    user: UserOut,
    /// Sent as X-CSRF-Token with every change made with the cookie.
    csrf_token: String,
    /// The organisation just joined, when an invitation made the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<MembershipOut>,
}

/// Who calls: a signed-in person (with their CSRF token) or an admin token.
#[derive(Serialize, ToSchema)]
pub struct Me {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserOut>,
    /// An admin token's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    orgs: Vec<MembershipOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
}

/// A browser where the person is signed in.
#[derive(Serialize, ToSchema)]
pub struct WebSessionOut {
    /// 16 hexadecimal characters.
    id: String,
    created_at: i64,
    expires_at: i64,
    /// Whether it is the one asking.
    current: bool,
}

/// Sessions ended.
#[derive(Serialize, ToSchema)]
pub struct Revoked {
    pub(super) revoked: u64,
}

#[derive(Serialize, ToSchema)]
pub struct WebSessions {
    sessions: Vec<WebSessionOut>,
}

/// An email as typed, trimmed and lowercase, refused when longer than any
/// address can be (before it is counted, kept or looked up).
pub(super) fn email_of(typed: &str) -> Result<String, ApiError> {
    let email = typed.trim();
    if email.len() > MAX_EMAIL_BYTES {
        return Err(ApiError::BadRequest(format!(
            "an email address is at most {MAX_EMAIL_BYTES} bytes; this one is {}",
            email.len()
        )));
    }
    Ok(email.to_lowercase())
}

/// The email of an account about to be made: [`email_of`], and an address.
pub(super) fn new_account_email(typed: &str) -> Result<String, ApiError> {
    let email = email_of(typed)?;
    if !email.contains('@') {
        return Err(ApiError::BadRequest(format!(
            "{email:?} is not an email address"
        )));
    }
    Ok(email)
}

/// The sign-in or set-up body: small, and within the body deadline.
pub(super) async fn account_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = body::read_raw(
        body,
        headers,
        MAX_ACCOUNT_BODY,
        "send only the form's fields",
    )
    .await?;
    body::parse_json(&bytes)
}

/// Starts a session for the user and answers with the cookie set.
fn signed_in(store: &Store, user: &User, secure: bool) -> Result<Response, ApiError> {
    signed_in_with(store, user, secure, None)
}

/// [`signed_in`], with the organisation an invitation joined.
pub(super) fn signed_in_with(
    store: &Store,
    user: &User,
    secure: bool,
    org: Option<MembershipOut>,
) -> Result<Response, ApiError> {
    let cookie = secret::generate("");
    let csrf_token = secret::generate("");
    let ttl = i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX);
    store.create_web_session(
        &secret::hash(&cookie),
        user.id,
        &csrf_token,
        spoor_core::time::now_ms() + ttl,
    )?;
    store.record_login(user.id)?;
    let set_cookie = format!(
        "{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    let answer = SignedIn {
        user: user.into(),
        csrf_token,
        org,
    };
    let mut response = Json(answer).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set_cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(response)
}

/// Whether the browser reached Spoor over HTTPS (directly or through a proxy
/// that says so), so the cookie should be marked Secure.
pub(super) fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The client's address, through the trusted proxies when there are any.
fn client_ip(app: &App, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let xff = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    spoor_core::ip::client_ip(peer.ip(), xff, app.config.proxy_hops)
}

/// Sign in.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = access::ANYONE,
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in; sets the session cookie", body = SignedIn),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins; see Retry-After", body = ErrorBody),
    ),
)]
pub async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let creds: Credentials = account_body(&headers, body).await?;
    let email = email_of(&creds.email)?;
    let keys = LoginThrottle::keys(&email, client_ip(&app, peer, &headers));
    app.login_throttle.reserve(&app, &keys).await?;
    let secure = over_https(&headers);
    let store = app.store.clone();
    let found = match blocking(move || Ok(store.user_login(&email)?)).await {
        Ok(found) => found,
        Err(e) => {
            app.login_throttle
                .settle(&app, &keys, Outcome::NotChecked)
                .await;
            return Err(e);
        }
    };
    // Known or not, exactly one hash is checked, with the same parameters, so
    // a wrong address takes as long to refuse as a wrong password and does not
    // reveal who has an account.
    let (user, stored) = match found {
        Some((user, stored)) => (Some(user), stored),
        None => (None, DUMMY_HASH.clone()),
    };
    let typed = creds.password;
    let matched = match app
        .password_pool
        .run(move || password::verify(&typed, &stored))
        .await
    {
        Ok(matched) => matched,
        Err(e) => {
            app.login_throttle
                .settle(&app, &keys, Outcome::NotChecked)
                .await;
            return Err(e);
        }
    };
    match user.filter(|_| matched) {
        Some(user) => {
            app.login_throttle
                .settle(&app, &keys, Outcome::SignedIn)
                .await;
            let store = app.store.clone();
            blocking(move || signed_in(&store, &user, secure)).await
        }
        None => Err(ApiError::Unauthorized("wrong email or password".into())),
    }
}

/// A hash of a password nobody has, checked when the email is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password::hash(&secret::generate("")));

/// Create the first owner with the one-time link printed by spoor serve.
#[utoipa::path(
    post,
    path = "/api/auth/setup",
    tag = access::ANYONE,
    request_body = Setup,
    responses(
        (status = 200, description = "Signed in; sets the session cookie", body = SignedIn),
        (status = 403, description = "The link is not valid (anymore)", body = ErrorBody),
    ),
)]
pub async fn setup(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let s: Setup = account_body(&headers, body).await?;
    let secure = over_https(&headers);
    let refused = || {
        ApiError::Forbidden(
            "this set-up link is not valid (anymore): it works once, for an hour, while no user exists; \
             restart Spoor for a new one, or create users with `spoor users create`"
                .into(),
        )
    };
    let token_hash = secret::hash(&s.token);
    // A wrong or stale link is refused before any password is hashed.
    let store = app.store.clone();
    let hash = token_hash.clone();
    if !blocking(move || Ok(store.setup_open(&hash, spoor_core::time::now_ms())?)).await? {
        return Err(refused());
    }
    let email = new_account_email(&s.email)?;
    password::check_new(&s.password).map_err(ApiError::BadRequest)?;
    let org = s.org.trim().to_string();
    if org.is_empty() || org.chars().count() > 100 {
        return Err(ApiError::BadRequest(
            "name the organisation, in at most 100 characters".into(),
        ));
    }
    let typed = s.password;
    let password_hash = app.password_pool.hash(typed).await?;
    let store = app.store.clone();
    blocking(move || {
        let owner = FirstOwner {
            token_hash: &token_hash,
            email: &email,
            password_hash: &password_hash,
            org: &org,
            now: spoor_core::time::now_ms(),
        };
        // The token, its expiry and that no user exists are checked again in
        // the transaction that makes the owner: two set-ups racing with one
        // link, or a user made meanwhile, leave exactly one way in.
        let user = store.create_first_owner(&owner)?.ok_or_else(refused)?;
        signed_in(&store, &user, secure)
    })
    .await
}

/// Sign out.
// Ends the session the cookie names, and clears the cookie. A cookie whose
// session has ended already (signed out elsewhere, reset, expired) is
// cleared too, so the browser is not left holding it.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = access::SIGNED_IN_WRITE,
    responses((status = 204, description = "Signed out; the cookie is cleared")),
)]
pub async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(cookie) = caller::session_cookie(&headers) {
        let store = app.store.clone();
        blocking(
            move || match caller::identify(&store, &headers, &axum::http::Method::POST) {
                Ok(_) => Ok(store.delete_web_session(&secret::hash(&cookie))?),
                Err(ApiError::Unauthorized(_)) => Ok(()),
                Err(e) => Err(e),
            },
        )
        .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("spoor_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

/// The caller, their organisations and roles, and the CSRF token.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = access::SIGNED_IN,
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Not signed in, or an unknown admin token", body = ErrorBody),
    ),
)]
pub async fn me(caller: Caller) -> Json<Me> {
    let orgs = caller.memberships.iter().map(MembershipOut::from).collect();
    Json(match &caller.identity {
        Identity::Person { user, csrf_token } => Me {
            user: Some(user.into()),
            token: None,
            orgs,
            csrf_token: Some(csrf_token.clone()),
        },
        Identity::Token { name } => Me {
            user: None,
            token: Some(name.clone()),
            orgs,
            csrf_token: None,
        },
    })
}

/// The id a session is shown by: the start of its hash, enough to tell a
/// person's sessions apart, never the cookie.
const SESSION_ID_CHARS: usize = 16;

/// The signed-in person and the hash of their session's cookie; an admin
/// token is refused what only a person has.
fn person(caller: &Caller, headers: &HeaderMap) -> Result<(User, String), ApiError> {
    match (&caller.identity, caller::session_cookie(headers)) {
        (Identity::Person { user, .. }, Some(cookie)) => Ok((user.clone(), secret::hash(&cookie))),
        _ => Err(ApiError::Forbidden(
            "an admin token has no password or sessions: sign in to the dashboard as a person"
                .into(),
        )),
    }
}

/// The current password and the new one.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Change your password (the current one is checked, and counted like a
/// sign-in); every other session of yours ends.
#[utoipa::path(
    post,
    path = "/api/me/password",
    tag = access::PERSON_WRITE,
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 429, description = "Too many failed tries; see Retry-After", body = ErrorBody),
    ),
)]
pub async fn change_password(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let (user, session) = person(&caller, &headers)?;
    let change: PasswordChange = account_body(&headers, body).await?;
    password::check_new(&change.new_password).map_err(ApiError::BadRequest)?;
    let keys = LoginThrottle::keys(&user.email, client_ip(&app, peer, &headers));
    app.login_throttle.reserve(&app, &keys).await?;
    let store = app.store.clone();
    let email = user.email.clone();
    let stored = match blocking(move || Ok(store.user_login(&email)?)).await {
        Ok(Some((_, stored))) => stored,
        Ok(None) => {
            app.login_throttle
                .settle(&app, &keys, Outcome::NotChecked)
                .await;
            return Err(ApiError::Unauthorized(
                "sign in first (POST /api/auth/login)".into(),
            ));
        }
        Err(e) => {
            app.login_throttle
                .settle(&app, &keys, Outcome::NotChecked)
                .await;
            return Err(e);
        }
    };
    let typed = change.current_password;
    let fresh = change.new_password;
    let hashed = app
        .password_pool
        .run(move || password::verify(&typed, &stored).then(|| password::hash(&fresh)))
        .await;
    let new_hash = match hashed {
        Ok(Some(new_hash)) => new_hash,
        Ok(None) => {
            return Err(ApiError::Forbidden(
                "the current password is wrong; nothing was changed".into(),
            ));
        }
        Err(e) => {
            app.login_throttle
                .settle(&app, &keys, Outcome::NotChecked)
                .await;
            return Err(e);
        }
    };
    app.login_throttle
        .settle(&app, &keys, Outcome::SignedIn)
        .await;
    let store = app.store.clone();
    blocking(move || {
        store.set_password(user.id, &new_hash, Some(&session))?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

/// Where you are signed in, newest first.
#[utoipa::path(
    get,
    path = "/api/me/sessions",
    tag = access::PERSON_READ,
    responses((status = 200, description = "Your sessions", body = WebSessions)),
)]
pub async fn sessions(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<WebSessions>, ApiError> {
    let (user, current) = person(&caller, &headers)?;
    blocking(move || {
        let sessions = app
            .store
            .web_sessions_of(user.id, spoor_core::time::now_ms())?
            .iter()
            .map(|s| WebSessionOut {
                id: s.id_hash[..SESSION_ID_CHARS.min(s.id_hash.len())].to_string(),
                created_at: s.created_at,
                expires_at: s.expires_at,
                current: s.id_hash == current,
            })
            .collect();
        Ok(Json(WebSessions { sessions }))
    })
    .await
}

/// Sign out every session of yours but this one.
#[utoipa::path(
    delete,
    path = "/api/me/sessions",
    tag = access::PERSON_WRITE,
    responses((status = 200, description = "Signed out", body = Revoked)),
)]
pub async fn end_other_sessions(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<Revoked>, ApiError> {
    let (user, current) = person(&caller, &headers)?;
    blocking(move || {
        let revoked = app
            .store
            .end_web_sessions(user.id, SessionsToEnd::AllBut(&current))?;
        Ok(Json(Revoked { revoked }))
    })
    .await
}

/// Sign out one of your sessions (this one included).
#[utoipa::path(
    delete,
    path = "/api/me/sessions/{session}",
    tag = access::PERSON_WRITE,
    params(("session" = String, Path, description = "A session's id, as listed")),
    responses((status = 204, description = "Signed out")),
)]
pub async fn end_session(
    State(app): State<Arc<App>>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (user, _) = person(&caller, &headers)?;
    // Exactly an id as listed: lowercase hex of the listed length, so that a
    // shorter prefix cannot end several sessions at once.
    if id.len() != SESSION_ID_CHARS || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ApiError::BadRequest(format!(
            "a session id is {SESSION_ID_CHARS} lowercase hexadecimal characters, as GET /api/me/sessions lists them"
        )));
    }
    blocking(move || {
        match app
            .store
            .end_web_sessions(user.id, SessionsToEnd::Starting(&id))?
        {
            0 => Err(ApiError::NotFound(format!("you have no session {id}"))),
            _ => Ok(StatusCode::NO_CONTENT),
        }
    })
    .await
}
