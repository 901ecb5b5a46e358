//! Segments: saved cohorts of people, "who did (or did not) this event in the
//! range", that narrow any insight to their members.
//!
//! A segment is a named funnel step (an event with conditions, or page views
//! of a page pattern) and whether its people did it or did not. A question
//! with a segment is answered in two passes over the range: [`Cohort`] first
//! collects the people who did the step, then the question folds only the
//! rows [`Members::admits`]. People are as everywhere in insights: an
//! anonymous history counts as the user it became.
//!
//! People are also narrowed by their properties (`person=plan=pro`): the
//! traits their identify calls set ([`crate::traits`]). [`PeopleWhere`] reads
//! each known person's properties once and gives the [`Members`] who meet
//! every condition, so a question takes a segment, properties, or both alike.

use super::{
    Bound, Condition, DENSE_NUMBERS, Field, InsightError, InsightRow, Limits, MAX_CONDITIONS,
    Matcher, Op, RowQuery, dense_entry, json_value_text, refuse, shown,
};
use std::cell::RefCell;

use crate::sessions::FastSet;
use crate::traits::Traits;

/// The place of a row's number in [`Cohort::seen`] and [`Members::decided`]:
/// only a number the store keeps for its person (below 2^31) is the same in
/// every read; a question's own numbers (from the top of the range down, for
/// people not stored yet) are not.
fn place(number: u32) -> Option<usize> {
    let n = number as usize;
    (number != 0 && n < DENSE_NUMBERS).then_some(n)
}

/// Sets byte `n` of `bytes` (a byte a store number, as far as the numbers
/// met).
fn mark(bytes: &mut Vec<u8>, n: usize, value: u8) {
    *dense_entry(bytes, n) = value;
}

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
    /// The store's numbers of the people added (1: added), so that a
    /// person's id is read once, not for each of their rows.
    seen: Vec<u8>,
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
            seen: Vec::new(),
        }
    }

    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    pub fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
        if !self.step.matches(row) {
            return Ok(());
        }
        let at = place(row.number);
        if at.is_some_and(|n| self.seen.get(n) == Some(&1)) {
            return Ok(());
        }
        let held = self.users.len() + self.visitors.len();
        let set = if row.identified {
            &mut self.users
        } else {
            &mut self.visitors
        };
        if !set.contains(row.person()) {
            if held >= self.limits.people {
                return refuse(format!(
                    "this segment holds more than {} people; narrow its step or the range",
                    self.limits.people
                ));
            }
            set.insert(row.person().to_string());
        }
        if let Some(n) = at {
            mark(&mut self.seen, n, 1);
        }
        Ok(())
    }

    pub fn finish(self) -> Members {
        Members {
            users: self.users,
            visitors: self.visitors,
            did: self.did,
            decided: RefCell::default(),
        }
    }
}

/// A segment's members, as a question filters its rows by them.
pub struct Members {
    users: FastSet<String>,
    visitors: FastSet<String>,
    did: bool,
    /// What [`Members::admits`] answered for each store number met (0: not
    /// met, 1: no, 2: yes): a person's id is read once, not for each row.
    decided: RefCell<Vec<u8>>,
}

impl Members {
    /// Exactly these people: users (identified) and visitors (anonymous ids).
    pub fn of(users: FastSet<String>, visitors: FastSet<String>) -> Members {
        Members {
            users,
            visitors,
            did: true,
            decided: RefCell::default(),
        }
    }

    /// Whether the row's person is in the segment.
    pub fn admits(&self, row: &InsightRow<'_>) -> bool {
        let at = place(row.number);
        if let Some(n) = at
            && let Some(&known) = self.decided.borrow().get(n)
            && known != 0
        {
            return known == 2;
        }
        let set = if row.identified {
            &self.users
        } else {
            &self.visitors
        };
        let admitted = set.contains(row.person()) == self.did;
        if let Some(n) = at {
            mark(
                &mut self.decided.borrow_mut(),
                n,
                if admitted { 2 } else { 1 },
            );
        }
        admitted
    }

    /// How many people did the step.
    pub fn did_count(&self) -> usize {
        self.users.len() + self.visitors.len()
    }
}

/// Conditions on people's properties, each `KEY=VALUE` or `KEY!=VALUE`; a
/// person without the key equals nothing (so meets every `!=`).
#[derive(Debug, Clone, Default)]
pub struct PersonConditions(Vec<(String, Op, String)>);

impl PersonConditions {
    /// At most [`MAX_CONDITIONS`] conditions, each on a property's name (a
    /// trait such as `plan`, not a `$` field of events).
    pub fn new(field: &'static str, conditions: Vec<Condition>) -> Result<Self, InsightError> {
        if conditions.len() > MAX_CONDITIONS {
            return refuse(format!(
                "`{field}` has at most {MAX_CONDITIONS} conditions, not {}",
                conditions.len()
            ));
        }
        conditions
            .into_iter()
            .map(|c| match c.field {
                Field::Property(name) => Ok((name, c.op, c.value)),
                other => refuse(format!(
                    "`{field}`: {:?} is not a person property; name a trait the identify calls set, such as plan",
                    shown(other.name())
                )),
            })
            .collect::<Result<_, _>>()
            .map(PersonConditions)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether only people with properties can meet them (each `=` needs its
    /// key): then a store need not read the others.
    pub fn needs_properties(&self) -> bool {
        self.0.iter().any(|(_, op, _)| *op == Op::Eq)
    }

    /// Whether a person with these properties meets every condition.
    pub fn admit(&self, t: &Traits) -> bool {
        self.0.iter().all(|(key, op, value)| {
            op.holds(t.get(key).and_then(json_value_text).as_deref(), value)
        })
    }
}

/// Collects the people whose properties meet [`PersonConditions`].
pub struct PeopleWhere {
    conditions: PersonConditions,
    limits: Limits,
    users: FastSet<String>,
    visitors: FastSet<String>,
}

impl PeopleWhere {
    pub fn new(conditions: PersonConditions, limits: Limits) -> PeopleWhere {
        PeopleWhere {
            conditions,
            limits,
            users: FastSet::default(),
            visitors: FastSet::default(),
        }
    }

    pub fn conditions(&self) -> &PersonConditions {
        &self.conditions
    }

    /// A known person (a user, or a visitor not yet identified) and their
    /// properties.
    pub fn add(&mut self, identified: bool, person: &str, t: &Traits) -> Result<(), InsightError> {
        if !self.conditions.admit(t) {
            return Ok(());
        }
        if self.users.len() + self.visitors.len() >= self.limits.people {
            return refuse(format!(
                "more than {} people have these properties; add a condition or a segment",
                self.limits.people
            ));
        }
        let set = if identified {
            &mut self.users
        } else {
            &mut self.visitors
        };
        set.insert(person.to_string());
        Ok(())
    }

    pub fn finish(self) -> Members {
        Members::of(self.users, self.visitors)
    }
}
