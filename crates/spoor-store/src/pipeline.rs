//! What the derivation pipeline reads and writes, for both backends.
//!
//! One reader takes the log in order ([`LogEvent`]s, after a [`Cursor`]); each
//! event's body is decoded at most once ([`Body`]), and every fold takes from
//! the same event what it needs (the conversions below). A pass's writes, one
//! part per fold ([`PassWrites`]), are applied with every fold's cursor in one
//! transaction (`Store::apply_pass`), so the folds together count each event
//! once.
//!
//! The order: on SQLite, seq (one writer commits in seq order). On PostgreSQL,
//! (writing transaction id, seq), and only events whose transaction id is below
//! the oldest transaction still running: every such transaction has ended, so
//! no event can still appear before the cursor (an event read as soon as that
//! holds, never skipped, without waiting a fixed time).

use std::cell::OnceCell;

use serde_json::Value;
use spoor_core::event::{Event, MessageType};
use spoor_domain::insights::facts::{EventFacts, FactRow};

use crate::analytics::{Cursor, LogRow, RollupDelta, TailRow};
use crate::crm::CrmEvent;
use crate::customers::People;
use crate::friction::{FrictionDelta, FrictionEvent};
use crate::metering::{MeteringDelta, WidgetEvent};
use crate::sessions::{Session, SessionEvent};

/// The lease the pipeline runs under: one node at a time derives.
pub const PIPELINE_LEASE: &str = "processor:pipeline";

/// The insights' facts fold (`spoor_domain::insights::facts`).
pub const FACTS_PROCESSOR: &str = "facts";

/// The folds' names, which are also their cursors' (and `spoor rebuild`'s).
pub const FOLDS: [&str; 6] = [
    crate::analytics::ROLLUP_PROCESSOR,
    crate::sessions::SESSION_PROCESSOR,
    crate::metering::METERING_PROCESSOR,
    crate::friction::FRICTION_PROCESSOR,
    crate::crm::CRM_PROCESSOR,
    FACTS_PROCESSOR,
];

/// One event of the log, as the pipeline reads it.
#[derive(Clone, Debug)]
pub struct LogEvent {
    pub seq: i64,
    /// The id of the PostgreSQL transaction that wrote it (0 on SQLite, and
    /// for events written before the column existed).
    pub xid: i64,
    pub project_id: i64,
    pub event: Event,
}

impl LogEvent {
    /// The cursor just past this event.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            xid: self.xid,
            seq: self.seq,
            received_at: self.event.received_at,
        }
    }

    /// Whether a fold whose cursor is `c` has already counted this event.
    pub fn counted_by(&self, c: &Cursor) -> bool {
        (self.xid, self.seq) <= (c.xid, c.seq)
    }
}

/// An event's body, decoded the first time a fold asks for it and shared by
/// the folds that come after.
pub struct Body<'a> {
    text: &'a str,
    value: OnceCell<Value>,
}

impl<'a> Body<'a> {
    pub fn new(text: &'a str) -> Body<'a> {
        Body {
            text,
            value: OnceCell::new(),
        }
    }

    /// The body as JSON (`Null` if it is not; the writer only stores JSON).
    pub fn value(&self) -> &Value {
        self.value
            .get_or_init(|| serde_json::from_str(self.text).unwrap_or(Value::Null))
    }

    /// The body as text, as the log holds it.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// `properties.KEY`.
    pub fn property(&self, key: &str) -> Option<&Value> {
        self.value().get("properties").and_then(|p| p.get(key))
    }
}

/// What one pass writes, one part per fold; `None` for a fold with nothing to
/// write (its cursor moves all the same).
#[derive(Default)]
pub struct PassWrites<'a> {
    pub rollups: Option<&'a RollupDelta>,
    pub sessions: Option<(&'a [Session], &'a People)>,
    pub metering: Option<&'a MeteringDelta>,
    pub friction: Option<&'a FrictionDelta>,
    pub crm: Option<&'a crate::crm::CrmDelta>,
    /// The insights' facts of the pass's events, by project and UTC day.
    pub facts: Option<&'a FactsDelta>,
    /// The pass read a full batch, so another follows at once: a backend may
    /// keep its transaction open for the next passes (SQLite does, for up to
    /// [`HOLD_PASSES`]) and commit them together. A held pass is not
    /// committed: `Store::settle_passes` commits it, `Store::abandon_passes`
    /// rolls it back, and nothing reads it but the pipeline's own connection.
    pub more_follow: bool,
}

