//! The dashboard's API over HTTP: the one-time set-up link, sign-in with
//! throttling, sessions and CSRF, projects and keys, the overview and the
//! events explorer, admin tokens, and tenant isolation on every project route.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::accounts::{add_user, login, sign_in};
use common::{Node, Spoor, status_json, track};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn the_first_owner_signs_up_once_through_the_set_up_link() {
    let s = Spoor::start().await;
    // Another node on the same store, whose log we read for the link.
    let mut child = common::command()
        .args(s.store.args())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SPOOR_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("spoor listening on ")
        .unwrap()
        .to_string();
    let node = Node { child, url };
    let stderr = node_stderr(&node);
    let token = stderr
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            let at = line.find("setup?token=")?;
            Some(line[at + 12..].split_whitespace().next()?.to_string())
        })
        .expect("the set-up link is logged");
    let setup = |token: String, email: &str| {
        s.http
            .post(format!("{}/api/auth/setup", node.url))
            .json(&json!({"token": token, "email": email, "password": "a long enough password", "org": "Acme"}))
            .send()
    };
    let (status, body) = status_json(setup("su_wrong".into(), "x@acme.test").await.unwrap()).await;
    assert_eq!(status, 403, "{body}");
    let r = setup(token.clone(), "Owner@Acme.test").await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, body) = status_json(setup(token, "again@acme.test").await.unwrap()).await;
    assert!(
        body["error"].as_str().unwrap().contains("not valid"),
        "{body}"
    );

    // The owner signs in and owns both the new organisation and the first one.
    let me = sign_in(&s, "owner@acme.test").await;
    let (status, who) = me.get("/api/me").await;
    assert_eq!(status, 200);
    let orgs: Vec<(String, String)> = who["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().into(),
                o["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        orgs,
        [
            ("Acme".into(), "owner".into()),
            ("default".into(), "owner".into())
        ]
    );
}

fn node_stderr(node: &Node) -> BufReader<std::fs::File> {
    use std::os::fd::AsFd;
    // A duplicate of the child's stderr pipe, owned by the File.
    let dup = node
        .child
        .stderr
        .as_ref()
        .unwrap()
        .as_fd()
        .try_clone_to_owned()
        .unwrap();
    BufReader::new(std::fs::File::from(dup))
}

#[tokio::test]
async fn sign_in_is_throttled_and_sessions_need_their_csrf_token() {
    let s = Spoor::start().await;
    add_user(&s, "ann@example.com", "default", "owner");
    let (status, body) = status_json(login(&s, "ann@example.com", "wrong password!").await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("wrong email or password"))
    );
    let (status, _) = status_json(login(&s, "nobody@example.com", "wrong password!").await).await;
    assert_eq!(status, 401, "an unknown email reads the same");
    for _ in 0..4 {
        login(&s, "ann@example.com", "wrong password!").await;
    }
    let r = login(&s, "ann@example.com", "a long enough password").await;
    assert_eq!(
        r.status(),
        429,
        "five failures lock the address out for a while"
    );
    assert!(r.headers().contains_key("retry-after"));

    // Throttling is per process and per address; a fresh server has none.
    let s2 = Spoor::start().await;
    add_user(&s2, "bob@example.com", "default", "admin");
    let bob = sign_in(&s2, "bob@example.com").await;
    let (status, me) = bob.get("/api/me").await;
    assert_eq!(
        (status, me["user"]["email"].as_str()),
        (200, Some("bob@example.com"))
    );

    // A change without the CSRF token is refused, as a cross-site form post is.
    let form = s2
        .http
        .post(format!("{}/api/projects", s2.url))
        .header("cookie", format!("spoor_session={}", bob.cookie))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("org_id=1&name=evil")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    let (status, _) = bob
        .post("/api/projects", json!({"org_id": 1, "name": "good"}))
        .await;
    assert_eq!(status, 201);

    // Signing out ends the session.
    let (status, _) = bob.post("/api/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(bob.get("/api/me").await.0, 401);
}

