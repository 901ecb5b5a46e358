//! Seed 000's beacon route, `POST /api/tracking/flush`, answers exactly as that
//! system documented and feeds the same pipeline as the Segment API.

mod common;

use common::{Spoor, status_json};
use serde_json::json;

#[tokio::test]
async fn flush_stores_behaviour_events_and_answers_like_the_seed() {
    let s = Spoor::start().await;
    let body = json!({
        "user_id": "user-42",
        "events": [
            {"id": "11111111-1111-4111-8111-111111111111", "behavior_type": "property_view", "property_id": "prop-7",
             "metadata": {"source": "property_list", "view_type": "detail_page"}, "session_id": "sess-1",
             "created_at": "2026-11-20T09:00:00Z"},
            {"behavior_type": "search", "metadata": {"query": "2 bedroom", "filters": {"price_max": 500}}},
            {"metadata": {"no": "type"}}
        ]
    });
    let r = s
        .post(&format!("/api/tracking/flush?api_key={}", s.key))
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let (status, resp) = status_json(r).await;
    assert_eq!(status, 200);
    assert_eq!(resp, json!({"success": true, "inserted": 2}));
    let events = s.events("default").await;
    assert_eq!(events.len(), 2);
    let view = events
        .iter()
        .find(|e| e["event"] == "property_view")
        .unwrap();
    assert_eq!(view["type"], "track");
    assert_eq!(view["userId"], "user-42");
    assert_eq!(view["messageId"], "11111111-1111-4111-8111-111111111111");
    assert_eq!(view["properties"]["property_id"], "prop-7");
    assert_eq!(view["properties"]["view_type"], "detail_page");
    assert_eq!(view["context"]["sessionId"], "sess-1");
    assert_eq!(view["timestamp"], "2026-11-20T09:00:00.000Z");
    let search = events.iter().find(|e| e["event"] == "search").unwrap();
    assert_eq!(search["properties"]["filters"]["price_max"], 500);
    assert_eq!(
        search["messageId"].as_str().unwrap().len(),
        36,
        "ids are generated for events without one"
    );

    // A beacon sent twice (a retry) inserts nothing the second time.
    let again = s
        .post("/api/tracking/flush")
        .basic_auth(&s.key, Some(""))
        .json(&json!({"user_id": "user-42", "events": [body["events"][0]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_json(again).await.1,
        json!({"success": true, "inserted": 0})
    );
}

#[tokio::test]
async fn flush_errors_are_the_seeds() {
    let s = Spoor::start().await;
    let send = |body: serde_json::Value| {
        s.post("/api/tracking/flush")
            .header("x-api-key", &s.key)
            .json(&body)
            .send()
    };
    for bad in [
        json!({"user_id": "u"}),
        json!({"events": "nope", "user_id": "u"}),
        json!({}),
    ] {
        let (status, resp) = status_json(send(bad).await.unwrap()).await;
        assert_eq!(status, 400);
        assert_eq!(
            resp,
            json!({"error": "Missing or invalid events array", "code": "bad_request"})
        );
    }
    let (status, resp) = status_json(send(json!({"events": []})).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(
        resp,
        json!({"error": "Missing or invalid user_id", "code": "bad_request"})
    );
    let no_key = s
        .post("/api/tracking/flush")
        .json(&json!({"events": [], "user_id": "u"}))
        .send()
        .await
        .unwrap();
    let (status, resp) = status_json(no_key).await;
    assert_eq!(status, 401);
    assert!(resp["error"].is_string());
    let preflight = s
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/tracking/flush", s.url),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
}
