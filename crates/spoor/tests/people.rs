//! Managing people over HTTP, on the test store (SQLite, or PostgreSQL with
//! `SPOOR_TEST_STORE=postgres`): invitations by link (for a new account or a
//! signed-in person, once, for the named email only), roles and removal with
//! the last owner kept, password-reset links and password changes ending
//! sessions, a person's own sessions, admin tokens listed, made and revoked,
//! organisations made; and every one of these routes keeps to the caller's
//! organisations, with the bounds of what a link or an id may be.

mod common;

use common::accounts::{Session, add_user, login, sign_in, signed_in};
use common::{Spoor, status_json};
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "a long enough password";

async fn org_id(session: &Session, name: &str) -> i64 {
    let (status, orgs) = session.get("/api/orgs").await;
    assert_eq!(status, 200, "{orgs}");
    orgs["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {orgs}"))["id"]
        .as_i64()
        .unwrap()
}

async fn members(session: &Session, org: i64) -> Vec<(String, String)> {
    let (status, body) = session.get(&format!("/api/orgs/{org}/members")).await;
    assert_eq!(status, 200, "{body}");
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn user_id(session: &Session, org: i64, email: &str) -> i64 {
    let (_, body) = session.get(&format!("/api/orgs/{org}/members")).await;
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .unwrap_or_else(|| panic!("{email} in {body}"))["user_id"]
        .as_i64()
        .unwrap()
}

/// A request without a session: what a link's holder sends.
async fn public(s: &Spoor, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut r = s.http.request(method, format!("{}{path}", s.url));
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

async fn delete(session: &Session, path: &str) -> (u16, Value) {
    session.call(Method::DELETE, path, None).await
}

#[tokio::test]
async fn an_owner_invites_by_link_changes_roles_and_removes_members_but_never_the_last_owner() {
    let s = Spoor::start().await;
    add_user(&s, "owner@acme.test", "default", "owner");
    let owner = sign_in(&s, "owner@acme.test").await;
    let org = org_id(&owner, "default").await;

    // An invitation for a viewer, by link; the link's holder sees what it offers.
    let (status, invite) = owner
        .post(
            &format!("/api/orgs/{org}/invites"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(status, 201, "{invite}");
    let token = invite["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("inv_"), "{invite}");
    assert_eq!(invite["created_by"], "owner@acme.test");
    let (_, pending) = owner.get(&format!("/api/orgs/{org}/invites")).await;
    assert_eq!(pending["invites"].as_array().unwrap().len(), 1, "{pending}");
    assert!(
        pending["invites"][0].get("token").is_none(),
        "a listed invitation never shows its token"
    );
    let (status, offer) =
        status_json(public(&s, Method::GET, &format!("/api/invites/{token}"), None).await).await;
    assert_eq!(
        (status, offer["org"].as_str(), offer["role"].as_str()),
        (200, Some("default"), Some("viewer")),
        "{offer}"
    );

    // A new account accepts it and is signed in as a viewer.
    let (status, short) = status_json(
        public(
            &s,
            Method::POST,
            "/api/invites/accept",
            Some(json!({"token": token, "email": "vera@acme.test", "password": "short"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{short}");
    assert!(
        short["error"].as_str().unwrap().contains("at least"),
        "{short}"
    );
    let (vera, joined) = signed_in(
        &s,
        public(
            &s,
            Method::POST,
            "/api/invites/accept",
            Some(json!({"token": token, "email": "Vera@Acme.test", "password": PASSWORD})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            joined["org"]["name"].as_str(),
            joined["org"]["role"].as_str()
        ),
        (Some("default"), Some("viewer")),
        "{joined}"
    );
    assert_eq!(
        members(&owner, org).await,
        [
            ("owner@acme.test".to_string(), "owner".to_string()),
            ("vera@acme.test".to_string(), "viewer".to_string())
        ]
    );
    // The link worked once.
    let (status, again) = status_json(
        public(
            &s,
            Method::POST,
            "/api/invites/accept",
            Some(json!({"token": token, "email": "mallory@acme.test", "password": PASSWORD})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "{again}");
    let (_, pending) = owner.get(&format!("/api/orgs/{org}/invites")).await;
    assert_eq!(
        pending["invites"],
        json!([]),
        "an accepted invitation is gone"
    );

    // A viewer reads the members but manages no one.
    let (_, listed) = vera.get(&format!("/api/orgs/{org}/members")).await;
    let me: Vec<&Value> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["you"] == true)
        .collect();
    assert_eq!(me.len(), 1);
    assert_eq!(me[0]["email"], "vera@acme.test");
    let (status, refused) = vera
        .post(
            &format!("/api/orgs/{org}/invites"),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("owner"),
        "{refused}"
    );
    let (status, _) = vera.get(&format!("/api/orgs/{org}/tokens")).await;
    assert_eq!(status, 403);

    // The owner makes the viewer an admin, who then manages tokens (not people).
    let vera_id = user_id(&owner, org, "vera@acme.test").await;
    let (status, changed) = owner
        .call(
            Method::PATCH,
            &format!("/api/orgs/{org}/members/{vera_id}"),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(
        (status, changed["role"].as_str()),
        (200, Some("admin")),
        "{changed}"
    );
    let (_, me) = vera.get("/api/me").await;
    assert_eq!(
        me["orgs"][0]["role"], "admin",
        "the change holds at once: {me}"
    );
    let (status, _) = vera.get(&format!("/api/orgs/{org}/tokens")).await;
    assert_eq!(status, 200);
    let (status, _) = vera
        .call(
            Method::PATCH,
            &format!("/api/orgs/{org}/members/{vera_id}"),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(status, 403, "an admin cannot make themselves an owner");
    let (status, bad) = owner
        .call(
            Method::PATCH,
            &format!("/api/orgs/{org}/members/{vera_id}"),
            Some(json!({"role": "root"})),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert!(
        bad["error"].as_str().unwrap().contains("\"viewer\""),
        "{bad}"
    );

    // The last owner can neither step down nor leave nor be removed.
    let owner_id = user_id(&owner, org, "owner@acme.test").await;
    for (method, body) in [
        (Method::PATCH, Some(json!({"role": "admin"}))),
        (Method::DELETE, None),
    ] {
        let (status, refused) = owner
            .call(
                method.clone(),
                &format!("/api/orgs/{org}/members/{owner_id}"),
                body,
            )
            .await;
        assert_eq!(status, 409, "{method}: {refused}");
        assert!(
            refused["error"].as_str().unwrap().contains("last owner"),
            "{refused}"
        );
    }
    assert_eq!(members(&owner, org).await[0].1, "owner");
    // With a second owner, the first may step down.
    owner
        .call(
            Method::PATCH,
            &format!("/api/orgs/{org}/members/{vera_id}"),
            Some(json!({"role": "owner"})),
        )
        .await;
    let (status, _) = owner
        .call(
            Method::PATCH,
            &format!("/api/orgs/{org}/members/{owner_id}"),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = vera
        .call(
            Method::PATCH,
            &format!("/api/orgs/{org}/members/{owner_id}"),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(status, 200);

    // An invitation naming an email: only that address may take it, and a
    // signed-in person joins without a new account.
    add_user(&s, "sam@elsewhere.test", "elsewhere", "owner");
    let sam = sign_in(&s, "sam@elsewhere.test").await;
    let (_, named) = owner
        .post(
            &format!("/api/orgs/{org}/invites"),
            json!({"role": "viewer", "email": "Sam@Elsewhere.test"}),
        )
        .await;
    assert_eq!(named["email"], "sam@elsewhere.test", "{named}");
    let named = named["token"].as_str().unwrap();
    let (status, other) = vera
        .post("/api/invites/accept", json!({"token": named}))
        .await;
    assert_eq!(status, 403, "the invitation is for sam: {other}");
    let (_, open) = owner
        .post(
            &format!("/api/orgs/{org}/invites"),
            json!({"role": "viewer"}),
        )
        .await;
    let (status, member) = vera
        .post("/api/invites/accept", json!({"token": open["token"]}))
        .await;
    assert_eq!(status, 409, "vera is a member already: {member}");
    assert!(
        member["error"].as_str().unwrap().contains("already"),
        "{member}"
    );
    let (status, taken) = status_json(
        public(
            &s,
            Method::POST,
            "/api/invites/accept",
            Some(json!({"token": named, "email": "sam@elsewhere.test", "password": PASSWORD})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 409, "{taken}");
    assert!(
        taken["error"].as_str().unwrap().contains("sign in"),
        "{taken}"
    );
    let (_, anyone) = owner
        .post(
            &format!("/api/orgs/{org}/invites"),
            json!({"role": "viewer", "email": "x@y.test"}),
        )
        .await;
    let (status, wrong) = sam
        .post("/api/invites/accept", json!({"token": anyone["token"]}))
        .await;
    assert_eq!(status, 403, "{wrong}");
    let without_csrf = s
        .http
        .post(format!("{}/api/invites/accept", s.url))
        .header("cookie", format!("spoor_session={}", sam.cookie))
        .json(&json!({"token": named}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        without_csrf.status(),
        403,
        "a signed-in acceptance carries its CSRF token"
    );
    let (status, joined) = sam
        .post("/api/invites/accept", json!({"token": named}))
        .await;
    assert_eq!(
        (status, joined["org"]["role"].as_str()),
        (200, Some("viewer")),
        "{joined}"
    );
    // An invitation is revoked by deleting it.
    let (status, _) = delete(&owner, &format!("/api/orgs/{org}/invites/{}", anyone["id"])).await;
    assert_eq!(status, 204);
    let (status, _) = status_json(
        public(
            &s,
            Method::GET,
            &format!("/api/invites/{}", anyone["token"].as_str().unwrap()),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);

    // Removed, a member loses the organisation's projects at once; leaving
    // is open to anyone.
    let (_, projects) = sam.get("/api/projects").await;
    let default_project = projects["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["org"] == "default")
        .unwrap()["id"]
        .clone();
    let sam_id = user_id(&owner, org, "sam@elsewhere.test").await;
    let (status, _) = delete(&owner, &format!("/api/orgs/{org}/members/{sam_id}")).await;
    assert_eq!(status, 204);
    let (status, _) = sam
        .get(&format!("/api/projects/{default_project}/overview"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = sam.get(&format!("/api/orgs/{org}/members")).await;
    assert_eq!(status, 404, "not a member: the organisation is not there");
    let (status, _) = delete(&vera, &format!("/api/orgs/{org}/members/{vera_id}")).await;
    assert_eq!(status, 204, "vera leaves");
    assert_eq!(members(&owner, org).await.len(), 1);

    // Another organisation's owner is told nothing: its routes answer as for
    // an organisation that does not exist.
    let elsewhere = org_id(&sam, "elsewhere").await;
    for path in ["members", "invites", "tokens"] {
        let (theirs, a) = owner.get(&format!("/api/orgs/{elsewhere}/{path}")).await;
        let (none, b) = owner.get(&format!("/api/orgs/987654/{path}")).await;
        assert_eq!((theirs, none), (404, 404), "{path}: {a} {b}");
    }
    let (status, _) = owner
        .call(
            Method::PATCH,
            &format!("/api/orgs/{elsewhere}/members/{sam_id}"),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn passwords_are_reset_by_link_or_changed_and_sessions_end() {
    let s = Spoor::start().await;
    add_user(&s, "owner@acme.test", "default", "owner");
    add_user(&s, "max@acme.test", "default", "viewer");
    let owner = sign_in(&s, "owner@acme.test").await;
    let org = org_id(&owner, "default").await;
    let max_laptop = sign_in(&s, "max@acme.test").await;
    let max_phone = sign_in(&s, "max@acme.test").await;
    let max_id = user_id(&owner, org, "max@acme.test").await;

    // A person lists where they are signed in, and ends one session.
    let (_, listed) = max_laptop.get("/api/me/sessions").await;
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(phone_id.len(), 16);
    let (status, _) = delete(
        &max_laptop,
        &format!("/api/me/sessions/{}", &phone_id[..15]),
    )
    .await;
    assert_eq!(
        status, 400,
        "a shorter id than listed could end several sessions"
    );
    let (status, _) = delete(&max_laptop, &format!("/api/me/sessions/{phone_id}")).await;
    assert_eq!(status, 204);
    let (status, _) = max_phone.get("/api/me").await;
    assert_eq!(status, 401, "the phone is signed out");
    let (status, _) = delete(&max_laptop, &format!("/api/me/sessions/{phone_id}")).await;
    assert_eq!(status, 404);
    // A browser holding an ended session's cookie counts as signed out: signing
    // out clears the cookie, and an invitation opened there makes an account.
    let stale = format!("spoor_session={}", max_phone.cookie);
    let r = s
        .http
        .post(format!("{}/api/auth/logout", s.url))
        .header("cookie", &stale)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (_, invite) = owner
        .post(
            &format!("/api/orgs/{org}/invites"),
            json!({"role": "viewer"}),
        )
        .await;
    let r = s
        .http
        .post(format!("{}/api/invites/accept", s.url))
        .header("cookie", &stale)
        .json(&json!({"token": invite["token"], "email": "nia@acme.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let (nia, _) = signed_in(&s, r).await;
    assert_eq!(nia.get("/api/me").await.1["user"]["email"], "nia@acme.test");

    // Changing one's password needs the current one and ends the other sessions.
    let max_tablet = sign_in(&s, "max@acme.test").await;
    let (status, wrong) = max_laptop
        .post(
            "/api/me/password",
            json!({"current_password": "not the password", "new_password": "another long password"}),
        )
        .await;
    assert_eq!(status, 403, "{wrong}");
    let (status, short) = max_laptop
        .post(
            "/api/me/password",
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(status, 400, "{short}");
    let (status, _) = max_laptop
        .post(
            "/api/me/password",
            json!({"current_password": PASSWORD, "new_password": "another long password"}),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(max_tablet.get("/api/me").await.0, 401);
    assert_eq!(
        max_laptop.get("/api/me").await.0,
        200,
        "the session that changed it stays"
    );
    assert_eq!(login(&s, "max@acme.test", PASSWORD).await.status(), 401);
    assert_eq!(
        login(&s, "max@acme.test", "another long password")
            .await
            .status(),
        200
    );

    // An owner's reset link: the member sets a new password through it, every
    // session they had ends, and the link works once.
    let (status, refused) = max_laptop
        .post(
            &format!("/api/orgs/{org}/members/{max_id}/password-reset"),
            json!({}),
        )
        .await;
    assert_eq!(status, 403, "a viewer resets no one: {refused}");
    let (status, link) = owner
        .post(
            &format!("/api/orgs/{org}/members/{max_id}/password-reset"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let token = link["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("pr_"));
    let (status, whose) =
        status_json(public(&s, Method::GET, &format!("/api/auth/reset/{token}"), None).await).await;
    assert_eq!(
        (status, whose["email"].as_str()),
        (200, Some("max@acme.test"))
    );
    let (max_new, _) = signed_in(
        &s,
        public(
            &s,
            Method::POST,
            "/api/auth/reset",
            Some(json!({"token": token, "password": "a third long password"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        max_laptop.get("/api/me").await.0,
        401,
        "earlier sessions end"
    );
    assert_eq!(max_new.get("/api/me").await.0, 200, "the reset signs in");
    assert_eq!(
        login(&s, "max@acme.test", "a third long password")
            .await
            .status(),
        200
    );
    let (status, _) = status_json(
        public(
            &s,
            Method::POST,
            "/api/auth/reset",
            Some(json!({"token": token, "password": "a fourth long password"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "a reset link works once");

    // The owner signs a member out of every browser.
    let (status, ended) = delete(
        &owner,
        &format!("/api/orgs/{org}/members/{max_id}/sessions"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(ended["revoked"].as_u64().unwrap() >= 1, "{ended}");
    assert_eq!(max_new.get("/api/me").await.0, 401);

    // A person who also belongs to an organisation the caller does not own is
    // out of the caller's reach: their password is theirs there too.
    add_user(&s, "ola@other.test", "other", "owner");
    add_user(&s, "ola@other.test", "default", "viewer");
    let ola_id = user_id(&owner, org, "ola@other.test").await;
    let (status, refused) = owner
        .post(
            &format!("/api/orgs/{org}/members/{ola_id}/password-reset"),
            json!({}),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("\"other\""),
        "{refused}"
    );
    let (status, _) = delete(
        &owner,
        &format!("/api/orgs/{org}/members/{ola_id}/sessions"),
    )
    .await;
    assert_eq!(status, 403);

    // A session ends everywhere else at once.
    let second = sign_in(&s, "owner@acme.test").await;
    let (status, ended) = delete(&owner, "/api/me/sessions").await;
    assert_eq!(
        (status, ended["revoked"].as_u64()),
        (200, Some(1)),
        "{ended}"
    );
    assert_eq!(second.get("/api/me").await.0, 401);
    assert_eq!(owner.get("/api/me").await.0, 200);
}

#[tokio::test]
async fn admin_tokens_are_made_listed_and_revoked_and_organisations_made() {
    let s = Spoor::start().await;
    add_user(&s, "ada@acme.test", "default", "admin");
    let ada = sign_in(&s, "ada@acme.test").await;
    let org = org_id(&ada, "default").await;

    let (status, made) = ada
        .post(
            &format!("/api/orgs/{org}/tokens"),
            json!({"name": "deploys"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let token = made["token"].as_str().unwrap().to_string();
    let get = |token: String, path: &str| {
        s.http
            .get(format!("{}{path}", s.url))
            .bearer_auth(token)
            .send()
    };
    let r = get(token.clone(), "/api/projects").await.unwrap();
    assert_eq!(r.status(), 200, "the new token works");
    let (_, listed) = ada.get(&format!("/api/orgs/{org}/tokens")).await;
    let mine = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "deploys")
        .unwrap()
        .clone();
    assert!(
        mine.get("token").is_none(),
        "a listed token never shows itself: {mine}"
    );
    assert!(token.starts_with(mine["prefix"].as_str().unwrap()));
    assert!(mine["last_used_at"].is_i64(), "its use is recorded: {mine}");

    // A token acts as an admin: it manages tokens, never people, and makes no
    // organisation (it belongs to one).
    let as_token = |method: Method, path: String, body: Value| {
        s.http
            .request(method, format!("{}{path}", s.url))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let r = as_token(Method::POST, "/api/orgs".into(), json!({"name": "mine"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = as_token(
        Method::POST,
        format!("/api/orgs/{org}/invites"),
        json!({"role": "viewer"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let r = as_token(Method::GET, "/api/me/sessions".into(), json!(null))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Revoked, it stops working at once.
    let (status, _) = delete(&ada, &format!("/api/orgs/{org}/tokens/{}", mine["id"])).await;
    assert_eq!(status, 204);
    let r = get(token.clone(), "/api/projects").await.unwrap();
    assert_eq!(r.status(), 401);
    let (status, _) = delete(&ada, &format!("/api/orgs/{org}/tokens/{}", mine["id"])).await;
    assert_eq!(status, 404);

    // Anyone signed in makes an organisation and owns it; names are unique
    // and from 1 to 100 characters.
    let longest = "o".repeat(100);
    let (status, made) = ada.post("/api/orgs", json!({"name": longest})).await;
    assert_eq!(
        (status, made["role"].as_str()),
        (201, Some("owner")),
        "{made}"
    );
    let (status, _) = ada
        .post("/api/orgs", json!({"name": "o".repeat(101)}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = ada.post("/api/orgs", json!({"name": "  "})).await;
    assert_eq!(status, 400);
    let (status, taken) = ada.post("/api/orgs", json!({"name": longest})).await;
    assert_eq!(status, 409, "{taken}");
    let (_, me) = ada.get("/api/me").await;
    assert_eq!(me["orgs"].as_array().unwrap().len(), 2, "{me}");
    let new_org = made["id"].as_i64().unwrap();
    assert_eq!(
        members(&ada, new_org).await,
        [("ada@acme.test".to_string(), "owner".to_string())]
    );
    let (status, project) = ada
        .post("/api/projects", json!({"org_id": new_org, "name": "site"}))
        .await;
    assert_eq!(status, 201, "{project}");
    // Operators do the same from the command line.
    let by_cli = s.cli_line(&["tokens", "create", "--name", "ops"]);
    assert_eq!(
        get(by_cli.clone(), "/api/projects").await.unwrap().status(),
        200
    );
    let listed = String::from_utf8(s.cli(&["tokens", "list"]).stdout).unwrap();
    let line = listed
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("ops"))
        .unwrap_or_else(|| panic!("ops in {listed}"));
    assert!(
        !listed.contains(&by_cli),
        "the list never shows a token: {listed}"
    );
    let id = line.split_whitespace().next().unwrap();
    s.cli(&["tokens", "revoke", id]);
    assert_eq!(get(by_cli, "/api/projects").await.unwrap().status(), 401);
    let again = s.cli_command(&["tokens", "revoke", id]);
    assert!(!again.status.success(), "revoked once");
    assert!(String::from_utf8_lossy(&again.stderr).contains("no admin token"));

    // A token of one organisation is not another's.
    let (_, other) = ada
        .post(&format!("/api/orgs/{new_org}/tokens"), json!({"name": "n"}))
        .await;
    let (status, _) = delete(&ada, &format!("/api/orgs/{org}/tokens/{}", other["id"])).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_link_token_and_a_session_id_are_bounded_on_both_sides() {
    let s = Spoor::start().await;
    add_user(&s, "ann@acme.test", "default", "owner");
    let ann = sign_in(&s, "ann@acme.test").await;
    for route in ["/api/invites/", "/api/auth/reset/"] {
        let (status, _) = status_json(
            public(
                &s,
                Method::GET,
                &format!("{route}{}", "t".repeat(128)),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(
            status, 404,
            "{route}: a token of the longest length is looked up"
        );
        let (status, said) = status_json(
            public(
                &s,
                Method::GET,
                &format!("{route}{}", "t".repeat(129)),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{route}: one longer is not: {said}");
    }
    for (route, body) in [
        (
            "/api/invites/accept",
            json!({"token": "t".repeat(129), "email": "a@b.test", "password": PASSWORD}),
        ),
        (
            "/api/auth/reset",
            json!({"token": "t".repeat(129), "password": PASSWORD}),
        ),
    ] {
        let (status, said) = status_json(public(&s, Method::POST, route, Some(body)).await).await;
        assert_eq!(status, 400, "{route}: {said}");
    }
    let (status, said) = status_json(
        public(
            &s,
            Method::POST,
            "/api/auth/reset",
            Some(json!({"token": "t".repeat(128), "password": PASSWORD})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "{said}");
    for (id, status) in [
        ("0123456789abcdef", 404),
        ("0123456789abcdeF", 400),
        ("0123456789abcdef0", 400),
    ] {
        assert_eq!(
            delete(&ann, &format!("/api/me/sessions/{id}")).await.0,
            status,
            "{id}"
        );
    }
    let (status, said) = ann
        .post(
            "/api/orgs/1/invites",
            json!({"role": "viewer", "email": format!("{}@x.test", "a".repeat(300))}),
        )
        .await;
    assert_eq!(status, 400, "{said}");
}

#[tokio::test]
async fn no_organisation_route_in_the_document_tells_another_organisation_from_none() {
    let s = Spoor::start().await;
    add_user(&s, "ann@acme.test", "default", "owner");
    add_user(&s, "eve@other.test", "other", "owner");
    let ann = sign_in(&s, "ann@acme.test").await;
    let eve = sign_in(&s, "eve@other.test").await;
    let org = org_id(&ann, "default").await;
    let ann_id = user_id(&ann, org, "ann@acme.test").await;
    let (_, doc) = ann.get("/api/openapi.json").await;
    let mut walked = 0;
    for (template, operations) in doc["paths"].as_object().unwrap() {
        let Some(rest) = template.strip_prefix("/api/orgs/{org}") else {
            continue;
        };
        let rest: String = rest
            .split('/')
            .map(|seg| match seg {
                "{user}" => ann_id.to_string(),
                s if s.starts_with('{') => "1".to_string(),
                s => s.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method == Method::POST || method == Method::PATCH)
                .then(|| json!({"role": "viewer", "name": "x"}));
            let (theirs, a) = eve
                .call(
                    method.clone(),
                    &format!("/api/orgs/{org}{rest}"),
                    body.clone(),
                )
                .await;
            let (none, b) = eve
                .call(method.clone(), &format!("/api/orgs/987654{rest}"), body)
                .await;
            assert_eq!(
                theirs, 404,
                "{method} {template} as another organisation's owner: {a}"
            );
            assert_eq!(
                a.to_string().replace(&org.to_string(), "#"),
                b.to_string().replace("987654", "#"),
                "{method} {template}: another organisation is told apart from none"
            );
            assert_eq!(none, 404);
            walked += 1;
        }
    }
    assert!(walked >= 11, "walked {walked} route/method pairs");
    assert_eq!(
        members(&ann, org).await.len(),
        1,
        "nothing of ann's changed"
    );
}
