//! Seed 002's tracking body turned into Spoor's `$` events, for
//! `POST /functions/v1/ingest-events`.
//!
//! The body is `{"session_id", "user_id"?, "page_url", "user_agent"?,
//! "events": [{"type", "timestamp", "page_url"?, "data": {...}}]}`:
//! - `friction` events become `$rage_click`, `$dead_click`, `$exception`
//!   (`javascript_error`, `unhandled_rejection`) or `$form_error`
//!   (`form_validation_error`), with the SDK's property names;
//! - `heatmap` events become `$click` (`interaction: "click"`) or a `page`
//!   view (`interaction: "pageview"`);
//! - a `performance` event becomes one `$web_vital` per metric it carries
//!   (`loadTime` as LOAD, `firstContentfulPaint` as FCP, `timeToInteractive`
//!   as TTI).
//!
//! Message ids are derived from the session, the event's type, time and
//! data, so a batch sent again is stored once.

use serde_json::{Map, Value, json};

use super::message_id;

/// The seed's three event types, in the response's `breakdown` order.
pub const TYPES: [&str; 3] = ["friction", "heatmap", "performance"];

const FRICTION_TYPES: [&str; 5] = [
    "rage_click",
    "dead_click",
    "javascript_error",
    "unhandled_rejection",
    "form_validation_error",
];

const PERFORMANCE_METRICS: [(&str, &str); 3] = [
    ("loadTime", "LOAD"),
    ("firstContentfulPaint", "FCP"),
    ("timeToInteractive", "TTI"),
];

/// The request-level fields every event of the body shares.
pub struct Envelope {
    pub session_id: String,
    pub user_id: Option<String>,
    pub page_url: Option<String>,
    pub user_agent: Option<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

impl Envelope {
    /// The shared fields; an `Err` says what to fix.
    pub fn parse(body: &Value) -> Result<Envelope, String> {
        let session_id = text(body.get("session_id"))
            .filter(|s| s.len() <= 200)
            .ok_or("send session_id: the visit's id, 1 to 200 characters")?;
        Ok(Envelope {
            session_id,
            user_id: text(body.get("user_id")),
            page_url: text(body.get("page_url")),
            user_agent: text(body.get("user_agent")),
        })
    }
}

/// One seed event's type (its index in [`TYPES`]) and the messages it becomes.
pub fn translate(env: &Envelope, event: &Value) -> Result<(usize, Vec<Value>), String> {
    let Some(e) = event.as_object() else {
        return Err("each event must be an object with type, timestamp and data".into());
    };
    let kind = match e.get("type").and_then(Value::as_str) {
        Some(t) => TYPES
            .iter()
            .position(|k| *k == t)
            .ok_or_else(|| format!("type {t:?} is not one of friction, heatmap, performance"))?,
        None => return Err("send type: friction, heatmap or performance".into()),
    };
    let empty = Map::new();
    let data = match e.get("data") {
        Some(Value::Object(d)) => d,
        None | Some(Value::Null) => &empty,
        Some(_) => return Err("data must be an object".into()),
    };
    let timestamp = match e.get("timestamp") {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(ms) => Value::String(crate::time::format_iso(ms)),
            None => return Err("timestamp must be ISO-8601 text or ms since the epoch".into()),
        },
        _ => return Err("send timestamp: ISO-8601 text or ms since the epoch".into()),
    };
    let page_url = text(e.get("page_url")).or_else(|| env.page_url.clone());
    let stamp = timestamp.as_str().unwrap_or_default().to_string();
    let data_text = Value::Object(data.clone()).to_string();
    let message = |kind: &str, name: Option<&str>, properties: Value, part: &str| {
        let mut m = json!({
            "type": kind,
            "anonymousId": env.session_id,
            "timestamp": timestamp,
            "messageId": message_id("f", &[&env.session_id, name.unwrap_or(kind), &stamp, part, &data_text]),
            "properties": properties,
            "context": {"sessionId": env.session_id},
        });
        if let Some(name) = name {
            m["event"] = json!(name);
        }
        if let Some(user) = &env.user_id {
            m["userId"] = json!(user);
        }
        if let Some(url) = &page_url {
            m["context"]["page"] = json!({ "url": url });
            if kind == "page" {
                m["properties"]["url"] = json!(url);
            }
        }
        if let Some(agent) = &env.user_agent {
            m["context"]["userAgent"] = json!(agent);
        }
        m
    };
    let field = |k: &str| data.get(k).cloned().unwrap_or(Value::Null);
    let messages = match kind {
        0 => {
            let t = data
                .get("friction_type")
                .and_then(Value::as_str)
                .unwrap_or("");
            let at = || json!({"selector": field("element_selector"), "text": field("element_text"), "x": field("x"), "y": field("y")});
            match t {
                "rage_click" => {
                    let mut p = at();
                    p["count"] = field("click_count");
                    vec![message("track", Some("$rage_click"), p, "")]
                }
                "dead_click" => vec![message("track", Some("$dead_click"), at(), "")],
                "javascript_error" | "unhandled_rejection" => {
                    let error_type = text(data.get("error_type")).unwrap_or_else(|| {
                        if t == "unhandled_rejection" {
                            "UnhandledRejection"
                        } else {
                            "Error"
                        }
                        .into()
                    });
                    vec![message(
                        "track",
                        Some("$exception"),
                        json!({"type": error_type, "message": field("message"), "stack": field("stack")}),
                        "",
                    )]
                }
                "form_validation_error" => vec![message(
                    "track",
                    Some("$form_error"),
                    json!({"form": field("form"), "field": field("field"), "message": field("message"),
                           "selector": field("element_selector"), "source": "seed"}),
                    "",
                )],
                other => {
                    return Err(format!(
                        "friction_type {other:?} is not one of {}",
                        FRICTION_TYPES.join(", ")
                    ));
                }
            }
        }
        1 => match data
            .get("interaction")
            .and_then(Value::as_str)
            .unwrap_or("click")
        {
            "click" => vec![message(
                "track",
                Some("$click"),
                json!({"x": field("x"), "y": field("y"), "selector": field("element_selector"),
                       "text": field("element_text"),
                       "viewport": {"width": field("viewport_width"), "height": field("viewport_height")}}),
                "",
            )],
            "pageview" => vec![message("page", None, json!({}), "")],
            other => return Err(format!("interaction {other:?} is not click or pageview")),
        },
        _ => {
            let vitals: Vec<Value> = PERFORMANCE_METRICS
                .iter()
                .filter_map(|(field, name)| {
                    let v = data
                        .get(*field)
                        .and_then(Value::as_f64)
                        .filter(|v| *v >= 0.0)?;
                    Some(message(
                        "track",
                        Some("$web_vital"),
                        json!({"name": name, "value": v}),
                        name,
                    ))
                })
                .collect();
            if vitals.is_empty() {
                return Err("a performance event needs loadTime, firstContentfulPaint or timeToInteractive in ms".into());
            }
            vitals
        }
    };
    Ok((kind, messages))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Envelope {
        Envelope::parse(
            &json!({"session_id": "s1", "user_id": "u1", "page_url": "https://s.com/a"}),
        )
        .unwrap()
    }

