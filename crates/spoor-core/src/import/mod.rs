//! Rows of the exports people move in with, turned into Segment messages for
//! `spoor import`: Segment's and RudderStack's messages and warehouse CSVs,
//! Spoor's own `spoor export events`, each seed product's Supabase tables, and
//! Plausible's and Umami's CSV exports. Pure: the binary reads the files and
//! commits; every decision about a row is here, so that it can be tested and
//! fuzzed without a store.
//!
//! Every message gets an id fixed by its row (the row's own id where it has
//! one, else a digest of the row), so importing a file twice stores nothing
//! the second time: the store's deduplication by message id does the rest.

mod fields;
mod plausible;
mod seeds;
mod segment;
mod umami;

use serde_json::{Map, Value};

use crate::Enrichment;

pub use fields::normal_time;

/// What a file holds. `detect` names it from the first row's fields; the
/// command line can name it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Segment or RudderStack messages (one JSON object per line), including
    /// Spoor's own NDJSON export.
    Segment,
    /// A warehouse-style CSV of messages (`id`, `anonymous_id`, `user_id`,
    /// `event`, `context_*` columns ...), as Segment's and RudderStack's
    /// warehouses hold them.
    SegmentCsv,
    /// Spoor's own `spoor export events --format csv`.
    SpoorCsv,
    /// Seed 000's `user_behavior` / `tracking_events` rows.
    Behavior,
    /// Seed 001's `widget_analytics` rows.
    Widget,
    /// Seed 002's `friction_events` rows.
    FrictionEvents,
    /// Seed 002's `heatmap_data` rows.
    Heatmap,
    /// Seed 002's `page_performance_metrics` rows.
    Performance,
    /// Seed 003's key-value store (`key`, `value`): `crm_contact_*` and
    /// `crm_activity_*` records.
    CrmStore,
    /// Seed 003's track-event bodies, as its route received them.
    CrmEvents,
    /// Seed 004's `user_sessions` rows.
    Sessions,
    /// Seed 004's `orders` rows.
    Orders,
    /// Seed 004's `service_bookings` rows.
    Bookings,
    /// Seed 004's `user_activity_summary` rows.
    ActivitySummary,
    /// Plausible's `imported_pages` CSV.
    PlausiblePages,
    /// Plausible's `imported_custom_events` CSV.
    PlausibleEvents,
    /// Plausible's other CSVs (visitors, sources, browsers ...): daily totals
    /// of what `imported_pages` already carries, so their rows are skipped.
    PlausibleTotals,
    /// Umami's data export (`website_event` rows joined with their session).
    Umami,
}

impl Source {
    /// Every source with its command-line name and what it reads.
    pub const ALL: [(Source, &'static str, &'static str); 18] = [
        (
            Source::Segment,
            "segment",
            "Segment/RudderStack messages, one JSON object a line (Spoor's NDJSON export too)",
        ),
        (
            Source::SegmentCsv,
            "segment-csv",
            "a warehouse CSV of messages: id, anonymous_id, user_id, event, context_* ...",
        ),
        (
            Source::SpoorCsv,
            "spoor-csv",
            "spoor export events --format csv",
        ),
        (
            Source::Behavior,
            "seed-behavior",
            "seed 000: user_behavior / tracking_events rows",
        ),
        (
            Source::Widget,
            "seed-widget",
            "seed 001: widget_analytics rows",
        ),
        (
            Source::FrictionEvents,
            "seed-friction",
            "seed 002: friction_events rows",
        ),
        (
            Source::Heatmap,
            "seed-heatmap",
            "seed 002: heatmap_data rows",
        ),
        (
            Source::Performance,
            "seed-performance",
            "seed 002: page_performance_metrics rows",
        ),
        (
            Source::CrmStore,
            "seed-crm-store",
            "seed 003: the key-value store's crm_contact_* and crm_activity_* records",
        ),
        (
            Source::CrmEvents,
            "seed-crm-events",
            "seed 003: track-event bodies {event_type, customer, event_data ...}",
        ),
        (
            Source::Sessions,
            "seed-sessions",
            "seed 004: user_sessions rows",
        ),
        (Source::Orders, "seed-orders", "seed 004: orders rows"),
        (
            Source::Bookings,
            "seed-bookings",
            "seed 004: service_bookings rows",
        ),
        (
            Source::ActivitySummary,
            "seed-activity",
            "seed 004: user_activity_summary rows",
        ),
        (
            Source::PlausiblePages,
            "plausible-pages",
            "Plausible's imported_pages CSV",
        ),
        (
            Source::PlausibleEvents,
            "plausible-events",
            "Plausible's imported_custom_events CSV",
        ),
        (
            Source::PlausibleTotals,
            "plausible-totals",
            "Plausible's other CSVs (daily totals; skipped)",
        ),
        (Source::Umami, "umami", "Umami's data export CSV"),
    ];

