//! Umami's data export: one row per `website_event`, with its session's
//! device and place. `event_type` 1 is a page view, 2 a custom event.
//! Umami's `session_id` identifies a visitor's browser (the anonymous id);
//! its `visit_id` is the visit (the session).

use serde_json::{Map, Value, json};

use super::fields::{row_message_id, text, time};
use super::{Imported, Skip};
use crate::Enrichment;

pub fn event(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let visitor = text(row, &["session_id"])
        .ok_or_else(|| Skip::new("missing_field", "the row has no session_id"))?;
    let at = time(row, &["created_at"])
        .ok_or_else(|| Skip::new("missing_field", "the row has no created_at"))?;
    let kind = text(row, &["event_type"]).unwrap_or_else(|| "1".into());
    let path = text(row, &["url_path"]).unwrap_or_else(|| "/".into());
    let query = text(row, &["url_query"]).filter(|q| !q.is_empty());
    let host = text(row, &["hostname"]);
    let url = host.as_ref().map(|h| match &query {
        Some(q) => format!("https://{h}{path}?{}", q.trim_start_matches('?')),
        None => format!("https://{h}{path}"),
    });
    let referrer = text(row, &["referrer_domain"]).map(|d| {
        let p = text(row, &["referrer_path"]).unwrap_or_default();
        format!("https://{d}{p}")
    });
    let mut page = json!({"path": path});
    if let Some(u) = &url {
        page["url"] = json!(u);
    }
    if let Some(r) = &referrer {
        page["referrer"] = json!(r);
    }
    if let Some(t) = text(row, &["page_title"]) {
        page["title"] = json!(t);
    }
    let mut campaign = Map::new();
    for (to, from) in [
        ("source", "utm_source"),
        ("medium", "utm_medium"),
        ("name", "utm_campaign"),
        ("term", "utm_term"),
        ("content", "utm_content"),
    ] {
        if let Some(v) = text(row, &[from]) {
            campaign.insert(to.into(), json!(v));
        }
    }
    let mut context = json!({"page": page});
    if let Some(v) = text(row, &["visit_id"]) {
        context["sessionId"] = json!(v);
    }
    if !campaign.is_empty() {
        context["campaign"] = Value::Object(campaign);
    }
    if let Some(l) = text(row, &["language"]) {
        context["locale"] = json!(l);
    }
    let own_id = text(row, &["event_id"]);
    let mut m = json!({
        "anonymousId": visitor,
        "messageId": row_message_id("imp-u", row, own_id.as_deref(), ""),
        "timestamp": at,
        "context": context,
    });
    match kind.as_str() {
        "1" => {
            m["type"] = json!("page");
            m["properties"] = page.clone();
            if let Some(t) = text(row, &["page_title"]) {
                m["name"] = json!(t);
            }
        }
        "2" => {
            let name = text(row, &["event_name"]).ok_or_else(|| {
                Skip::new(
                    "missing_field",
                    "a custom event (event_type 2) has no event_name",
                )
            })?;
            m["type"] = json!("track");
            m["event"] = json!(name);
            m["properties"] = json!({"path": path});
        }
        other => {
            return Err(Skip::new(
                "unknown_type",
                format!("event_type {other:?} is not 1 (page view) or 2 (custom event)"),
            ));
        }
    }
    let t = |f: &str| text(row, &[f]);
    let enrichment = Enrichment {
        ip: None,
        country: t("country"),
        region: t("region"),
        city: t("city"),
        browser: t("browser"),
        browser_version: None,
        os: t("os"),
        os_version: None,
        device_type: t("device"),
        is_bot: false,
    };
    Ok(vec![Imported {
        message: m,
        enrichment: Some(enrichment),
    }])
}