#[tokio::test]
async fn projects_keys_overview_and_explorer_work_for_their_organisation_only() {
    let s = Spoor::start().await;
    add_user(&s, "ann@example.com", "default", "owner");
    add_user(&s, "vic@example.com", "default", "viewer");
    add_user(&s, "eve@other.test", "other", "owner");
    let ann = sign_in(&s, "ann@example.com").await;
    let vic = sign_in(&s, "vic@example.com").await;
    let eve = sign_in(&s, "eve@other.test").await;

    let (status, p) = ann
        .post("/api/projects", json!({"org_id": 1, "name": "shop"}))
        .await;
    assert_eq!(status, 201, "{p}");
    let pid = p["id"].as_i64().unwrap();
    let (status, renamed) = ann
        .call(
            Method::PATCH,
            &format!("/api/projects/{pid}"),
            Some(json!({"name": "webshop"})),
        )
        .await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("webshop")));
    let (status, created) = ann
        .post(
            &format!("/api/projects/{pid}/keys"),
            json!({"name": "site", "domains": ["Shop.Example"], "rate_limit_per_minute": 600}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    let kid = created["record"]["id"].as_i64().unwrap();
    let (_, keys) = ann.get(&format!("/api/projects/{pid}/keys")).await;
    let listed = keys["keys"][0].clone();
    assert_eq!(listed["domains"], json!(["shop.example"]));
    assert!(
        !listed.to_string().contains(&key),
        "only the prefix is shown later"
    );

    // Events sent with the key show in the overview and the explorer.
    let batch: Vec<Value> = (0..3)
        .map(|i| {
            let mut m = track(&format!("m{i}"), &format!("u{i}"));
            m["timestamp"] = json!(spoor_core_now_iso());
            m
        })
        .collect();
    let r = s
        .http
        .post(format!("{}/v1/batch", s.url))
        .basic_auth(&key, Some(""))
        .json(&json!({"batch": batch}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, o) = vic
        .get(&format!("/api/projects/{pid}/overview?range=1h"))
        .await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["totals"]["events"], 3);
    assert_eq!(o["totals"]["visitors"], 3);
    assert_eq!(o["series"].as_array().unwrap().len(), 60);
    assert_eq!(o["top"]["browsers"][0]["value"], "Chrome");
    let (_, found) = vic
        .get(&format!("/api/projects/{pid}/events?user_id=u1"))
        .await;
    let events = found["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["messageId"], "m1");
    let seq = events[0]["seq"].as_i64().unwrap();
    let (status, one) = vic.get(&format!("/api/projects/{pid}/events/{seq}")).await;
    assert_eq!(
        (status, one["enrichment"]["browser"].as_str()),
        (200, Some("Chrome"))
    );

    // A viewer reads but changes nothing.
    let (status, _) = vic
        .post("/api/projects", json!({"org_id": 1, "name": "nope"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = vic
        .call(
            Method::DELETE,
            &format!("/api/projects/{pid}/keys/{kid}"),
            None,
        )
        .await;
    assert_eq!(status, 403);

    // Another organisation's member finds none of it, on every route and method.
    let (_, theirs) = eve.get("/api/projects").await;
    assert!(
        theirs["projects"].as_array().unwrap().is_empty(),
        "{theirs}"
    );
    let routes = [
        (
            Method::PATCH,
            format!("/api/projects/{pid}"),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, format!("/api/projects/{pid}/keys"), None),
        (
            Method::POST,
            format!("/api/projects/{pid}/keys"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PATCH,
            format!("/api/projects/{pid}/keys/{kid}"),
            Some(json!({"active": false})),
        ),
        (
            Method::DELETE,
            format!("/api/projects/{pid}/keys/{kid}"),
            None,
        ),
        (Method::GET, format!("/api/projects/{pid}/overview"), None),
        (Method::GET, format!("/api/projects/{pid}/events"), None),
        (
            Method::GET,
            format!("/api/projects/{pid}/events/{seq}"),
            None,
        ),
    ];
    for (method, path, body) in &routes {
        let (status, answer) = eve.call(method.clone(), path, body.clone()).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    let (status, _) = eve
        .post("/api/projects", json!({"org_id": 1, "name": "x"}))
        .await;
    assert_eq!(status, 404, "nor can they create in it");

    // A key made without limits gets the defaults for a public site.
    assert_eq!(
        (
            &listed["rate_limit_per_minute"],
            &listed["per_address_rate_limit_per_minute"]
        ),
        (
            &json!(600),
            &json!(spoor_store::DEFAULT_PER_ADDRESS_RATE_LIMIT)
        )
    );
    let (_, plain) = ann
        .post(
            &format!("/api/projects/{pid}/keys"),
            json!({"name": "plain"}),
        )
        .await;
    assert_eq!(
        (
            &plain["record"]["rate_limit_per_minute"],
            &plain["record"]["domains"]
        ),
        (&json!(spoor_store::DEFAULT_KEY_RATE_LIMIT), &json!([]))
    );
    // Its domains and limits change after it is made, and bad values say
    // what to fix, on both sides of each bound.
    let max = spoor_store::MAX_RATE_LIMIT;
    let key_path = format!("/api/projects/{pid}/keys/{kid}");
    let patch = |body: Value| ann.call(Method::PATCH, &key_path, Some(body));
    let (status, k) = patch(json!({"domains": ["https://www.Shop.example/cart", "shop.example"], "rate_limit_per_minute": max, "per_address_rate_limit_per_minute": 0})).await;
    assert_eq!(status, 200, "{k}");
    assert_eq!(
        (
            &k["domains"],
            &k["rate_limit_per_minute"],
            &k["per_address_rate_limit_per_minute"],
            &k["name"]
        ),
        (
            &json!(["www.shop.example", "shop.example"]),
            &json!(max),
            &json!(0),
            &json!("site")
        )
    );
    for (body, says) in [
        (
            json!({"rate_limit_per_minute": 0}),
            "rate_limit_per_minute must be from 1",
        ),
        (
            json!({"rate_limit_per_minute": max + 1}),
            "rate_limit_per_minute must be from 1",
        ),
        (
            json!({"per_address_rate_limit_per_minute": max + 1}),
            "per_address_rate_limit_per_minute must be from 0",
        ),
        (
            json!({"per_address_rate_limit_per_minute": -1}),
            "per_address_rate_limit_per_minute",
        ),
        (json!({"domains": ["not a domain"]}), "is not a domain name"),
        (json!({"rate_limit": 5}), "unknown field `rate_limit`"),
    ] {
        let (status, answer) = patch(body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer.to_string().contains(says), "{body}: {answer}");
    }
    let (status, k) = patch(json!({"rate_limit_per_minute": 1, "per_address_rate_limit_per_minute": max, "domains": []})).await;
    assert_eq!(status, 200, "{k}");
    assert_eq!(
        (&k["rate_limit_per_minute"], &k["domains"]),
        (&json!(1), &json!([]))
    );
    let (status, answer) = ann
        .post(
            &format!("/api/projects/{pid}/keys"),
            json!({"name": "x", "rate_limit_per_minute": 0}),
        )
        .await;
    assert_eq!(status, 400, "{answer}");

    // Disabling the key stops it at once; deleting it removes it.
    let (status, k) = ann
        .call(
            Method::PATCH,
            &format!("/api/projects/{pid}/keys/{kid}"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!((status, k["active"].as_bool()), (200, Some(false)));
    let r = s
        .http
        .post(format!("{}/v1/track", s.url))
        .basic_auth(&key, Some(""))
        .json(&json!({"event": "E", "userId": "u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, _) = ann
        .call(
            Method::DELETE,
            &format!("/api/projects/{pid}/keys/{kid}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (_, keys) = ann.get(&format!("/api/projects/{pid}/keys")).await;
    let left: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["plain"], "only the deleted key went");
}

fn spoor_core_now_iso() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339()
}

#[tokio::test]
async fn admin_tokens_read_their_organisations_projects_only() {
    let s = Spoor::start().await;
    add_user(&s, "eve@other.test", "other", "owner");
    let other_token = s.cli_line(&["tokens", "create", "--name", "o", "--org", "other"]);
    let eve = sign_in(&s, "eve@other.test").await;
    let (_, me) = eve.get("/api/me").await;
    let other_org = me["orgs"][0]["id"].as_i64().unwrap();
    let (status, _) = eve
        .post(
            "/api/projects",
            json!({"org_id": other_org, "name": "theirs"}),
        )
        .await;
    assert_eq!(status, 201);

    let get = |token: &str, path: &str| {
        s.http
            .get(format!("{}{path}", s.url))
            .bearer_auth(token)
            .send()
    };
    let (_, mine) = status_json(get(&s.token, "/api/projects").await.unwrap()).await;
    let names: Vec<&str> = mine["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default"]);
    let r = get(&other_token, "/v1/events?project=default")
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "the events API keeps to the token's organisation too"
    );
    let r = get(&s.token, "/v1/events?project=theirs").await.unwrap();
    assert_eq!(r.status(), 404);
    let r = get(&other_token, "/v1/events?project=theirs")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn every_operation_in_the_openapi_document_is_routed() {
    let s = Spoor::start().await;
    let (status, doc) = status_json(
        s.http
            .get(format!("{}/api/openapi.json", s.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10);
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", "1")
                .replace("{key}", "1")
                .replace("{seq}", "1");
            let r = s
                .http
                .request(
                    method.to_uppercase().parse().unwrap(),
                    format!("{}{concrete}", s.url),
                )
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let (status, body) = status_json(r).await;
            assert!(
                !(status == 404
                    && body["error"]
                        .as_str()
                        .is_some_and(|e| e.contains("no such route")))
                    && status != 405,
                "{method} {path} is not routed: {status} {body}"
            );
        }
    }
}

/// The routes `http::router` serves, as (path, method), read from its source:
/// each `.route(path, ...)` with the methods it names, and the CRM's routes
/// under each prefix `crm_api()` is nested at.
fn routed_operations() -> Vec<(String, String)> {
    let source = include_str!("../../spoor-server/src/http/mod.rs");
    let (router, crm) = source
        .split_once("fn crm_api()")
        .expect("the router source defines crm_api");
    let crm = crm.split("\n}\n").next().unwrap();
    let routes = |text: &str| -> Vec<(String, Vec<String>)> {
        text.split(".route(")
            .skip(1)
            .map(|call| {
                let mut depth = 1;
                let end = call
                    .char_indices()
                    .find(|&(_, c)| {
                        depth += match c {
                            '(' => 1,
                            ')' => -1,
                            _ => 0,
                        };
                        depth == 0
                    })
                    .map(|(i, _)| i)
                    .unwrap();
                let call = &call[..end];
                let path = call.split('"').nth(1).unwrap().to_string();
                let methods = ["get", "post", "put", "patch", "delete", "options"]
                    .into_iter()
                    .filter(|m| {
                        call.match_indices(&format!("{m}(")).any(|(i, _)| {
                            // A method's own name, not the end of a longer one.
                            i == 0 || {
                                let before = call.as_bytes()[i - 1];
                                !(before.is_ascii_alphanumeric() || before == b'_')
                            }
                        })
                    })
                    .map(str::to_string)
                    .collect();
                (path, methods)
            })
            .collect()
    };
    let mut operations = Vec::new();
    for (path, methods) in routes(router) {
        operations.extend(methods.into_iter().map(|m| (path.clone(), m)));
    }
    let prefixes: Vec<&str> = router
        .split(".nest(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(prefixes.len(), 2, "the CRM's API is nested twice");
    for prefix in prefixes {
        for (path, methods) in routes(crm) {
            operations.extend(methods.into_iter().map(|m| (format!("{prefix}{path}"), m)));
        }
    }
    operations
}

/// The other way round: every route the router serves is in the document,
/// each of its methods too, so that what the document says (and the API
/// fuzzing of scripts/apifuzz, which works from it) covers the whole API.
#[test]
fn every_routed_operation_is_in_the_openapi_document() {
    let doc: Value = serde_json::from_str(spoor_server::openapi_document()).unwrap();
    let operations = routed_operations();
    assert!(operations.len() > 100, "{operations:?}");
    assert!(operations.contains(&("/v1/crm/tasks/{task}".into(), "patch".into())));
    assert!(operations.contains(&("/v1/batch".into(), "options".into())));
    let missing: Vec<String> = operations
        .iter()
        .filter(|(path, method)| doc["paths"][path][method].is_null())
        .map(|(path, method)| format!("{} {path}", method.to_uppercase()))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the OpenAPI document: {missing:?}"
    );
}

/// The dashboard's API types (`dashboard/src/api-schema.ts`) are what
/// openapi-typescript makes of the document, so a route whose types change
/// without the dashboard's being made again fails here, not in a browser.
#[test]
fn the_dashboards_api_types_are_generated_from_the_document() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cli = root.join("dashboard/node_modules/openapi-typescript/bin/cli.js");
    assert!(
        cli.exists(),
        "{} is missing: run `npm ci --prefix dashboard` first",
        cli.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("openapi.json");
    std::fs::write(&doc, spoor_server::openapi_document()).unwrap();
    let made = dir.path().join("api-schema.ts");
    let run = std::process::Command::new("node")
        .arg(&cli)
        .arg(&doc)
        .arg("-o")
        .arg(&made)
        .output()
        .expect("node runs");
    assert!(
        run.status.success(),
        "openapi-typescript failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let made = std::fs::read_to_string(made).unwrap();
    let committed = std::fs::read_to_string(root.join("dashboard/src/api-schema.ts")).unwrap();
    assert!(
        made.contains("AlertRule") && made.contains("Ingested"),
        "{made:.500}"
    );
    assert!(
        made == committed,
        "dashboard/src/api-schema.ts is not made from the current OpenAPI document: \
         run `npm run api-types --prefix dashboard` and commit it"
    );
}

/// Runs one statement on the test's store behind the server's back (on a
/// thread of its own: the PostgreSQL client blocks).
fn tamper(s: &Spoor, sql: &str) {
    let args = s.store.args();
    let file = s.store.dir.path().join("spoor.db");
    let sql = sql.to_string();
    std::thread::spawn(
        move || match args.iter().position(|a| a == "--database-url") {
            Some(i) => {
                let mut db = postgres::Client::connect(&args[i + 1], postgres::NoTls).unwrap();
                db.batch_execute(&format!("SET search_path TO spoor; {sql}"))
                    .unwrap();
            }
            None => {
                let db = rusqlite::Connection::open(file).unwrap();
                db.execute_batch(&sql).unwrap();
            }
        },
    )
    .join()
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_read_the_project_says_so_and_never_404() {
    let s = Spoor::start().await;
    let sessions = |s: &Spoor| {
        s.http
            .get(format!("{}/api/projects/1/sessions", s.url))
            .bearer_auth(&s.token)
            .send()
    };
    let (status, body) = status_json(sessions(&s).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    // The project exists but the store cannot read it: 503, not "no project".
    tamper(&s, "ALTER TABLE projects RENAME TO projects_away");
    let (status, body) = status_json(sessions(&s).await.unwrap()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable", "{body}");
    tamper(&s, "ALTER TABLE projects_away RENAME TO projects");
    let (status, body) = status_json(sessions(&s).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    // A project that is not there is still a 404, with its code.
    let r = s
        .http
        .get(format!("{}/api/projects/999/sessions", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not_found", "{body}");
}

/// Every project route the OpenAPI document describes, with every method:
/// another organisation's owner is answered exactly as for a project that does
/// not exist (never a 2xx, never a 5xx, nothing that tells the project is
/// there), whatever the route's other ids and its body. The project's own
/// owner reaches each read, so the walk really reaches the handlers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_project_route_in_the_document_shows_another_organisations_project() {
    let s = Spoor::start().await;
    add_user(&s, "ann@example.com", "default", "owner");
    add_user(&s, "eve@other.test", "other", "owner");
    let ann = sign_in(&s, "ann@example.com").await;
    let eve = sign_in(&s, "eve@other.test").await;
    let (status, doc) = ann.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    let (_, projects) = ann.get("/api/projects").await;
    let pid = projects["projects"][0]["id"].as_i64().unwrap();
    let missing = 987_654_321_i64;

    let paths = doc["paths"].as_object().unwrap();
    let mut walked = 0;
    for (template, operations) in paths {
        let Some(rest) = template.strip_prefix("/api/projects/{id}") else {
            continue;
        };
        // Any other id: the project is checked before anything it owns.
        let rest: String = rest
            .split('/')
            .map(|seg| if seg.starts_with('{') { "1" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
            let theirs = format!("/api/projects/{pid}{rest}");
            let none = format!("/api/projects/{missing}{rest}");
            let (status, answer) = eve.call(method.clone(), &theirs, body.clone()).await;
            let (status_none, answer_none) = eve.call(method.clone(), &none, body.clone()).await;
            assert!(
                (400..500).contains(&status),
                "{method} {theirs} as another organisation's owner: {status} {answer}"
            );
            // The ids differ in the messages, and nothing else may.
            let digits = |v: &Value| {
                let mut out = String::new();
                for c in v.to_string().chars() {
                    if !c.is_ascii_digit() {
                        out.push(c);
                    } else if !out.ends_with('#') {
                        out.push('#');
                    }
                }
                out
            };
            let (said, said_none) = (digits(&answer), digits(&answer_none));
            assert_eq!(
                (status, said),
                (status_none, said_none),
                "{method} {template}: another organisation's project is told apart from none"
            );
            if method == Method::GET && !rest.contains("/1") {
                let (status, answer) = ann.get(&theirs).await;
                assert_ne!(status, 404, "GET {theirs} as its owner: {answer}");
            }
            walked += 1;
        }
    }
    // Every project route and method of the document (56 today): a walk that
    // found far fewer would have lost its way in the document.
    assert!(walked >= 50, "walked {walked} route/method pairs");
}
