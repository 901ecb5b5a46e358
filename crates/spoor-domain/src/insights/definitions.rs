//! What a project defines by name over one funnel step: goals (what counts as
//! a conversion) and segments (whose rows a question reads). Both are stored
//! alike, a name and the step's JSON, checked when saved; each in its own
//! table.

use super::goals::MAX_GOALS_PER_PROJECT;
use super::segments::MAX_SEGMENTS_PER_PROJECT;

/// Which kind of definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defined {
    Goals,
    Segments,
}

impl Defined {
    /// The table that holds them (the same name on both stores).
    pub fn table(self) -> &'static str {
        match self {
            Defined::Goals => "goals",
            Defined::Segments => "segments",
        }
    }

    /// Most a project keeps.
    pub fn max(self) -> usize {
        match self {
            Defined::Goals => MAX_GOALS_PER_PROJECT,
            Defined::Segments => MAX_SEGMENTS_PER_PROJECT,
        }
    }
}

/// A goal or segment as stored: `definition` is one funnel step's JSON
/// (`{"event": ..., "page": ..., "where": {...}}`, and a segment's `did`).
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}