/// How long SQLite keeps passes in one transaction while the pipeline is
/// behind. A pass of random people dirties thousands of pages of the people,
/// sessions and contacts tables and their indexes, which its commit writes to
/// the WAL and a checkpoint writes again (with a sync); passes that commit
/// together write each page once, so the pipeline spends less on commits the
/// further behind it is. Measured on a 300,000-event backlog: 102 µs of
/// commit per event with a commit per pass, 75 µs holding passes for a
/// second. Views trail by at most this much more while the pipeline
/// catches up; once it has, each pass commits at once.
pub const HOLD_PASSES: std::time::Duration = std::time::Duration::from_secs(1);

/// How far behind the log the pipeline is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Events after the slowest fold's cursor (by seq: an estimate on
    /// PostgreSQL, where events are read in transaction order).
    pub events: i64,
    /// How long ago the oldest event not yet read was received (0 when
    /// every event has been read).
    pub ms: i64,
}

impl LogRow {
    /// The rollups' view of an event.
    pub fn from_log(e: &LogEvent) -> LogRow {
        let ev = &e.event;
        let en = &ev.enrichment;
        LogRow {
            seq: e.seq,
            project_id: e.project_id,
            received_at: ev.received_at,
            is_bot: en.is_bot,
            row: TailRow::from_columns(
                ev.timestamp,
                ev.kind.as_str(),
                [
                    ev.anonymous_id.clone(),
                    ev.user_id.clone(),
                    ev.session_id.clone(),
                    ev.url.clone(),
                    ev.referrer.clone(),
                    en.country.clone(),
                    en.browser.clone(),
                    en.os.clone(),
                    en.device_type.clone(),
                ],
            ),
        }
    }
}

/// The sessions fold's view of an event; the body is kept only where a
/// rule reads it (see `SessionEvent::body`): for `identify`, `alias`,
/// and tracks named in `body_names`.
pub fn session_event(e: &LogEvent, body: &Body, body_names: &[String]) -> SessionEvent {
    let ev = &e.event;
    let en = &ev.enrichment;
    let kind = ev.kind.as_str();
    let wanted = matches!(kind, "identify" | "alias")
        || (kind == "track"
            && ev
                .name
                .as_ref()
                .is_some_and(|n| body_names.iter().any(|b| b == n)));
    SessionEvent {
        seq: e.seq,
        project_id: e.project_id,
        ts: ev.timestamp,
        received_at: ev.received_at,
        kind: kind.to_string(),
        name: ev.name.clone(),
        user_id: ev.user_id.clone(),
        anonymous_id: ev.anonymous_id.clone(),
        session_id: ev.session_id.clone(),
        url: ev.url.clone(),
        ip: en.ip.clone(),
        country: en.country.clone(),
        region: en.region.clone(),
        city: en.city.clone(),
        browser: en.browser.clone(),
        browser_version: en.browser_version.clone(),
        os: en.os.clone(),
        os_version: en.os_version.clone(),
        device_type: en.device_type.clone(),
        is_bot: en.is_bot,
        body: wanted.then(|| body.text().to_string()),
        person: None,
    }
}

/// The insights' facts of a pass: its rows by (project, UTC day), each
/// group to be added to that day's chunks.
pub type FactsDelta = std::collections::BTreeMap<(i64, i64), Vec<FactRow>>;