    pub fn name(self) -> &'static str {
        Source::ALL
            .iter()
            .find(|(s, _, _)| *s == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("unknown")
    }

    pub fn parse(name: &str) -> Option<Source> {
        Source::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(s, _, _)| *s)
    }

    /// Whether the importer must read the whole file once before translating
    /// (seed 003's store lists activities before the contacts they belong to).
    pub fn needs_first_pass(self) -> bool {
        self == Source::CrmStore
    }
}

/// Names the source of a file from its first row's fields, or `None` when
/// nothing matches (the command line must name it then).
pub fn detect(first_row: &Map<String, Value>) -> Option<Source> {
    let has = |f: &str| first_row.contains_key(f);
    let source = if has("message") && has("message_id") && has("is_bot") {
        Source::SpoorCsv
    } else if has("type") && (has("messageId") || has("userId") || has("anonymousId")) {
        Source::Segment
    } else if has("behavior_type") {
        Source::Behavior
    } else if has("widget_id") && has("event_type") {
        Source::Widget
    } else if has("event_type") && has("customer") {
        Source::CrmEvents
    } else if has("key") && has("value") {
        Source::CrmStore
    } else if has("interaction_type") || (has("x") && has("y") && has("page_url")) {
        Source::Heatmap
    } else if has("load_time") || has("first_contentful_paint") || has("time_to_interactive") {
        Source::Performance
    } else if has("event_type") && (has("element_selector") || has("error_message")) {
        Source::FrictionEvents
    } else if has("started_at") && has("session_id") {
        Source::Sessions
    } else if has("total_sessions") {
        Source::ActivitySummary
    } else if has("user_id") && (has("service_name") || has("service_id")) {
        Source::Bookings
    } else if has("user_id") && has("total_amount") {
        Source::Orders
    } else if has("url_path") && has("event_type") {
        Source::Umami
    } else if has("date") && has("pageviews") && has("page") {
        Source::PlausiblePages
    } else if has("date") && has("name") && has("events") {
        Source::PlausibleEvents
    } else if has("date") && has("visitors") {
        Source::PlausibleTotals
    } else if (has("anonymous_id") || has("user_id"))
        && (has("event") || has("type") || has("event_text"))
    {
        Source::SegmentCsv
    } else {
        return None;
    };
    Some(source)
}

/// One message to validate and store, with the enrichment its row already
/// carries (an export of Spoor, Umami's and seed 004's device columns);
/// without one the importer derives it from `context.userAgent` and
/// `context.ip` as ingestion does.
#[derive(Debug, PartialEq)]
pub struct Imported {
    pub message: Value,
    pub enrichment: Option<Enrichment>,
}

impl Imported {
    fn plain(message: Value) -> Imported {
        Imported {
            message,
            enrichment: None,
        }
    }
}

/// Why a row stores nothing: a stable label for the summary, and a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    pub reason: &'static str,
    pub detail: String,
}

impl Skip {
    fn new(reason: &'static str, detail: impl Into<String>) -> Skip {
        Skip {
            reason,
            detail: detail.into(),
        }
    }
}

