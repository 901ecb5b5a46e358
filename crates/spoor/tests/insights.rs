//! Insights over HTTP: trends, funnels and retention on a hand-made dataset
//! sent through `/v1/batch`, with exact counts (an anonymous visitor's
//! history counted once as the user they became, funnel order and window,
//! breakdowns with the rest folded, the previous period, retention cohorts),
//! CSV, refusals that say what to fix, and who may ask.

mod common;

use std::time::{Duration, Instant};

use common::accounts::{add_user, sign_in};
use common::{Spoor, iso, now_ms, status_json};
use serde_json::{Value, json};

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn msg(
    kind: &str,
    id: &str,
    ts: i64,
    who: (&str, &str),
    event: Option<&str>,
    props: Value,
) -> Value {
    let (user, anon) = who;
    let mut m = json!({
        "type": kind,
        "messageId": id,
        "timestamp": iso(ts),
        "properties": props,
        "context": {"page": {"url": props.get("url").cloned().unwrap_or(json!("https://shop.test/"))}},
    });
    if let Some(e) = event {
        m["event"] = json!(e);
    }
    if !user.is_empty() {
        m["userId"] = json!(user);
    }
    if !anon.is_empty() {
        m["anonymousId"] = json!(anon);
    }
    m
}

async fn post(s: &Spoor, path: &str, body: &Value) -> (u16, Value) {
    let r = s
        .post(&format!("/api/projects/1{path}"))
        .bearer_auth(&s.token)
        .json(body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

async fn get(s: &Spoor, path_and_query: &str) -> (u16, Value) {
    s.get(&format!("/api/projects/1{path_and_query}")).await
}

fn values(series: &Value) -> Vec<i64> {
    series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn trends_funnels_and_retention_count_exactly() {
    let s = Spoor::start_with(&["--db-statement-timeout", "1"]).await;
    // Ten whole days ago, at midnight UTC: day 0 of the dataset.
    let d0 = (now_ms() / DAY - 10) * DAY;
    let h = 3_600_000;
    let batch = vec![
        // ann browses anonymously, orders, then signs in as u-ann.
        msg(
            "page",
            "a1",
            d0 + h,
            ("", "anon-ann"),
            None,
            json!({"url": "https://shop.test/pricing"}),
        ),
        msg(
            "track",
            "a2",
            d0 + h + MIN,
            ("", "anon-ann"),
            Some("order"),
            json!({"total": 30, "plan": "pro"}),
        ),
        msg(
            "identify",
            "a3",
            d0 + h + 2 * MIN,
            ("u-ann", "anon-ann"),
            None,
            json!({}),
        ),
        msg(
            "track",
            "a4",
            d0 + h + 3 * MIN,
            ("u-ann", "anon-ann"),
            Some("signup"),
            json!({}),
        ),
        msg(
            "track",
            "a5",
            d0 + DAY + h,
            ("u-ann", ""),
            Some("order"),
            json!({"total": 10, "plan": "pro"}),
        ),
        // bob: an order, then a signup two days later (outside a 1-day window).
        msg(
            "page",
            "b1",
            d0 + 2 * h,
            ("u-bob", ""),
            None,
            json!({"url": "https://shop.test/pricing"}),
        ),
        msg(
            "track",
            "b2",
            d0 + 2 * h + MIN,
            ("u-bob", ""),
            Some("order"),
            json!({"total": 5, "plan": "team"}),
        ),
        msg(
            "track",
            "b3",
            d0 + 2 * DAY + 2 * h,
            ("u-bob", ""),
            Some("signup"),
            json!({}),
        ),
        // cat: views only, on day 1; then an order with no plan on day 8.
        msg(
            "page",
            "c1",
            d0 + DAY + 3 * h,
            ("u-cat", ""),
            None,
            json!({"url": "https://shop.test/property/12"}),
        ),
        msg(
            "track",
            "c2",
            d0 + 8 * DAY,
            ("u-cat", ""),
            Some("order"),
            json!({"total": "n/a"}),
        ),
        // dan: a free order on day 2.
        msg(
            "track",
            "d1",
            d0 + 2 * DAY,
            ("u-dan", ""),
            Some("order"),
            json!({"total": 1, "plan": "free"}),
        ),
    ];
    let (status, body) = s.batch(batch).await;
    assert_eq!(status, 200, "{body}");
    let from = iso(d0);
    let to = iso(d0 + 3 * DAY);

    // The funnel waits for the pipeline's identity link: ann is one person.
    let funnel = json!({
        "steps": [{"event": "$pageview", "page": "/pricing"}, {"event": "order"}, {"event": "signup"}],
        "window_seconds": 86_400,
        "from": from, "to": to,
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        let (status, body) = post(&s, "/insights/funnel", &funnel).await;
        assert_eq!(status, 200, "{body}");
        if body["steps"][2]["people"] == 1 {
            break body;
        }
        assert!(Instant::now() < deadline, "the link never showed: {body:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let people: Vec<i64> = answer["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["people"].as_i64().unwrap())
        .collect();
    // ann and bob viewed /pricing and ordered; only ann signed up within the day.
    assert_eq!(people, vec![2, 2, 1], "{answer:#}");
    assert_eq!(answer["steps"][0]["event"], "$pageview /pricing");
    assert_eq!(answer["steps"][2]["conversion_from_first"], 0.5);
    assert_eq!(answer["steps"][1]["median_seconds_from_previous"], 60.0);
    assert_eq!(answer["steps"][2]["median_seconds_from_previous"], 120.0);
    // Who dropped after the order, and a breakdown by the entry's page.
    let mut drilled = funnel.clone();
    drilled["dropped_after"] = json!(1);
    drilled["breakdown"] = json!("$page");
    let (status, body) = post(&s, "/insights/funnel", &drilled).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["dropped"],
        json!([{"id": "u-bob", "identified": true}])
    );
    assert_eq!(body["breakdowns"][0]["breakdown"], "/pricing");

    // Orders per day: ann's anonymous order is day 0's.
    // Query strings take ms (an ISO time's `+` would need escaping).
    let q = format!(
        "/insights/trends?event=order&from={d0}&to={}&interval=day",
        d0 + 3 * DAY
    );
    let (status, t) = get(&s, &q).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["series"][0]["label"], "order");
    assert_eq!(values(&t["series"][0]), vec![2, 1, 1]);
    assert_eq!(t["series"][0]["points"][0]["t"], d0);
    // Page views of /pricing beside orders: the page narrows the page views only.
    let (status, t) = get(
        &s,
        &format!("{q}&event=$pageview&page=/pricing&measure=people"),
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(values(&t["series"][0]), vec![2, 1, 1]);
    assert_eq!(t["series"][1]["label"], "$pageview /pricing");
    assert_eq!(values(&t["series"][1]), vec![2, 0, 0]);
    // Distinct people, two series, a sum of a property, a condition.
    let (_, t) = get(&s, &format!("{q}&event=signup&measure=people")).await;
    assert_eq!(values(&t["series"][0]), vec![2, 1, 1]);
    assert_eq!(values(&t["series"][1]), vec![1, 0, 1]);
    let (_, t) = get(&s, &format!("{q}&measure=sum:total")).await;
    assert_eq!(values(&t["series"][0]), vec![35, 10, 1]);
    let (_, t) = get(&s, &format!("{q}&where=plan!%3Dpro")).await;
    assert_eq!(values(&t["series"][0]), vec![1, 0, 1]);
    // A breakdown with the rest folded.
    let (_, t) = get(&s, &format!("{q}&breakdown=plan&limit=1")).await;
    let series: Vec<(Value, Vec<i64>)> = t["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["breakdown"].clone(), values(s)))
        .collect();
    assert_eq!(
        series,
        vec![
            (json!("pro"), vec![1, 1, 0]),
            (json!("$other"), vec![1, 0, 1])
        ]
    );
    // The previous period, as long as the range, just before it.
    let later = format!(
        "/insights/trends?event=order&from={}&to={}&interval=day&compare=true",
        d0 + 3 * DAY,
        d0 + 9 * DAY
    );
    let (_, t) = get(&s, &later).await;
    assert_eq!(
        values(&t["series"][0]),
        vec![0, 0, 0, 0, 0, 1],
        "cat's order on day 8"
    );
    assert_eq!(values(&t["compare"][0]), vec![0, 0, 0, 2, 1, 1]);
    assert_eq!(t["compare"][0]["points"][0]["t"], d0 - 3 * DAY);
    // The same as CSV.
    let r = s
        .http
        .get(format!("{}/api/projects/1{q}&format=csv", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "period,series,breakdown,start,value");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines[1].starts_with("current,order,,") && lines[1].ends_with(",2"),
        "{csv}"
    );

    // Retention by day: cohorts by first order, returns by any order.
    let (status, r) = post(
        &s,
        "/insights/retention",
        &json!({"start_event": "order", "return_event": "order", "period": "day", "periods": 3, "from": from, "to": to}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["cohorts"],
        json!([
            {"start": d0, "people": 2, "returned": [2, 1, 0]},
            {"start": d0 + DAY, "people": 0, "returned": [0, 0, 0]},
            {"start": d0 + 2 * DAY, "people": 1, "returned": [1, 0, 0]},
        ])
    );

    // Paths after a look at the pricing: both ordered, then one signed up
    // within the day (bob's sign-up two days on is past the window).
    let (status, p) = post(
        &s,
        "/insights/paths",
        &json!({"start": {"event": "$pageview", "page": "/pricing"}, "include": "both",
                "steps": 2, "window_seconds": 86_400, "from": from, "to": to}),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        p,
        json!({"start": "$pageview /pricing", "people": 2, "steps": [
            {"step": 1, "dropped": 0, "nodes": [{"name": "order", "people": 2}],
             "links": [{"from": "$pageview /pricing", "to": "order", "people": 2}]},
            {"step": 2, "dropped": 1, "nodes": [{"name": "signup", "people": 1}],
             "links": [{"from": "order", "to": "signup", "people": 1}]},
        ]})
    );
}

#[tokio::test]
async fn bad_questions_are_refused_with_what_to_fix_and_viewers_may_ask() {
    let s = Spoor::start().await;
    let refused = [
        ("/insights/trends", "nothing to count", "give `event`"),
        (
            "/insights/trends?event=a&interval=minute",
            "",
            "hour, day, week or month",
        ),
        ("/insights/trends?event=a&breakdown=$nope", "", "$browser"),
        ("/insights/trends?event=a&measure=max:x", "", "sum:PROPERTY"),
        ("/insights/trends?event=a&limit=51", "", "between 1 and 50"),
        ("/insights/trends?event=a&where=plan", "", "FIELD=VALUE"),
        (
            "/insights/trends?event=a&from=2020-01-01&to=2026-01-01",
            "",
            "at most 400 days",
        ),
        (
            "/insights/trends?event=a&interval=hour&from=2026-01-01&to=2026-03-01",
            "",
            "periods",
        ),
        (
            "/insights/trends?event=a&page=/x",
            "",
            "narrows $pageview series only",
        ),
    ];
    for (path, _, needle) in refused {
        let (status, body) = get(&s, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
        assert_eq!(body["code"], "bad_request", "{body}");
    }
    let (status, _) = get(&s, "/insights/trends?event=a&limit=50").await;
    assert_eq!(status, 200);
    let steps = |n: usize| json!({"steps": vec![json!({"event": "a"}); n], "window_seconds": 60});
    for (body, needle) in [
        (steps(1), "2 to 10 steps"),
        (steps(11), "at most 10 steps"),
        (
            json!({"steps": [{"event": "a"}, {"event": "b"}], "window_seconds": 90 * 86_400 + 1}),
            "window_seconds",
        ),
        (
            json!({"steps": [{"event": "a"}, {"event": "b"}], "window_seconds": 60, "surprise": 1}),
            "surprise",
        ),
        (
            json!({"steps": [{"event": "a", "where": {"k": null}}, {"event": "b"}], "window_seconds": 60}),
            "string, number or boolean",
        ),
    ] {
        let (status, answer) = post(&s, "/insights/funnel", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(needle),
            "{answer}"
        );
    }
    for (n, ok) in [(2, 200), (10, 200)] {
        let (status, answer) = post(&s, "/insights/funnel", &steps(n)).await;
        assert_eq!(status, ok, "{answer}");
    }
    for (periods, status) in [(1, 200), (64, 200), (0, 400), (65, 400)] {
        let (got, answer) = post(
            &s,
            "/insights/retention",
            &json!({"start_event": "a", "return_event": "b", "periods": periods}),
        )
        .await;
        assert_eq!(got, status, "{periods}: {answer}");
    }
    let (status, answer) = post(
        &s,
        "/insights/retention",
        &json!({"start_event": "a", "return_event": "b", "period": "hour"}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    for (body, status, needle) in [
        (json!({"start": {"event": "a"}, "steps": 5}), 200, ""),
        (
            json!({"start": {"event": "a"}, "steps": 6}),
            400,
            "between 1 and 5",
        ),
        (
            json!({"start": {"event": "a"}, "limit": 21}),
            400,
            "between 1 and 20",
        ),
        (
            json!({"start": {"event": "a"}, "direction": "sideways"}),
            400,
            "after or before",
        ),
        (
            json!({"start": {"event": "a"}, "include": "all"}),
            400,
            "pages, events or both",
        ),
        (
            json!({"start": {"event": "a"}, "direction": "before", "include": "both"}),
            200,
            "",
        ),
    ] {
        let (got, answer) = post(&s, "/insights/paths", &body).await;
        assert_eq!(got, status, "{body}: {answer}");
        if status == 400 {
            assert!(
                answer["error"].as_str().unwrap().contains(needle),
                "{answer}"
            );
        }
    }

    // A viewer may ask; another organisation's project is not there.
    add_user(&s, "viewer@example.com", "default", "viewer");
    let viewer = sign_in(&s, "viewer@example.com").await;
    let (status, body) = viewer.get("/api/projects/1/insights/trends?event=a").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = viewer
        .post("/api/projects/1/insights/funnel", steps(2))
        .await;
    assert_eq!(status, 200, "{body}");
    add_user(&s, "outsider@example.com", "elsewhere", "owner");
    let outsider = sign_in(&s, "outsider@example.com").await;
    let (status, _) = outsider
        .get("/api/projects/1/insights/trends?event=a")
        .await;
    assert_eq!(status, 404);
    let (status, _) = outsider
        .post(
            "/api/projects/1/insights/retention",
            json!({"start_event": "a", "return_event": "b"}),
        )
        .await;
    assert_eq!(status, 404);
}

/// A call with the admin token on the default project; `None` for no body.
async fn call(s: &Spoor, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = s
        .http
        .request(method, format!("{}/api/projects/1{path}", s.url))
        .bearer_auth(&s.token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    status_json(r.send().await.unwrap()).await
}

/// A call with no credentials at all, as a shared link's reader makes.
async fn anonymous(s: &Spoor, path: &str) -> (u16, Value) {
    status_json(s.http.get(format!("{}{path}", s.url)).send().await.unwrap()).await
}

#[tokio::test]
async fn saved_insights_and_boards_answer_as_their_questions_and_share_read_only() {
    use reqwest::Method;
    let s = Spoor::start().await;
    let d0 = (now_ms() / DAY - 3) * DAY;
    let (status, body) = s
        .batch(vec![
            msg(
                "track",
                "o1",
                d0 + MIN,
                ("u-a", ""),
                Some("order"),
                json!({"total": 5}),
            ),
            msg(
                "track",
                "o2",
                d0 + 2 * MIN,
                ("u-b", ""),
                Some("order"),
                json!({"total": 7}),
            ),
            msg(
                "track",
                "o3",
                d0 + DAY,
                ("u-a", ""),
                Some("order"),
                json!({"total": 1}),
            ),
            msg(
                "track",
                "p1",
                d0 + DAY + MIN,
                ("u-a", ""),
                Some("paid"),
                json!({}),
            ),
        ])
        .await;
    assert_eq!(status, 200, "{body}");

    // A trend saved with a range and a format keeps neither: it shows its days.
    let (status, trend) = call(
        &s,
        Method::POST,
        "/insights/saved",
        Some(json!({"name": " Orders ", "kind": "trends",
            "query": format!("event=order&from={d0}&format=csv&measure=people")})),
    )
    .await;
    assert_eq!(status, 201, "{trend}");
    assert_eq!(trend["name"], "Orders");
    assert_eq!(trend["query"], "event=order&measure=people");
    assert_eq!(trend["days"], 7);
    let funnel_body = json!({"steps": [{"event": "order"}, {"event": "paid"}],
        "window_seconds": 86_400, "from": d0});
    let (status, funnel) = call(
        &s,
        Method::POST,
        "/insights/saved",
        Some(json!({"name": "Order to paid", "kind": "funnel", "query": funnel_body, "days": 14})),
    )
    .await;
    assert_eq!(status, 201, "{funnel}");
    assert_eq!(funnel["query"].get("from"), None, "{funnel}");
    assert_eq!(funnel["days"], 14);
    let (t, f) = (
        trend["id"].as_i64().unwrap(),
        funnel["id"].as_i64().unwrap(),
    );

    // Its answer is its endpoint's, over its days or a given range.
    let range = format!("from={d0}&to={}", d0 + 3 * DAY);
    let (_, direct) = get(
        &s,
        &format!("/insights/trends?event=order&measure=people&{range}"),
    )
    .await;
    let (status, saved) = get(&s, &format!("/insights/saved/{t}/result?{range}")).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["result"], direct);
    assert_eq!(values(&saved["result"]["series"][0]), vec![2, 1, 0]);
    let (status, own) = get(&s, &format!("/insights/saved/{f}/result")).await;
    assert_eq!(status, 200, "{own}");
    let people: Vec<i64> = own["result"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["people"].as_i64().unwrap())
        .collect();
    assert_eq!(people, vec![2, 1], "{own:#}");

    // A board keeps its items in order; arranging sends them anew.
    let (status, board) = call(
        &s,
        Method::POST,
        "/boards",
        Some(json!({"name": "Sales", "items": [f, t]})),
    )
    .await;
    assert_eq!(status, 201, "{board}");
    let b = board["id"].as_i64().unwrap();
    let (status, board) = call(
        &s,
        Method::PUT,
        &format!("/boards/{b}"),
        Some(json!({"name": "Sales, weekly", "items": [t, f]})),
    )
    .await;
    assert_eq!(status, 200, "{board}");
    let names = |board: &Value| -> Vec<String> {
        board["insights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&board), ["Orders", "Order to paid"]);
    let (_, listed) = get(&s, "/boards").await;
    assert_eq!(listed["boards"][0]["items"], json!([t, f]));
    assert_eq!(listed["boards"][0]["shared"], false);

    // Shared: the link opens that board and its insights' answers, without
    // an account, and nothing else.
    let (status, link) = call(&s, Method::POST, &format!("/boards/{b}/share"), None).await;
    assert_eq!(status, 200, "{link}");
    let token = link["token"].as_str().unwrap().to_string();
    assert_eq!(link["path"], format!("/#/shared/{token}"));
    let (status, open) = anonymous(&s, &format!("/api/shared/{token}")).await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(open["project"]["name"], "default");
    assert_eq!(names(&open["board"]), ["Orders", "Order to paid"]);
    let (status, answer) = anonymous(
        &s,
        &format!("/api/shared/{token}/insights/{t}/result?{range}"),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"], direct);
    let (_, unpinned) = call(
        &s,
        Method::POST,
        "/insights/saved",
        Some(json!({"name": "Paid", "kind": "trends", "query": "event=paid"})),
    )
    .await;
    let u = unpinned["id"].as_i64().unwrap();
    let (status, _) = anonymous(&s, &format!("/api/shared/{token}/insights/{u}/result")).await;
    assert_eq!(status, 404, "an insight not on the board is not there");
    for path in ["/api/projects/1/boards", "/api/projects/1/insights/saved"] {
        let (status, _) = anonymous(&s, path).await;
        assert_eq!(status, 401, "{path} needs an account");
    }
    // A new link replaces the old; revoking closes the link.
    let (_, again) = call(&s, Method::POST, &format!("/boards/{b}/share"), None).await;
    let newer = again["token"].as_str().unwrap().to_string();
    assert_eq!(anonymous(&s, &format!("/api/shared/{token}")).await.0, 404);
    assert_eq!(anonymous(&s, &format!("/api/shared/{newer}")).await.0, 200);
    let (status, _) = call(&s, Method::DELETE, &format!("/boards/{b}/share"), None).await;
    assert_eq!(status, 204);
    let (status, gone) = anonymous(&s, &format!("/api/shared/{newer}")).await;
    assert_eq!(status, 404);
    assert!(
        gone["error"].as_str().unwrap().contains("revoked"),
        "{gone}"
    );
    assert_eq!(anonymous(&s, "/api/shared/sb_nothing").await.0, 404);

    // A deleted insight drops out of its board.
    assert_eq!(
        call(&s, Method::DELETE, &format!("/insights/saved/{f}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(&s, Method::DELETE, &format!("/insights/saved/{f}"), None)
            .await
            .0,
        404
    );
    let (_, board) = get(&s, &format!("/boards/{b}")).await;
    assert_eq!(names(&board), ["Orders"]);

    // Viewers read and may not save, arrange or share; other organisations
    // see nothing.
    add_user(&s, "viewer@example.com", "default", "viewer");
    let viewer = sign_in(&s, "viewer@example.com").await;
    assert_eq!(viewer.get("/api/projects/1/boards").await.0, 200);
    assert_eq!(
        viewer
            .get(&format!("/api/projects/1/insights/saved/{t}/result"))
            .await
            .0,
        200
    );
    let save = json!({"name": "Mine", "kind": "trends", "query": "event=order"});
    assert_eq!(
        viewer
            .post("/api/projects/1/insights/saved", save.clone())
            .await
            .0,
        403
    );
    assert_eq!(
        viewer
            .post("/api/projects/1/boards", json!({"name": "Mine"}))
            .await
            .0,
        403
    );
    assert_eq!(
        viewer
            .post(&format!("/api/projects/1/boards/{b}/share"), json!({}))
            .await
            .0,
        403
    );
    let (status, _) = viewer
        .call(
            Method::PUT,
            &format!("/api/projects/1/boards/{b}"),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 403);
    add_user(&s, "outsider@example.com", "elsewhere", "owner");
    let outsider = sign_in(&s, "outsider@example.com").await;
    assert_eq!(
        outsider.get(&format!("/api/projects/1/boards/{b}")).await.0,
        404
    );
    assert_eq!(
        outsider
            .get(&format!("/api/projects/1/insights/saved/{t}/result"))
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn saved_insights_and_boards_refuse_what_is_wrong_at_each_bound() {
    use reqwest::Method;
    let s = Spoor::start().await;
    let save = |body: Value| {
        let s = &s;
        async move { call(s, Method::POST, "/insights/saved", Some(body)).await }
    };
    for (body, needle) in [
        (
            json!({"name": " ", "kind": "trends", "query": "event=a"}),
            "`name` must not be empty",
        ),
        (
            json!({"name": "a".repeat(201), "kind": "trends", "query": "event=a"}),
            "at most 200",
        ),
        (
            json!({"name": "a", "kind": "trends", "query": "measure=events"}),
            "give `event`",
        ),
        (
            json!({"name": "a", "kind": "trends", "query": {"event": "a"}}),
            "query string",
        ),
        (
            json!({"name": "a", "kind": "funnel", "query": "steps"}),
            "JSON object",
        ),
        (
            json!({"name": "a", "kind": "funnel", "query": {"steps": [{"event": "a"}]}}),
            "window_seconds",
        ),
        (
            json!({"name": "a", "kind": "lifecycle", "query": "event=a"}),
            "lifecycle",
        ),
        (
            json!({"name": "a", "kind": "trends", "query": "event=a", "days": 0}),
            "`days` is 1 to 400",
        ),
        (
            json!({"name": "a", "kind": "trends", "query": "event=a", "days": 401}),
            "`days` is 1 to 400",
        ),
    ] {
        let (status, answer) = save(body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(needle),
            "{body}: {answer}"
        );
    }
    for days in [1, 400] {
        let (status, answer) =
            save(json!({"name": "a", "kind": "trends", "query": "event=a", "days": days})).await;
        assert_eq!(status, 201, "{answer}");
    }
    // A question's text is at most 16 KiB: a funnel whose conditions fill it
    // exactly is kept, one byte more is refused.
    let sized = |len: usize| {
        let fill = |n: usize| "x".repeat(n);
        let mut conditions = serde_json::Map::new();
        for k in 0..10 {
            conditions.insert(format!("k{k}"), json!(fill(1_000)));
        }
        let mut body = json!({"steps": [{"event": "a", "where": conditions.clone()},
            {"event": "b", "where": conditions}], "window_seconds": 60});
        // Shorten the second step's values, last first, down to `len` bytes.
        for k in (0..10).rev() {
            let over = body.to_string().len().saturating_sub(len);
            let value = &mut body["steps"][1]["where"][format!("k{k}")];
            let kept = 1_000usize.saturating_sub(over);
            *value = json!(fill(kept));
            if over <= 1_000 {
                break;
            }
        }
        assert_eq!(body.to_string().len(), len);
        body
    };
    let (status, answer) =
        save(json!({"name": "a", "kind": "funnel", "query": sized(16 * 1024)})).await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) =
        save(json!({"name": "a", "kind": "funnel", "query": sized(16 * 1024 + 1)})).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("16384 bytes"),
        "{answer}"
    );
    assert_eq!(
        call(
            &s,
            Method::PUT,
            "/insights/saved/999999",
            Some(json!({"name": "a", "kind": "trends", "query": "event=a"}))
        )
        .await
        .0,
        404
    );

    // A board holds 50 insights at most, each once, each this project's.
    let mut ids = Vec::new();
    let (_, all) = get(&s, "/insights/saved").await;
    for i in all["insights"].as_array().unwrap() {
        ids.push(i["id"].as_i64().unwrap());
    }
    while ids.len() < 51 {
        let (status, answer) =
            save(json!({"name": format!("n{}", ids.len()), "kind": "trends", "query": "event=a"}))
                .await;
        assert_eq!(status, 201, "{answer}");
        ids.push(answer["id"].as_i64().unwrap());
    }
    let board = |items: &[i64]| json!({"name": "b", "items": items});
    let (status, answer) = call(&s, Method::POST, "/boards", Some(board(&ids[..50]))).await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = call(&s, Method::POST, "/boards", Some(board(&ids))).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("at most 50"),
        "{answer}"
    );
    let (status, answer) = call(&s, Method::POST, "/boards", Some(board(&[ids[0], ids[0]]))).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("twice"),
        "{answer}"
    );
    let (status, answer) = call(&s, Method::POST, "/boards", Some(board(&[i64::MAX]))).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("not a saved insight"),
        "{answer}"
    );
    // A project keeps 100 boards: the hundredth is made, the next refused.
    for n in 2..=100 {
        let (status, answer) = call(
            &s,
            Method::POST,
            "/boards",
            Some(json!({"name": format!("b{n}")})),
        )
        .await;
        assert_eq!(status, 201, "board {n}: {answer}");
    }
    let (status, answer) = call(
        &s,
        Method::POST,
        "/boards",
        Some(json!({"name": "one more"})),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("at most 100 boards"),
        "{answer}"
    );
}

#[tokio::test]
async fn goals_convert_visitors_and_list_channels_and_campaigns_by_first_touch() {
    use reqwest::Method;
    let s = Spoor::start().await;
    let d0 = (now_ms() / DAY - 2) * DAY;
    let page = |id: &str, ts: i64, who: (&str, &str), url: &str, referrer: Option<&str>| {
        let mut props = json!({"url": url});
        if let Some(r) = referrer {
            props["referrer"] = json!(r);
        }
        msg("page", id, ts, who, None, props)
    };
    let mut newsletter = page("y1", d0 + 10 * MIN, ("u-y", ""), "https://shop.test/", None);
    newsletter["context"]["campaign"] =
        json!({"source": "newsletter", "medium": "email", "name": "autumn"});
    let (status, body) = s
        .batch(vec![
            // x arrives from a search anonymously, then signs up as u-x.
            page(
                "x1",
                d0 + MIN,
                ("", "anon-x"),
                "https://shop.test/pricing",
                Some("https://www.google.com/"),
            ),
            msg(
                "identify",
                "x2",
                d0 + 2 * MIN,
                ("u-x", "anon-x"),
                None,
                json!({}),
            ),
            msg(
                "track",
                "x3",
                d0 + 3 * MIN,
                ("u-x", ""),
                Some("signup"),
                json!({}),
            ),
            newsletter,
            msg(
                "track",
                "y2",
                d0 + 11 * MIN,
                ("u-y", ""),
                Some("signup"),
                json!({}),
            ),
            page("z1", d0 + 20 * MIN, ("u-z", ""), "https://shop.test/", None),
            page(
                "w1",
                d0 + 30 * MIN,
                ("u-w", ""),
                "https://shop.test/pricing",
                Some("https://news.ycombinator.com/item?id=1"),
            ),
        ])
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, signed) = call(
        &s,
        Method::POST,
        "/goals",
        Some(json!({"name": "Signed up", "event": "signup"})),
    )
    .await;
    assert_eq!(status, 201, "{signed}");
    assert_eq!(signed["event"], "signup");
    let (status, pricing) = call(
        &s,
        Method::POST,
        "/goals",
        Some(json!({"name": "Saw pricing", "event": "$pageview", "page": "/pricing"})),
    )
    .await;
    assert_eq!(status, 201, "{pricing}");
    let (_, listed) = get(&s, "/goals").await;
    assert_eq!(listed["goals"][1]["page"], "/pricing");

    let range = format!("from={d0}&to={}", d0 + DAY);
    // Once the pipeline has linked anon-x to u-x, they are one visitor.
    let c = s
        .when(&format!("/api/projects/1/goals/conversions?{range}"), |c| {
            c["visitors"] == 4
        })
        .await;
    assert_eq!(c["goals"][0]["conversions"], 2);
    assert_eq!(c["goals"][0]["rate"], 0.5);
    assert_eq!(c["goals"][1]["conversions"], 2);
    assert_eq!(c["breakdown"], Value::Null);

    // Channels by first touch: u-x's signup counts for the search that
    // brought them, though the signup itself came with no referrer.
    let (status, c) = get(
        &s,
        &format!("/goals/conversions?{range}&breakdown=$channel"),
    )
    .await;
    assert_eq!(status, 200, "{c}");
    let rows: std::collections::BTreeMap<String, (i64, i64, i64)> = c["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["value"].as_str().unwrap().to_string(),
                (
                    r["visitors"].as_i64().unwrap(),
                    r["goals"][0]["conversions"].as_i64().unwrap(),
                    r["goals"][1]["conversions"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    let expected: std::collections::BTreeMap<String, (i64, i64, i64)> = [
        ("search", (1, 1, 1)),
        ("email", (1, 1, 0)),
        ("direct", (1, 0, 0)),
        ("referral", (1, 0, 1)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(rows, expected, "{c:#}");
    // Campaigns: the newsletter's, and the rest folded.
    let (_, c) = get(
        &s,
        &format!("/goals/conversions?{range}&breakdown=$utm_source&limit=1"),
    )
    .await;
    assert_eq!(c["breakdown"][0]["value"], "", "{c}");
    assert_eq!(c["breakdown"][0]["visitors"], 3);
    assert_eq!(c["breakdown"][1]["value"], "$other");
    assert_eq!(c["breakdown"][1]["visitors"], 1);
    assert_eq!(c["breakdown"][1]["goals"][0]["rate"], 1.0);

    // Refusals that say what to fix, and the bounds on both sides.
    for (body, needle) in [
        (json!({"name": "a", "event": ""}), "1 to 200 bytes"),
        (
            json!({"name": "a", "event": "signup", "page": "/x"}),
            "narrows $pageview only",
        ),
        (json!({"name": "", "event": "signup"}), "must not be empty"),
        (json!({"name": "a", "event": "signup", "extra": 1}), "extra"),
    ] {
        let (status, answer) = call(&s, Method::POST, "/goals", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(needle),
            "{body}: {answer}"
        );
    }
    for (q, status) in [
        ("limit=0", 400),
        ("limit=50", 200),
        ("limit=51", 400),
        ("breakdown=$nope", 400),
    ] {
        let (got, answer) = get(&s, &format!("/goals/conversions?{q}")).await;
        assert_eq!(got, status, "{q}: {answer}");
    }
    for n in 3..=50 {
        let (status, answer) = call(
            &s,
            Method::POST,
            "/goals",
            Some(json!({"name": format!("g{n}"), "event": "signup"})),
        )
        .await;
        assert_eq!(status, 201, "goal {n}: {answer}");
    }
    let (status, answer) = call(
        &s,
        Method::POST,
        "/goals",
        Some(json!({"name": "one more", "event": "signup"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("at most 50 goals"),
        "{answer}"
    );
    let gid = pricing["id"].as_i64().unwrap();
    let (status, changed) = call(
        &s,
        Method::PUT,
        &format!("/goals/{gid}"),
        Some(json!({"name": "Saw the home page", "event": "$pageview", "page": "/"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["page"], "/");
    assert_eq!(
        call(&s, Method::DELETE, &format!("/goals/{gid}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(&s, Method::DELETE, &format!("/goals/{gid}"), None)
            .await
            .0,
        404
    );

    // Viewers read and may not define goals; other organisations see nothing.
    add_user(&s, "viewer@example.com", "default", "viewer");
    let viewer = sign_in(&s, "viewer@example.com").await;
    assert_eq!(viewer.get("/api/projects/1/goals/conversions").await.0, 200);
    let (status, _) = viewer
        .post(
            "/api/projects/1/goals",
            json!({"name": "x", "event": "signup"}),
        )
        .await;
    assert_eq!(status, 403);
    add_user(&s, "outsider@example.com", "elsewhere", "owner");
    let outsider = sign_in(&s, "outsider@example.com").await;
    assert_eq!(outsider.get("/api/projects/1/goals").await.0, 404);
}

#[tokio::test]
async fn revenue_is_kept_per_currency_by_product_and_by_first_touch() {
    let s = Spoor::start().await;
    let d0 = (now_ms() / DAY - 2) * DAY;
    let order =
        |id: &str, ts: i64, who: &str, total: Value, currency: Option<&str>, product: &str| {
            let mut props = json!({"total_amount": total, "product": product});
            if let Some(c) = currency {
                props["currency"] = json!(c);
            }
            msg("track", id, ts, (who, ""), Some("order_completed"), props)
        };
    let mut landing = msg(
        "page",
        "a0",
        d0,
        ("u-a", ""),
        None,
        json!({"url": "https://shop.test/"}),
    );
    landing["context"]["campaign"] = json!({"source": "newsletter", "medium": "email"});
    let (status, body) = s
        .batch(vec![
            landing,
            order("a1", d0 + MIN, "u-a", json!(120000), Some("TZS"), "service"),
            order("a2", d0 + DAY, "u-a", json!("30.5"), Some("EUR"), "parts"),
            order(
                "b1",
                d0 + 2 * MIN,
                "u-b",
                json!(80000),
                Some("TZS"),
                "parts",
            ),
            order(
                "b2",
                d0 + 3 * MIN,
                "u-b",
                json!("free"),
                Some("TZS"),
                "parts",
            ),
            order("c1", d0 + 4 * MIN, "u-c", json!(9), None, "parts"),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let q = format!(
        "/insights/revenue?event=order_completed&amount=total_amount&from={d0}&to={}",
        d0 + 2 * DAY
    );
    let (status, r) = get(&s, &q).await;
    assert_eq!(status, 200, "{r}");
    let c = r["currencies"].as_array().unwrap();
    let summary: Vec<(String, f64, i64, i64)> = c
        .iter()
        .map(|c| {
            (
                c["currency"].as_str().unwrap().to_string(),
                c["total"].as_f64().unwrap(),
                c["orders"].as_i64().unwrap(),
                c["people"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("TZS".into(), 200000.0, 2, 2),
            ("".into(), 9.0, 1, 1),
            ("EUR".into(), 30.5, 1, 1),
        ],
        "never added across currencies; an order without a number is not revenue: {r:#}"
    );
    assert_eq!(values(&c[0]["series"][0]), vec![200000, 0]);
    // By product, from the order itself.
    let (_, r) = get(&s, &format!("{q}&breakdown=product")).await;
    let tzs = &r["currencies"][0]["series"];
    assert_eq!(tzs[0]["breakdown"], "service");
    assert_eq!(tzs[0]["total"], 120000);
    assert_eq!(tzs[1]["breakdown"], "parts");
    // By source, from the payer's first touch: the newsletter brought u-a.
    let (status, r) = get(
        &s,
        &format!("{q}&breakdown=$utm_source&attribution=first_touch"),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let tzs = &r["currencies"][0]["series"];
    assert_eq!(tzs[0]["breakdown"], "newsletter", "{r:#}");
    assert_eq!(tzs[0]["total"], 120000);
    assert_eq!(tzs[1]["breakdown"], "");
    assert_eq!(r["currencies"][2]["series"][0]["breakdown"], "newsletter");

    for (extra, needle) in [
        ("", ""),
        ("&attribution=last_touch", "event or first_touch"),
        ("&amount=x&amount=y", "given once"),
        ("&breakdown=$nope", "$browser"),
    ] {
        let (status, answer) = get(&s, &format!("{q}{extra}")).await;
        if needle.is_empty() {
            assert_eq!(status, 200, "{answer}");
        } else {
            assert_eq!(status, 400, "{extra}: {answer}");
            assert!(
                answer["error"].as_str().unwrap().contains(needle),
                "{answer}"
            );
        }
    }
    let (status, answer) = get(&s, "/insights/revenue?event=order_completed").await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("give `amount`"),
        "{answer}"
    );
    let events = |n: usize| {
        (0..n)
            .map(|i| format!("event=e{i}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    assert_eq!(
        get(&s, &format!("/insights/revenue?amount=t&{}", events(10)))
            .await
            .0,
        200
    );
    assert_eq!(
        get(&s, &format!("/insights/revenue?amount=t&{}", events(11)))
            .await
            .0,
        400
    );
    assert_eq!(get(&s, "/insights/revenue?amount=t").await.0, 400);

    // A revenue question is saved and asked like any other.
    let (status, saved) = post(
        &s,
        "/insights/saved",
        &json!({"name": "Revenue", "kind": "revenue",
            "query": "event=order_completed&amount=total_amount&breakdown=product"}),
    )
    .await;
    assert_eq!(status, 201, "{saved}");
    let (status, asked) = get(
        &s,
        &format!(
            "/insights/saved/{}/result?from={d0}&to={}",
            saved["id"],
            d0 + 2 * DAY
        ),
    )
    .await;
    assert_eq!(status, 200, "{asked}");
    assert_eq!(asked["result"]["currencies"][0]["total"], 200000);
}

#[tokio::test]
async fn segments_narrow_every_insight_to_their_people() {
    use reqwest::Method;
    let s = Spoor::start().await;
    let d0 = (now_ms() / DAY - 2) * DAY;
    let (status, body) = s
        .batch(vec![
            msg(
                "track",
                "a1",
                d0 + MIN,
                ("u-a", ""),
                Some("signup"),
                json!({}),
            ),
            msg(
                "track",
                "a2",
                d0 + 2 * MIN,
                ("u-a", ""),
                Some("order"),
                json!({"total": 10}),
            ),
            msg(
                "track",
                "b1",
                d0 + 3 * MIN,
                ("u-b", ""),
                Some("order"),
                json!({"total": 20}),
            ),
            msg(
                "track",
                "v1",
                d0 + 4 * MIN,
                ("", "anon-v"),
                Some("order"),
                json!({"total": 5}),
            ),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, did) = call(
        &s,
        Method::POST,
        "/segments",
        Some(json!({"name": "Signed up", "event": "signup"})),
    )
    .await;
    assert_eq!(status, 201, "{did}");
    assert_eq!(did["did"], true);
    let (status, did_not) = call(
        &s,
        Method::POST,
        "/segments",
        Some(json!({"name": "Never signed up", "event": "signup", "did": false})),
    )
    .await;
    assert_eq!(status, 201, "{did_not}");
    let (yes, no) = (did["id"].as_i64().unwrap(), did_not["id"].as_i64().unwrap());
    let (_, listed) = get(&s, "/segments").await;
    assert_eq!(listed["segments"].as_array().unwrap().len(), 2);

    let range = format!("from={d0}&to={}", d0 + DAY);
    let orders = |segment: i64| {
        let s = &s;
        let range = &range;
        async move {
            let (status, t) = get(
                s,
                &format!("/insights/trends?event=order&{range}&segment={segment}"),
            )
            .await;
            assert_eq!(status, 200, "{t}");
            values(&t["series"][0])[0]
        }
    };
    assert_eq!(orders(yes).await, 1);
    assert_eq!(orders(no).await, 2, "u-b and the anonymous visitor");
    let (_, r) = get(
        &s,
        &format!("/insights/revenue?event=order&amount=total&{range}&segment={no}"),
    )
    .await;
    assert_eq!(r["currencies"][0]["total"], 25, "{r}");
    let (_, c) = get(&s, &format!("/goals/conversions?{range}&segment={yes}")).await;
    assert_eq!(c["visitors"], 1, "{c}");
    let (status, f) = post(
        &s,
        "/insights/funnel",
        &json!({"steps": [{"event": "signup"}, {"event": "order"}], "window_seconds": 3600,
            "from": d0, "to": d0 + DAY, "segment": no}),
    )
    .await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(f["steps"][0]["people"], 0);
    // A saved question keeps its segment.
    let (status, saved) = post(
        &s,
        "/insights/saved",
        &json!({"name": "Orders of sign-ups", "kind": "trends",
            "query": format!("event=order&segment={yes}")}),
    )
    .await;
    assert_eq!(status, 201, "{saved}");
    let (_, asked) = get(
        &s,
        &format!("/insights/saved/{}/result?{range}", saved["id"]),
    )
    .await;
    assert_eq!(values(&asked["result"]["series"][0])[0], 1, "{asked}");

    for q in ["segment=999999", "segment=abc"] {
        let (status, answer) = get(&s, &format!("/insights/trends?event=order&{q}")).await;
        assert_eq!(status, 400, "{q}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("segment"),
            "{answer}"
        );
    }
    let (status, answer) = call(
        &s,
        Method::POST,
        "/goals",
        Some(json!({"name": "x", "event": "signup", "did": false})),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("segments"),
        "{answer}"
    );
    let (status, changed) = call(
        &s,
        Method::PUT,
        &format!("/segments/{no}"),
        Some(json!({"name": "Ordered", "event": "order"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(orders(no).await, 3);
    assert_eq!(
        call(&s, Method::DELETE, &format!("/segments/{no}"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        call(&s, Method::DELETE, &format!("/segments/{no}"), None)
            .await
            .0,
        404
    );
    add_user(&s, "viewer@example.com", "default", "viewer");
    let viewer = sign_in(&s, "viewer@example.com").await;
    assert_eq!(viewer.get("/api/projects/1/segments").await.0, 200);
    let (status, _) = viewer
        .post(
            "/api/projects/1/segments",
            json!({"name": "x", "event": "signup"}),
        )
        .await;
    assert_eq!(status, 403);
}

/// An `identify` of `user` at `ts` with these traits.
fn identify(id: &str, ts: i64, user: &str, traits: Value) -> Value {
    json!({"type": "identify", "messageId": id, "timestamp": iso(ts), "userId": user,
        "traits": traits})
}

#[tokio::test]
async fn person_properties_narrow_every_insight_to_the_people_who_have_them() {
    let s = Spoor::start().await;
    let d0 = (now_ms() / DAY - 2) * DAY;
    let (status, body) = s
        .batch(vec![
            identify(
                "ia",
                d0 + MIN,
                "u-a",
                json!({"plan": "team", "company": "Acme"}),
            ),
            msg(
                "track",
                "a1",
                d0 + 2 * MIN,
                ("u-a", ""),
                Some("order"),
                json!({"total": 10}),
            ),
            // u-b's later identify arrives first: each key keeps its latest
            // value by event time, whatever the order they are read in.
            identify(
                "ib2",
                d0 + 6 * MIN,
                "u-b",
                json!({"plan": "pro", "seats": 3}),
            ),
            identify("ib1", d0 + MIN, "u-b", json!({"plan": "free"})),
            msg(
                "track",
                "b1",
                d0 + 3 * MIN,
                ("u-b", ""),
                Some("order"),
                json!({"total": 20}),
            ),
            msg(
                "track",
                "v1",
                d0 + 4 * MIN,
                ("", "anon-v"),
                Some("order"),
                json!({"total": 5}),
            ),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    s.when("/api/pipeline", |b| b["behind_events"] == 0).await;

    let range = format!("from={d0}&to={}", d0 + DAY);
    let orders = |people: &'static str| {
        let s = &s;
        let range = &range;
        async move {
            let (status, t) =
                get(s, &format!("/insights/trends?event=order&{range}&{people}")).await;
            assert_eq!(status, 200, "{people}: {t}");
            values(&t["series"][0])[0]
        }
    };
    assert_eq!(orders("person=plan%3Dpro").await, 1, "u-b's latest plan");
    assert_eq!(
        orders("person=plan%3Dfree").await,
        0,
        "an older value is not theirs"
    );
    assert_eq!(
        orders("person=plan!%3Dpro").await,
        2,
        "u-a, and the visitor who has no plan"
    );
    assert_eq!(
        orders("person=plan%3Dpro&person=seats%3D3").await,
        1,
        "numbers as their JSON"
    );
    assert_eq!(
        orders("person=plan%3Dpro&person=seats%3D4").await,
        0,
        "every condition"
    );
    let (_, r) = get(
        &s,
        &format!("/insights/revenue?event=order&amount=total&{range}&person=company%3DAcme"),
    )
    .await;
    assert_eq!(r["currencies"][0]["total"], 10, "{r}");
    let (status, ret) = post(
        &s,
        "/insights/retention",
        &json!({"start_event": "order", "return_event": "order", "period": "day", "periods": 1,
            "from": d0, "to": d0 + DAY, "person": {"plan": "team"}}),
    )
    .await;
    assert_eq!(status, 200, "{ret}");
    assert_eq!(ret["cohorts"][0]["people"], 1, "{ret}");
    // With a segment too: the people in both.
    let (status, seg) = call(
        &s,
        reqwest::Method::POST,
        "/segments",
        Some(json!({"name": "Ordered", "event": "order"})),
    )
    .await;
    assert_eq!(status, 201, "{seg}");
    let both = format!("segment={}&person=plan!%3Dpro", seg["id"]);
    let (_, t) = get(&s, &format!("/insights/trends?event=order&{range}&{both}")).await;
    assert_eq!(values(&t["series"][0])[0], 2, "{t}");
    // A saved question keeps its people.
    let (status, saved) = post(
        &s,
        "/insights/saved",
        &json!({"name": "Pro orders", "kind": "trends", "query": "event=order&person=plan%3Dpro"}),
    )
    .await;
    assert_eq!(status, 201, "{saved}");
    let (_, asked) = get(
        &s,
        &format!("/insights/saved/{}/result?{range}", saved["id"]),
    )
    .await;
    assert_eq!(values(&asked["result"]["series"][0])[0], 1, "{asked}");

    // Refused, with what to fix; ten conditions are taken, eleven are not.
    let ten: String = (0..10).map(|i| format!("&person=k{i}%3Dv")).collect();
    let (status, t) = get(&s, &format!("/insights/trends?event=order&{range}{ten}")).await;
    assert_eq!(status, 200, "{t}");
    for (q, says) in [
        ("person=%24browser%3DChrome", "person property"),
        ("person=plan", "FIELD=VALUE"),
        (&*format!("{ten}&person=k10%3Dv"), "at most 10"),
    ] {
        let (status, answer) = get(&s, &format!("/insights/trends?event=order&{q}")).await;
        assert_eq!(status, 400, "{q}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(says),
            "{q}: {answer}"
        );
    }
    // A value of 1,000 bytes is taken, 1,001 is not; a URL past what the
    // server reads (64 KiB) is a 414, as the OpenAPI document says.
    let long: String = (0..10)
        .map(|i| format!("&person=k{i}%3D{}", "a".repeat(1_000)))
        .collect();
    let (status, t) = get(&s, &format!("/insights/trends?event=order&{range}{long}")).await;
    assert_eq!(status, 200, "{t}");
    let (status, answer) = get(
        &s,
        &format!(
            "/insights/trends?event=order&person=k%3D{}",
            "a".repeat(1_001)
        ),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("1000"),
        "{answer}"
    );
    // Sent by hand: the HTTP client itself builds no URL that long.
    let overlong = format!(
        "GET /api/projects/1/insights/trends?event=order&person=k%3D{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(70_000)
    );
    let status_line = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(s.url.trim_start_matches("http://"))
            .await
            .unwrap();
        tcp.write_all(overlong.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        tcp.read_exact(&mut head).await.unwrap();
        String::from_utf8_lossy(&head).into_owned()
    };
    assert_eq!(status_line, "HTTP/1.1 414", "a URL past 64 KiB");
    let (status, answer) = post(
        &s,
        "/insights/funnel",
        &json!({"steps": [{"event": "order"}, {"event": "order"}], "window_seconds": 60,
            "person": {"$country": "DE"}}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("person property"),
        "{answer}"
    );
}

/// A page view of `path` by `who` in session `session`, with a browser's user agent.
fn view(id: &str, ts: i64, who: (&str, &str), session: &str, path: &str, agent: &str) -> Value {
    let mut m = msg(
        "page",
        id,
        ts,
        who,
        None,
        json!({"url": format!("https://shop.test{path}")}),
    );
    m["context"]["sessionId"] = json!(session);
    m["context"]["userAgent"] = json!(agent);
    m
}

#[tokio::test]
async fn the_overview_takes_the_filter_bar_and_answers_in_its_own_shape() {
    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
    let s = Spoor::start().await;
    let d0 = (now_ms() / DAY - 2) * DAY;
    let mut order = msg(
        "track",
        "o1",
        d0 + 3 * MIN,
        ("u-a", ""),
        Some("order"),
        json!({"plan": "pro"}),
    );
    order["context"]["sessionId"] = json!("s-a");
    let (status, body) = s
        .batch(vec![
            identify("ia", d0, "u-a", json!({"plan": "pro"})),
            view("p1", d0 + MIN, ("u-a", ""), "s-a", "/pricing", CHROME),
            view("p2", d0 + 2 * MIN, ("u-a", ""), "s-a", "/", CHROME),
            order,
            view("p3", d0 + 4 * MIN, ("u-b", ""), "s-b", "/", FIREFOX),
            view(
                "p4",
                d0 + 5 * MIN,
                ("", "anon-v"),
                "s-v",
                "/pricing",
                FIREFOX,
            ),
            view(
                "p5",
                d0 + 6 * MIN,
                ("", "anon-v"),
                "s-v2",
                "/pricing",
                FIREFOX,
            ),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    s.when("/api/pipeline", |b| b["behind_events"] == 0).await;
    let range = format!("from={d0}&to={}", d0 + DAY);
    let overview = |filter: &'static str| {
        let s = &s;
        let range = &range;
        async move {
            let (status, o) = get(s, &format!("/overview?{range}&{filter}")).await;
            assert_eq!(status, 200, "{filter}: {o}");
            let series_events: i64 = o["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["events"].as_i64().unwrap())
                .sum();
            assert_eq!(
                series_events,
                o["totals"]["events"].as_i64().unwrap(),
                "{o}"
            );
            o
        }
    };
    let totals = |o: &Value| {
        let t = &o["totals"];
        [
            &t["events"],
            &t["pageviews"],
            &t["visitors"],
            &t["sessions"],
        ]
        .map(|v| v.as_i64().unwrap())
    };
    let pages = |o: &Value| {
        o["top"]["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["value"].as_str().unwrap().to_string(),
                    r["count"].as_i64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };

    let pricing = overview("where=%24page%3D%2Fpricing").await;
    assert_eq!(totals(&pricing), [3, 3, 2, 3], "{pricing}");
    assert_eq!(
        pages(&pricing),
        [("https://shop.test/pricing".to_string(), 3)]
    );
    assert_eq!(
        pricing["top"]["browsers"][0]["value"], "Firefox",
        "{pricing}"
    );
    assert_eq!(pricing["top"]["browsers"][0]["count"], 2, "{pricing}");
    let firefox = overview("where=%24browser%3DFirefox&where=%24page!%3D%2F").await;
    assert_eq!(
        totals(&firefox),
        [2, 2, 1, 2],
        "the visitor's two views: {firefox}"
    );
    let pro = overview("person=plan%3Dpro").await;
    assert_eq!(totals(&pro), [3, 2, 1, 1], "u-a's views and order: {pro}");
    assert!(
        pro["top"]["referrers"].as_array().unwrap().is_empty(),
        "{pro}"
    );
    let property = overview("where=plan%3Dpro").await;
    assert_eq!(
        totals(&property),
        [1, 0, 1, 1],
        "the order alone: {property}"
    );
    let (status, seg) = call(
        &s,
        reqwest::Method::POST,
        "/segments",
        Some(json!({"name": "Saw pricing", "event": "$pageview", "page": "/pricing"})),
    )
    .await;
    assert_eq!(status, 201, "{seg}");
    let segment = format!("segment={}&where=%24page%3D%2F", seg["id"]);
    let (status, o) = get(&s, &format!("/overview?{range}&{segment}")).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(
        totals(&o),
        [2, 1, 1, 1],
        "u-a's view of / and the order made on it: {o}"
    );
    // Without a filter: the whole range, from rollups and the log.
    let all = overview("").await;
    assert_eq!(all["totals"]["pageviews"], 5, "{all}");

    for (q, says) in [
        ("where=%24nope%3D1", "not a field"),
        ("where=plan", "FIELD=VALUE"),
        ("person=%24country%3DDE", "person property"),
        ("segment=999999", "segment"),
        ("bots=maybe", "true or false"),
        ("range=7d&range=30d", "once"),
    ] {
        let (status, answer) = get(&s, &format!("/overview?{q}")).await;
        assert_eq!(status, 400, "{q}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(says),
            "{q}: {answer}"
        );
    }
    let ten: String = (0..10).map(|i| format!("&where=k{i}%3Dv")).collect();
    assert_eq!(get(&s, &format!("/overview?{range}{ten}")).await.0, 200);
    let (status, answer) = get(&s, &format!("/overview?{range}{ten}&where=k10%3Dv")).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("at most 10"),
        "{answer}"
    );
}
