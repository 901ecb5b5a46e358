//! The seed products' Supabase tables, as their owners export them (CSV or
//! one JSON object a line), turned into the messages their routes would have
//! sent, through the same translations (`crate::seed`) where a route exists.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::fields::{number_value, object, row_message_id, text, time};
use super::{Imported, Skip};
use crate::Enrichment;
use crate::event::SESSION_END;
use crate::seed::{crm, flush, friction, widget};

fn invalid(detail: impl Into<String>) -> Skip {
    Skip::new("invalid_row", detail)
}

fn missing(what: &str) -> Skip {
    Skip::new("missing_field", format!("the row has no {what}"))
}

/// A copy of the row with its times in RFC 3339 (PostgreSQL's text form is
/// not) and its `metadata` as an object (a CSV cell holds it as text).
fn normalised(row: &Map<String, Value>) -> Map<String, Value> {
    let mut r = row.clone();
    for field in ["timestamp", "created_at"] {
        if let Some(t) = time(row, &[field]) {
            r.insert(field.into(), json!(t));
        }
    }
    if row.contains_key("metadata") {
        r.insert("metadata".into(), Value::Object(object(row, "metadata")));
    }
    r
}

/// Seed 000's `user_behavior` (or `tracking_events`) row: the flush route's
/// event, with the row's own user.
pub fn behavior(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let user = text(row, &["user_id"]).ok_or_else(|| missing("user_id"))?;
    let r = normalised(row);
    let mut m = flush::to_track(&Value::Object(r), &json!(user));
    if m.get("messageId").is_none() {
        m["messageId"] = json!(row_message_id("imp-b", row, None, ""));
    }
    Ok(vec![Imported::plain(m)])
}

/// Seed 001's `widget_analytics` row: the widget route's event.
pub fn widget(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let widget_id = text(row, &["widget_id"]).ok_or_else(|| missing("widget_id"))?;
    let r = normalised(row);
    let mut m = widget::message(&widget_id, &Value::Object(r)).map_err(invalid)?;
    if m.get("messageId").is_none() {
        let id = text(row, &["id"]);
        m["messageId"] = json!(row_message_id("imp-w", row, id.as_deref(), ""));
    }
    Ok(vec![Imported::plain(m)])
}

/// The seed-002 route's envelope and event for one table row.
fn friction_row(
    row: &Map<String, Value>,
    kind: &str,
    data: Map<String, Value>,
) -> Result<Vec<Imported>, Skip> {
    let envelope = friction::Envelope::parse(&Value::Object(row.clone())).map_err(invalid)?;
    let at = time(row, &["timestamp", "created_at"]).ok_or_else(|| missing("created_at"))?;
    let mut event = json!({"type": kind, "timestamp": at, "data": data});
    if let Some(url) = text(row, &["page_url"]) {
        event["page_url"] = json!(url);
    }
    let (_, messages) = friction::translate(&envelope, &event).map_err(invalid)?;
    Ok(messages.into_iter().map(Imported::plain).collect())
}

/// Seed 002's `friction_events` row (`event_type` is the friction's kind).
pub fn friction(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let mut data = object(row, "metadata");
    let kind = text(row, &["event_type", "friction_type"]).ok_or_else(|| missing("event_type"))?;
    data.insert("friction_type".into(), json!(kind));
    for (to, from) in [
        ("element_selector", &["element_selector", "selector"][..]),
        ("element_text", &["element_text"]),
        ("message", &["error_message", "message"]),
        ("stack", &["error_stack", "stack"]),
        ("error_type", &["error_type"]),
        ("form", &["form_id", "form"]),
        ("field", &["field_name", "field"]),
    ] {
        if let Some(v) = text(row, from) {
            data.insert(to.into(), json!(v));
        }
    }
    for (to, from) in [("x", "x"), ("y", "y"), ("click_count", "click_count")] {
        let v = number_value(row, &[from]);
        if !v.is_null() {
            data.insert(to.into(), v);
        }
    }
    friction_row(row, "friction", data)
}

/// Seed 002's `heatmap_data` row.
pub fn heatmap(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let mut data = object(row, "metadata");
    let interaction = text(row, &["interaction_type", "interaction"]).unwrap_or("click".into());
    data.insert("interaction".into(), json!(interaction));
    for (to, from) in [
        ("element_selector", "element_selector"),
        ("element_text", "element_text"),
    ] {
        if let Some(v) = text(row, &[from]) {
            data.insert(to.into(), json!(v));
        }
    }
    for f in ["x", "y", "viewport_width", "viewport_height"] {
        let v = number_value(row, &[f]);
        if !v.is_null() {
            data.insert(f.into(), v);
        }
    }
    friction_row(row, "heatmap", data)
}

