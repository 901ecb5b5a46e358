//! The CRM loop (seed 003) and lead scores (seed 000): contacts, their
//! timelines, lead status, follow-up tasks and scores, kept by the CRM
//! processor from the event log. This module holds the rules: a project's
//! configuration (statuses, the transitions between them, the rules that turn
//! events into CRM actions, score weights, decay and thresholds, abandonment),
//! how a pass's events change contacts ([`fold`]), and how two contacts merge.
//! Each backend's SQL is in its `crm.rs`.
//!
//! Scores decay with a half-life. A contact's score is stored scaled to a
//! fixed epoch ([`SCORE_EPOCH_MS`]): `stored = score(t) · 2^((t − epoch)/h)`.
//! Then every contact's score at any moment is its stored value times the
//! same factor, so the store sorts and filters by score with an index on the
//! stored value, an event's points add the same way whenever it arrives, and
//! nothing is rewritten as time passes.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

// The fold's maps hash with foldhash, as the sessions fold's do: SipHash
// was a twentieth of the pipeline's instructions.
use crate::sessions::{FastMap, FastSet};

/// The CRM processor's name: its cursor's and its lease's.
pub const CRM_PROCESSOR: &str = "crm";

/// The moment scores are scaled to (2025-01-01T00:00:00Z).
pub const SCORE_EPOCH_MS: i64 = 1_735_689_600_000;
const DAY_MS: f64 = 86_400_000.0;
/// Half-lives a project may set, in days (or 0: scores never decay). The
/// bound keeps the scale factor within an f64 for a century.
const HALF_LIFE_DAYS: (f64, f64) = (7.0, 3650.0);
/// The spellings one rule or weight may answer to: enough for a seed's name,
/// Segment's, and a team's own.
const MAX_EVENT_NAMES: usize = 16;

/// The default configuration: seed 003's statuses, flow and events table,
/// and seed 000's weights.
pub const DEFAULT_CONFIG_JSON: &str = include_str!("../crm_default.json");

mod config;
mod fold;
mod funnel;
mod merge;
mod queries;
mod records;
#[cfg(test)]
mod tests;

pub use config::*;
pub use fold::*;
pub use funnel::*;
pub use merge::*;
pub use queries::*;
pub use records::*;