/// The insights' facts of an event, if a question can ask for it: a page view
/// or a track event with a user or anonymous id, not from a bot (the rows
/// `InsightStore::insight_rows` reads from the log).
pub fn fact_row(e: &LogEvent, body: &Body) -> Option<FactRow> {
    let ev = &e.event;
    let en = &ev.enrichment;
    let page_view = match ev.kind {
        MessageType::Page => true,
        MessageType::Track => false,
        _ => return None,
    };
    if en.is_bot || (ev.user_id.is_none() && ev.anonymous_id.is_none()) {
        return None;
    }
    Some(FactRow::of(&EventFacts {
        ts: ev.timestamp,
        seq: e.seq,
        page_view,
        name: ev.name.as_deref(),
        url: ev.url.as_deref(),
        user_id: ev.user_id.as_deref(),
        anonymous_id: ev.anonymous_id.as_deref(),
        session_id: ev.session_id.as_deref(),
        referrer: ev.referrer.as_deref(),
        browser: en.browser.as_deref(),
        os: en.os.as_deref(),
        device_type: en.device_type.as_deref(),
        country: en.country.as_deref(),
        region: en.region.as_deref(),
        city: en.city.as_deref(),
        body: body.value(),
    }))
}

/// Whether the event is a track with one of these names.
fn is_named_track(e: &LogEvent, names: &[&str]) -> bool {
    e.event.kind.as_str() == "track" && e.event.name.as_deref().is_some_and(|n| names.contains(&n))
}

/// Names of the events metering reads.
pub const WIDGET_EVENT_NAMES: [&str; 5] = [
    "widget_load",
    "widget_open",
    "call_start",
    "call_end",
    "call_error",
];

/// Metering's view of an event, if it is one of the widget events.
pub fn widget_event(e: &LogEvent, body: &Body) -> Option<WidgetEvent> {
    if !is_named_track(e, &WIDGET_EVENT_NAMES) {
        return None;
    }
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Some(WidgetEvent {
        seq: e.seq,
        project_id: e.project_id,
        received_at: e.event.received_at,
        ts: e.event.timestamp,
        name: e.event.name.clone().unwrap_or_default(),
        widget_id: text(body.property("widget_id")),
        session_id: text(body.property("session_id")).or_else(|| e.event.session_id.clone()),
        // JSON's true reads as 1 in SQL, as the stored query read it.
        inferred: matches!(body.property("inferred"), Some(Value::Bool(true)))
            || body.property("inferred").and_then(Value::as_i64) == Some(1),
    })
}

/// Names of the events friction reads.
pub const FRICTION_EVENT_NAMES: [&str; 7] = [
    "$click",
    "$rage_click",
    "$dead_click",
    "$exception",
    "$form_error",
    "$web_vital",
    "$page_leave",
];

/// Friction's view of an event, if it is one of the friction events.
pub fn friction_event(e: &LogEvent, body: &Body) -> Option<FrictionEvent> {
    if !is_named_track(e, &FRICTION_EVENT_NAMES) {
        return None;
    }
    let ev = &e.event;
    Some(FrictionEvent {
        seq: e.seq,
        project_id: e.project_id,
        received_at: ev.received_at,
        ts: ev.timestamp,
        name: ev.name.clone().unwrap_or_default(),
        session_id: ev.session_id.clone(),
        person: ev.user_id.clone().or_else(|| ev.anonymous_id.clone()),
        url: ev.url.clone(),
        browser: ev.enrichment.browser.clone(),
        device_type: ev.enrichment.device_type.clone(),
        properties: body.value().get("properties").cloned(),
    })
}

/// The CRM's view of an event:
/// tracks, page views and identifies, but not the SDK's own `$` events.
pub fn crm_event(e: &LogEvent, body: &Body) -> Option<CrmEvent> {
    let ev = &e.event;
    let kind = ev.kind.as_str();
    if !matches!(kind, "track" | "identify" | "page")
        || ev.name.as_deref().is_some_and(|n| n.starts_with('$'))
    {
        return None;
    }
    let mut c = CrmEvent {
        seq: e.seq,
        project_id: e.project_id,
        received_at: ev.received_at,
        ts: ev.timestamp,
        kind: kind.to_string(),
        name: ev.name.clone(),
        message_id: ev.message_id.clone(),
        user_id: ev.user_id.clone(),
        anonymous_id: ev.anonymous_id.clone(),
        ..CrmEvent::default()
    };
    c.read_value(body.value());
    Some(c)
}