/// Seed 002's `page_performance_metrics` row: one vital per metric it holds.
pub fn performance(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let mut data = Map::new();
    for (to, from) in [
        ("loadTime", &["load_time", "loadTime"][..]),
        (
            "firstContentfulPaint",
            &["first_contentful_paint", "firstContentfulPaint"],
        ),
        (
            "timeToInteractive",
            &["time_to_interactive", "timeToInteractive"],
        ),
    ] {
        let v = number_value(row, from);
        if !v.is_null() {
            data.insert(to.into(), v);
        }
    }
    if data.is_empty() {
        return Err(missing(
            "load_time, first_contentful_paint or time_to_interactive",
        ));
    }
    friction_row(row, "performance", data)
}

/// Seed 003's track-event body, as its route would have taken it. A body
/// without `event_id` and `timestamp` gets an id from its content alone, so
/// identical such bodies in one file are stored once.
pub fn crm_event(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let mut body = row.clone();
    if let Some(t) = time(row, &["timestamp"]) {
        body.insert("timestamp".into(), json!(t));
    }
    let t = crm::track(&Value::Object(body), 0).map_err(invalid)?;
    Ok(vec![Imported::plain(t.message)])
}

/// Who a seed-003 contact is, as messages name them.
#[derive(Clone)]
struct Contact {
    user_id: String,
}

/// Seed 003's contacts by their CRM id, learnt in the importer's first pass:
/// its key-value store lists `crm_activity_*` before `crm_contact_*`.
#[derive(Default)]
pub struct CrmContacts {
    by_id: HashMap<String, Contact>,
}

/// The most contacts remembered: a store with more is a store of something else.
const MAX_CONTACTS: usize = 5_000_000;

fn kv(row: &Map<String, Value>) -> Option<(String, Map<String, Value>)> {
    let key = text(row, &["key"])?;
    Some((key, object(row, "value")))
}

fn contact_user(value: &Map<String, Value>) -> Option<String> {
    text(value, &["user_id", "customer_id", "external_id"])
        .or_else(|| text(value, &["email"]).and_then(|e| crm::normal_email(&e)))
        .or_else(|| text(value, &["id"]))
}

impl CrmContacts {
    pub fn learn(&mut self, row: &Map<String, Value>) {
        if self.by_id.len() >= MAX_CONTACTS {
            return;
        }
        let Some((key, value)) = kv(row) else { return };
        if let Some(id) = key.strip_prefix("crm_contact_")
            && !id.starts_with("email_")
            && let Some(user_id) = contact_user(&value)
        {
            let id = text(&value, &["id"]).unwrap_or_else(|| id.to_string());
            self.by_id.insert(id, Contact { user_id });
        }
    }

    /// A record of the store: a contact becomes an identify with its fields as
    /// traits; an activity a track on its contact; the rest (tasks, indexes)
    /// is derived again by Spoor's CRM from these.
    pub fn record(&self, row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
        let (key, value) = kv(row).ok_or_else(|| missing("key"))?;
        if key.starts_with("crm_contact_email_") {
            return Err(Skip::new(
                "crm_index",
                "an email index of the old CRM; Spoor indexes contacts itself",
            ));
        }
        if let Some(id) = key.strip_prefix("crm_contact_") {
            let user_id = contact_user(&value).ok_or_else(|| missing("contact id or email"))?;
            let mut traits = value.clone();
            traits.remove("id");
            let mut m = json!({
                "type": "identify",
                "userId": user_id,
                "messageId": row_message_id("imp-crm", row, Some(&key), ""),
                "traits": traits,
                "properties": {"crm_contact_id": id},
            });
            if let Some(t) = time(&value, &["created_at", "updated_at"]) {
                m["timestamp"] = json!(t);
            }
            return Ok(vec![Imported::plain(m)]);
        }
        if key.starts_with("crm_activity_") {
            let contact_id = text(&value, &["contact_id"]).ok_or_else(|| missing("contact_id"))?;
            let contact = self.by_id.get(&contact_id).ok_or_else(|| {
                Skip::new(
                    "unknown_contact",
                    format!("the activity's contact {contact_id:?} is not in the file"),
                )
            })?;
            let name = text(&value, &["event_type", "type", "activity_type", "action"])
                .ok_or_else(|| missing("activity type"))?;
            let mut props = object(&value, "event_data");
            props.extend(object(&value, "data"));
            props.extend(object(&value, "metadata"));
            if let Some(d) = text(&value, &["description"]) {
                props.insert("description".into(), json!(d));
            }
            let mut m = json!({
                "type": "track",
                "event": name,
                "userId": contact.user_id,
                "messageId": row_message_id("imp-crm", row, Some(&key), ""),
                "properties": props,
            });
            if let Some(t) = time(&value, &["timestamp", "created_at"]) {
                m["timestamp"] = json!(t);
            }
            return Ok(vec![Imported::plain(m)]);
        }
        if key.starts_with("crm_task_") {
            return Err(Skip::new(
                "crm_task",
                "a follow-up task of the old CRM; Spoor's rules create tasks again from the events",
            ));
        }
        Err(Skip::new(
            "not_crm",
            format!("{key:?} is not a crm_contact_ or crm_activity_ record"),
        ))
    }
}

