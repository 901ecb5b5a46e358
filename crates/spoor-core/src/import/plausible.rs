//! Plausible's CSV export: daily totals, not events. A day's page views of a
//! page become that many page views spread over the day, shared among as
//! many synthetic visitors as the day counted (`plausible:DATE:N`), so that
//! page-view and daily visitor counts come out as Plausible showed them.
//! What totals cannot give back (sessions, durations, bounces, paths) is not
//! invented.

use serde_json::{Map, Value, json};

use super::fields::{count, row_message_id, text};
use super::{Imported, Skip, check_row_total};
use crate::range::parse_instant;

const DAY_MS: i64 = 86_400_000;

/// The day's start (ms) and its ISO date.
fn day(row: &Map<String, Value>) -> Result<(i64, String), Skip> {
    let date =
        text(row, &["date"]).ok_or_else(|| Skip::new("missing_field", "the row has no date"))?;
    let start = parse_instant("date", &date)
        .map_err(|_| Skip::new("invalid_row", format!("date {date:?} is not a date")))?;
    Ok((start, date))
}

/// `n` messages of one row: the `k`-th at its share of the day, from the
/// `k mod visitors`-th visitor.
fn spread(
    row: &Map<String, Value>,
    n: u64,
    visitors: u64,
    mut make: impl FnMut(u64, Value, String) -> Value,
) -> Result<Vec<Imported>, Skip> {
    check_row_total(n)?;
    let (start, date) = day(row)?;
    let visitors = visitors.clamp(1, n.max(1));
    let step = DAY_MS / i64::try_from(n.max(1)).unwrap_or(i64::MAX);
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    for k in 0..n {
        // k < n <= MAX_MESSAGES_PER_ROW, so neither product overflows.
        let at = start + step * k as i64;
        let visitor = format!("plausible:{date}:{}", k % visitors);
        let mut m = make(k, json!(crate::time::format_iso(at)), visitor);
        m["messageId"] = json!(row_message_id("imp-p", row, None, &k.to_string()));
        out.push(Imported::plain(m));
    }
    Ok(out)
}

/// `imported_pages`: `pageviews` page views of `hostname` + `page`.
pub fn pages(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let page =
        text(row, &["page"]).ok_or_else(|| Skip::new("missing_field", "the row has no page"))?;
    let host = text(row, &["hostname"]);
    let url = host.as_ref().map(|h| format!("https://{h}{page}"));
    let views = count(row, "pageviews").unwrap_or(0);
    let visitors = count(row, "visitors").unwrap_or(views);
    spread(row, views, visitors, |_, at, visitor| {
        let mut m = json!({
            "type": "page",
            "anonymousId": visitor,
            "timestamp": at,
            "properties": {"path": page},
            "context": {"page": {"path": page}},
        });
        if let Some(u) = &url {
            m["properties"]["url"] = json!(u);
            m["context"]["page"]["url"] = json!(u);
        }
        m
    })
}

/// `imported_custom_events`: `events` tracks named `name`.
pub fn custom_events(row: &Map<String, Value>) -> Result<Vec<Imported>, Skip> {
    let name =
        text(row, &["name"]).ok_or_else(|| Skip::new("missing_field", "the row has no name"))?;
    let n = count(row, "events").unwrap_or(0);
    let visitors = count(row, "visitors").unwrap_or(n);
    let mut props = Map::new();
    for f in ["link_url", "path"] {
        if let Some(v) = text(row, &[f]) {
            props.insert(f.into(), json!(v));
        }
    }
    spread(row, n, visitors, |_, at, visitor| {
        json!({
            "type": "track",
            "event": name,
            "anonymousId": visitor,
            "timestamp": at,
            "properties": props,
        })
    })
}
