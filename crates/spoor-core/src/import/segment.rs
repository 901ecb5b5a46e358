//! Segment's and RudderStack's own shapes: messages as their HTTP APIs take
//! them (and as `spoor export events` writes them), and their warehouses'
//! flat CSV rows.

use serde_json::{Map, Value, json};

use super::fields::{object, row_message_id, text, time};
use super::{Imported, Skip};
use crate::Enrichment;

/// A message as sent, or as Spoor exported it (with `projectId` and the
/// stored `enrichment`, which is kept).
pub fn message(row: Map<String, Value>) -> Result<Imported, Skip> {
    let has_id = match row.get("messageId") {
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Number(_)) => true,
        _ => false,
    };
    let id = (!has_id).then(|| row_message_id("imp", &row, None, ""));
    let mut m = row;
    let enrichment = match m.remove("enrichment") {
        Some(e @ Value::Object(_)) => serde_json::from_value::<Enrichment>(e).ok(),
        _ => None,
    };
    m.remove("projectId");
    if let Some(id) = id {
        m.insert("messageId".into(), json!(id));
    }
    Ok(Imported {
        message: Value::Object(m),
        enrichment,
    })
}

/// A row of `spoor export events --format csv`: its `message` column is the
/// stored message, its other columns the enrichment.
pub fn spoor_csv_row(row: &Map<String, Value>) -> Result<Imported, Skip> {
    let message = match row.get("message") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok(),
        Some(v @ Value::Object(_)) => Some(v.clone()),
        _ => None,
    };
    let Some(Value::Object(message)) = message else {
        return Err(Skip::new(
            "invalid_row",
            "the `message` column does not hold a JSON object",
        ));
    };
    let t = |f: &str| text(row, &[f]);
    let enrichment = Enrichment {
        ip: t("ip"),
        country: t("country"),
        region: t("region"),
        city: t("city"),
        browser: t("browser"),
        browser_version: t("browser_version"),
        os: t("os"),
        os_version: t("os_version"),
        device_type: t("device_type"),
        is_bot: t("is_bot").as_deref() == Some("true"),
    };
    Ok(Imported {
        message: Value::Object(message),
        enrichment: Some(enrichment),
    })
}

/// Columns of a warehouse row that are part of the message, not properties.
const RESERVED: [&str; 16] = [
    "id",
    "message_id",
    "type",
    "event",
    "event_text",
    "name",
    "user_id",
    "anonymous_id",
    "timestamp",
    "original_timestamp",
    "sent_at",
    "received_at",
    "uuid_ts",
    "properties",
    "traits",
    "context",
];

/// A flat warehouse row (Segment's `tracks`/`pages`/`identifies` tables,
/// RudderStack's likewise): `context_page_url` and friends become the
/// context, other columns the properties (or traits, for an identify).
pub fn warehouse_row(row: &Map<String, Value>) -> Result<Imported, Skip> {
    let kind = match text(row, &["type"]) {
        Some(t) => t,
        None if text(row, &["event", "event_text"]).is_some() => "track".into(),
        None if text(
            row,
            &[
                "name",
                "context_page_path",
                "context_page_url",
                "path",
                "url",
            ],
        )
        .is_some() =>
        {
            "page".into()
        }
        None => "identify".into(),
    };
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    let own_id = text(row, &["message_id", "id"]);
    m.insert(
        "messageId".into(),
        json!(
            own_id
                .clone()
                .unwrap_or_else(|| row_message_id("imp", row, None, ""))
        ),
    );
    for (field, names) in [
        ("userId", &["user_id"][..]),
        ("anonymousId", &["anonymous_id"]),
        ("event", &["event_text", "event"]),
        ("name", &["name"]),
    ] {
        if let Some(v) = text(row, names) {
            m.insert(field.into(), json!(v));
        }
    }
    if let Some(t) = time(row, &["timestamp", "original_timestamp"]) {
        m.insert("timestamp".into(), json!(t));
    }
    if let Some(t) = time(row, &["received_at"]) {
        m.insert("receivedAt".into(), json!(t));
    }
    let mut context = object(row, "context");
    let mut page = Map::new();
    let mut props = object(
        row,
        if kind == "identify" {
            "traits"
        } else {
            "properties"
        },
    );
    for (column, value) in row {
        if RESERVED.contains(&column.as_str()) || value.is_null() {
            continue;
        }
        if value.as_str().is_some_and(|s| s.is_empty()) {
            continue;
        }
        if let Some(rest) = column.strip_prefix("context_page_") {
            page.insert(rest.into(), value.clone());
        } else if let Some(rest) = column.strip_prefix("context_") {
            let key = match rest {
                "user_agent" => "userAgent",
                "session_id" => "sessionId",
                other => other,
            };
            context.insert(key.into(), value.clone());
        } else {
            props.insert(column.clone(), value.clone());
        }
    }
    if !page.is_empty() {
        context.insert("page".into(), Value::Object(page));
    }
    m.insert("context".into(), Value::Object(context));
    m.insert(
        if kind == "identify" {
            "traits"
        } else {
            "properties"
        }
        .into(),
        Value::Object(props),
    );
    Ok(Imported::plain(Value::Object(m)))
}
