//! Reading one field of a row the way exports write it: a CSV cell is text
//! (numbers, JSON objects and PostgreSQL's timestamps included), a JSON row
//! holds typed values; both read the same here.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::range::{EARLIEST_MS, LATEST_MS, parse_instant};
use crate::seed::message_id;
use crate::time::format_iso;

/// The first of `names` that holds non-empty text or a number, as text.
pub fn text(row: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match row.get(*n) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The first of `names` that holds a finite number (or text of one).
pub fn number(row: &Map<String, Value>, names: &[&str]) -> Option<f64> {
    names
        .iter()
        .find_map(|n| match row.get(*n) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        })
        .filter(|v| v.is_finite())
}

/// A whole count of at least zero (Plausible's totals).
pub fn count(row: &Map<String, Value>, name: &str) -> Option<u64> {
    match row.get(name) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
}

/// A JSON number for a property: the value as a number when it is one.
pub fn number_value(row: &Map<String, Value>, names: &[&str]) -> Value {
    number(row, names)
        .and_then(serde_json::Number::from_f64)
        .map(|n| match n.as_f64() {
            // Whole numbers stay integers, as the client sent them.
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Value::from(f as i64),
            _ => Value::Number(n),
        })
        .unwrap_or(Value::Null)
}

/// An object field: a JSON object, or text holding one (a CSV cell of a
/// `jsonb` column). Anything else is empty.
pub fn object(row: &Map<String, Value>, name: &str) -> Map<String, Value> {
    match row.get(name) {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) if s.trim_start().starts_with('{') => {
            match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            }
        }
        _ => Map::new(),
    }
}

/// A time as exports write it (RFC 3339; PostgreSQL's `2025-01-06
/// 05:03:12.123456+00`; a bare date; ms or s since the epoch) as RFC 3339,
/// or `None` when it is none of these or outside the calendar window. Text
/// is read by the one instant parser, `range::parse_instant`.
pub fn normal_time(v: &Value) -> Option<String> {
    let ms = match v {
        Value::Number(n) => epoch_ms(n.as_i64()?)?,
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(n) => epoch_ms(n)?,
                Err(_) => parse_instant("time", &rfc3339_offset(s)).ok()?,
            }
        }
        _ => return None,
    };
    (EARLIEST_MS..=LATEST_MS)
        .contains(&ms)
        .then(|| format_iso(ms))
}

/// Seconds until 2286, milliseconds after: exports use both.
fn epoch_ms(n: i64) -> Option<i64> {
    if n.unsigned_abs() < 10_000_000_000 {
        n.checked_mul(1000)
    } else {
        Some(n)
    }
}

/// PostgreSQL's text form ends in an hour-only offset (`+00`, `-05`), which
/// RFC 3339 spells `+00:00`; anything else (a bare date's `-06` is its day)
/// is returned as it is.
fn rfc3339_offset(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let n = bytes.len();
    if n > 3
        && s.contains(':')
        && matches!(bytes[n - 3], b'+' | b'-')
        && bytes[n - 2..].iter().all(u8::is_ascii_digit)
    {
        return Cow::Owned(format!("{}:00", s.replacen(' ', "T", 1)));
    }
    Cow::Borrowed(s)
}

/// The first of `names` that holds a time, as RFC 3339.
pub fn time(row: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| row.get(*n).and_then(normal_time))
}

/// A message id for a row: from the row's own id when it has one, else from
/// the whole row, after the source's prefix; `part` tells apart the messages
/// one row becomes.
pub fn row_message_id(
    prefix: &str,
    row: &Map<String, Value>,
    own_id: Option<&str>,
    part: &str,
) -> String {
    match own_id {
        Some(id) => message_id(prefix, &[id, part]),
        None => message_id(prefix, &[&Value::Object(row.clone()).to_string(), part]),
    }
}
