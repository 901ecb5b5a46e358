//! Friction analytics' rules: which events the friction processor reads, how
//! a page and an error are named, what a pass adds to the derived tables, and
//! how reports are computed from them. Backend-neutral: each backend only
//! reads and writes the rows defined here.
//!
//! The derived tables are kept per UTC day:
//! - `friction_sessions`: per day, kind (rage click, dead click, form error),
//!   page, element and session, how often it happened: counts, affected
//!   sessions and people, and the drill-down to sessions come from it.
//! - `heatmap_cells`, `heatmap_elements`, `page_days`, `scroll_days`: clicks
//!   per cell of a page's grid, per element, page totals and scroll depths.
//! - `error_issues` (one row per fingerprint, all time), `error_days` (per day,
//!   page and browser) and `error_sessions` (per day, session and person).
//! - `vital_days`: per day, page, device and metric, a [`QuantileSketch`] of values.
//!
//! Whether an error issue is resolved is not derived: it is what a person
//! decided, kept in the main store (`error_status`) so that a rebuild keeps it.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The friction processor's name (its cursor and lease).
pub const FRICTION_PROCESSOR: &str = "friction";

pub use spoor_core::range::{DAY_MS, Days, day_of};

/// One event as the friction processor reads it.
#[derive(Clone, Debug)]
pub struct FrictionEvent {
    pub seq: i64,
    pub project_id: i64,
    pub received_at: i64,
    pub ts: i64,
    pub name: String,
    pub session_id: Option<String>,
    /// The user id, else the anonymous id.
    pub person: Option<String>,
    pub url: Option<String>,
    pub browser: Option<String>,
    pub device_type: Option<String>,
    /// The event's properties.
    pub properties: Option<Value>,
}

/// Friction kinds counted per element.
pub const KINDS: [&str; 3] = ["rage_click", "dead_click", "form_error"];

mod errors;
mod fold;
mod names;
mod reports;
#[cfg(test)]
mod tests;
mod vitals;

pub use errors::*;
pub use fold::*;
pub use names::*;
pub use reports::*;
pub use vitals::*;