    #[test]
    fn each_seed_event_maps_onto_spoor_events() {
        let (k, m) = translate(&env(), &json!({"type": "friction", "timestamp": 1_700_000_000_000i64,
            "data": {"friction_type": "rage_click", "element_selector": "#buy", "x": 0.5, "y": 10, "click_count": 4}})).unwrap();
        assert_eq!(k, 0);
        assert_eq!(m[0]["event"], "$rage_click");
        assert_eq!(m[0]["properties"]["count"], 4);
        assert_eq!(m[0]["userId"], "u1");
        assert_eq!(m[0]["context"]["page"]["url"], "https://s.com/a");
        let (_, m) = translate(
            &env(),
            &json!({"type": "performance", "timestamp": "2026-11-20T10:00:00Z",
            "data": {"loadTime": 1200, "firstContentfulPaint": 800}}),
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert_ne!(m[0]["messageId"], m[1]["messageId"]);
        let (k, m) = translate(&env(), &json!({"type": "heatmap", "timestamp": "2026-11-20T10:00:00Z", "page_url": "https://s.com/b",
            "data": {"interaction": "pageview"}})).unwrap();
        assert_eq!((k, m[0]["type"].as_str()), (1, Some("page")));
        assert_eq!(m[0]["properties"]["url"], "https://s.com/b");
        let err = translate(
            &env(),
            &json!({"type": "friction", "timestamp": 1, "data": {"friction_type": "x"}}),
        )
        .unwrap_err();
        assert!(err.contains("friction_type"), "{err}");
        assert!(
            translate(&env(), &json!({"type": "other", "timestamp": 1}))
                .unwrap_err()
                .contains("not one of")
        );
        // The same event sent twice has the same id.
        let e =
            json!({"type": "friction", "timestamp": 5, "data": {"friction_type": "dead_click"}});
        assert_eq!(
            translate(&env(), &e).unwrap().1[0]["messageId"],
            translate(&env(), &e).unwrap().1[0]["messageId"]
        );
    }
}