/// Seed 004's device columns as the enrichment Spoor would have derived.
fn session_enrichment(row: &Map<String, Value>) -> Option<Enrichment> {
    let t = |names: &[&str]| text(row, names);
    let e = Enrichment {
        ip: t(&["ip_address", "ip"]),
        country: t(&["country"]),
        region: t(&["region"]),
        city: t(&["city"]),
        browser: t(&["browser"]),
        browser_version: t(&["browser_version"]),
        os: t(&["os"]),
        os_version: t(&["os_version"]),
        device_type: t(&["device_type", "device"]).map(|d| d.to_lowercase()),
        is_bot: false,
    };
    (e != Enrichment::default()).then_some(e)
}

/// Seed 004's `user_sessions` row: the session's start and, when it ended,
/// its end (an explicit one: sign-out or the page's unload ended it).
pub fn session(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let user = text(row, &["user_id"]).ok_or_else(|| missing("user_id"))?;
    let session = text(row, &["session_id"]).ok_or_else(|| missing("session_id"))?;
    let started = time(row, &["started_at"]).ok_or_else(|| missing("started_at"))?;
    let enrichment = session_enrichment(row);
    let id = text(row, &["id"]).unwrap_or_else(|| format!("{user}\u{1f}{session}"));
    let mut out = vec![Imported {
        message: json!({
            "type": "track",
            "event": "Session Started",
            "userId": user,
            "messageId": row_message_id("imp-s", row, Some(&id), "start"),
            "timestamp": started,
            "context": {"sessionId": session},
        }),
        enrichment: enrichment.clone(),
    }];
    if let Some(ended) = time(row, &["ended_at"]) {
        out.push(Imported {
            message: json!({
                "type": "track",
                "event": SESSION_END,
                "userId": user,
                "messageId": row_message_id("imp-s", row, Some(&id), "end"),
                "timestamp": ended,
                "properties": {"reason": "explicit"},
                "context": {"sessionId": session},
            }),
            enrichment,
        });
    }
    Ok(out)
}

fn purchase(
    row: &Map<String, Value>,
    event: &str,
    id_prop: &str,
    needs: (&str, &[&str]),
    extra: &[(&str, &[&str])],
) -> Result<Vec<Imported>, Skip> {
    let user = text(row, &["user_id"]).ok_or_else(|| missing("user_id"))?;
    // What makes the row one of its table's, so that a file imported as the
    // wrong table is refused rather than stored as purchases.
    if text(row, needs.1).is_none() {
        return Err(missing(needs.0));
    }
    let at = time(row, &["created_at", "timestamp"]).ok_or_else(|| missing("created_at"))?;
    let id = text(row, &["id"]);
    let mut props = Map::new();
    if let Some(i) = &id {
        props.insert(id_prop.into(), json!(i));
    }
    let amount = number_value(row, &["total_amount", "amount", "total"]);
    if !amount.is_null() {
        props.insert("total_amount".into(), amount);
    }
    for (to, from) in extra {
        if let Some(v) = text(row, from) {
            props.insert((*to).into(), json!(v));
        }
    }
    Ok(vec![Imported::plain(json!({
        "type": "track",
        "event": event,
        "userId": user,
        "messageId": row_message_id("imp-o", row, id.as_deref(), event),
        "timestamp": at,
        "properties": props,
    }))])
}

/// Seed 004's `orders` row: Segment's `Order Completed`.
pub fn order(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    purchase(
        row,
        "Order Completed",
        "order_id",
        ("total_amount", &["total_amount", "amount", "total"]),
        &[("currency", &["currency"]), ("status", &["status"])],
    )
}

/// Seed 004's `service_bookings` row: `Booking Completed` with its service.
pub fn booking(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    purchase(
        row,
        "Booking Completed",
        "booking_id",
        (
            "service_name or service_id",
            &["service_name", "service", "service_id"],
        ),
        &[
            ("service", &["service_name", "service", "service_id"]),
            ("currency", &["currency"]),
            ("status", &["status"]),
        ],
    )
}

/// Seed 004's `user_activity_summary` row: its counts are derived again
/// from the sessions, orders and bookings; what it adds is the person, known
/// from when they registered, with their usual device.
pub fn activity_summary(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let user = text(row, &["user_id"]).ok_or_else(|| missing("user_id"))?;
    let mut traits = Map::new();
    for f in ["primary_device_type", "primary_browser", "primary_os"] {
        if let Some(v) = text(row, &[f]) {
            traits.insert(f.into(), json!(v));
        }
    }
    let mut m = json!({
        "type": "identify",
        "userId": user,
        "messageId": row_message_id("imp-a", row, Some(&user), ""),
        "traits": traits,
    });
    if let Some(t) = time(row, &["created_at"]) {
        m["timestamp"] = json!(t);
    }
    Ok(vec![Imported::plain(m)])
}
