//! Segments: saved cohorts of people, "who did (or did not) this event in the
//! range", that narrow any insight to their members.
//!
//! A segment is a named funnel step (an event with conditions, or page views
//! of a page pattern) and whether its people did it or did not. A question
//! with a segment is answered in two passes over the range: [`Cohort`] first
//! collects the people who did the step, then the question folds only the
//! rows [`Members::admits`]. People are as everywhere in insights: an
//! anonymous history counts as the user it became.

use super::{Bound, InsightError, InsightRow, Limits, Matcher, RowQuery, refuse};
use crate::sessions::FastSet;

/// Most segments a project keeps.
pub const MAX_SEGMENTS_PER_PROJECT: usize = 100;

/// Collects the people who did a step in a range.
pub struct Cohort {
    rows: RowQuery,
    step: Bound,
    did: bool,
    limits: Limits,
    users: FastSet<String>,
    visitors: FastSet<String>,
}

impl Cohort {
    /// The people who did `step` in `[from, to)`; `did` false admits the others.
    pub fn new(
        project_id: i64,
        from: i64,
        to: i64,
        step: &Matcher,
        did: bool,
        limits: Limits,
    ) -> Cohort {
        let mut rows = RowQuery::new(project_id, from, to);
        let step = Bound::new(step, &mut rows);
        Cohort {
            rows,
            step,
            did,
            limits,
            users: FastSet::default(),
            visitors: FastSet::default(),
        }
    }

    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    pub fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
        if !self.step.matches(row) {
            return Ok(());
        }
        let held = self.users.len() + self.visitors.len();
        let set = if row.identified {
            &mut self.users
        } else {
            &mut self.visitors
        };
        if !set.contains(row.person) {
            if held >= self.limits.people {
                return refuse(format!(
                    "this segment holds more than {} people; narrow its step or the range",
                    self.limits.people
                ));
            }
            set.insert(row.person.to_string());
        }
        Ok(())
    }

    pub fn finish(self) -> Members {
        Members {
            users: self.users,
            visitors: self.visitors,
            did: self.did,
        }
    }
}

/// A segment's members, as a question filters its rows by them.
pub struct Members {
    users: FastSet<String>,
    visitors: FastSet<String>,
    did: bool,
}

impl Members {
    /// Whether the row's person is in the segment.
    pub fn admits(&self, row: &InsightRow<'_>) -> bool {
        let set = if row.identified {
            &self.users
        } else {
            &self.visitors
        };
        set.contains(row.person) == self.did
    }

    /// How many people did the step.
    pub fn did_count(&self) -> usize {
        self.users.len() + self.visitors.len()
    }
}