/// The most messages one row may become (Plausible's rows are daily totals
/// that become one page view each, all held at once): a row over it is
/// skipped, not truncated, so that nothing is half imported.
pub const MAX_MESSAGES_PER_ROW: u64 = 100_000;

/// Whether a row may become `n` messages.
pub fn check_row_total(n: u64) -> Result<(), Skip> {
    if n > MAX_MESSAGES_PER_ROW {
        return Err(Skip::new(
            "too_many",
            format!("the row totals {n} events; one row may make at most {MAX_MESSAGES_PER_ROW}"),
        ));
    }
    Ok(())
}

/// What a translator remembers between rows: seed 003's contacts, learnt in
/// the first pass.
#[derive(Default)]
pub struct Translator {
    crm_contacts: seeds::CrmContacts,
}

impl Translator {
    /// The first pass over a file of a source that [`Source::needs_first_pass`].
    pub fn learn(&mut self, source: Source, row: &Map<String, Value>) {
        if source == Source::CrmStore {
            self.crm_contacts.learn(row);
        }
    }

    /// The messages one row becomes. The row is taken whole: a message that
    /// is already one is stored without a copy.
    pub fn translate(
        &self,
        source: Source,
        row: Map<String, Value>,
    ) -> Result<Vec<Imported>, Skip> {
        match source {
            Source::Segment => segment::message(row).map(|m| vec![m]),
            other => self.translate_row(other, &row),
        }
    }

    fn translate_row(
        &self,
        source: Source,
        row: &Map<String, Value>,
    ) -> Result<Vec<Imported>, Skip> {
        match source {
            Source::Segment => segment::message(row.clone()).map(|m| vec![m]),
            Source::SegmentCsv => segment::warehouse_row(row).map(|m| vec![m]),
            Source::SpoorCsv => segment::spoor_csv_row(row).map(|m| vec![m]),
            Source::Behavior => seeds::behavior(row),
            Source::Widget => seeds::widget(row),
            Source::FrictionEvents => seeds::friction(row),
            Source::Heatmap => seeds::heatmap(row),
            Source::Performance => seeds::performance(row),
            Source::CrmStore => self.crm_contacts.record(row),
            Source::CrmEvents => seeds::crm_event(row),
            Source::Sessions => seeds::session(row),
            Source::Orders => seeds::order(row),
            Source::Bookings => seeds::booking(row),
            Source::ActivitySummary => seeds::activity_summary(row),
            Source::PlausiblePages => plausible::pages(row),
            Source::PlausibleEvents => plausible::custom_events(row),
            Source::PlausibleTotals => Err(Skip::new(
                "plausible_totals",
                "Plausible's daily totals by one dimension: the page views they count come from imported_pages",
            )),
            Source::Umami => umami::event(row),
        }
    }
}

/// Readies a translated message for validation, so that it is stored with
/// the time it happened, whatever day it is imported on.
///
/// A message received once already (it records `receivedAt`: Spoor's and
/// Segment's exports) arrives again at that time, and its skew correction is
/// made again from what the client sent (`originalTimestamp` and `sentAt`),
/// which gives the same time and the same stored message. One that never was
/// arrives now, without its `sentAt`: Segment's correction would move it to
/// the import's day.
pub fn arrival(message: &mut Value, now: i64) -> i64 {
    let Some(map) = message.as_object_mut() else {
        return now;
    };
    let received = map
        .get("receivedAt")
        .and_then(Value::as_str)
        .and_then(crate::time::parse_iso);
    match (received, map.get("originalTimestamp").cloned()) {
        (Some(at), Some(original)) if map.contains_key("sentAt") => {
            map.insert("timestamp".into(), original);
            at
        }
        (Some(at), _) => {
            map.remove("sentAt");
            at
        }
        (None, _) => {
            map.remove("sentAt");
            now
        }
    }
}

#[cfg(test)]
mod tests;
