//! Funnels: of the people who did the first step in the range, how many then
//! did each next one, in order, within a window of their first step.
//!
//! A person enters at their first first-step event in the range; each later
//! step must come after the previous one (in the log's order: by time, then by
//! position) and at most the window after the entry. Steps are taken as early
//! as they can be, which reaches the furthest step there is. One event counts
//! for one step.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{
    Bound, Breakdowns, Field, InsightError, InsightRow, Limits, Matcher, OTHER, People, RowQuery,
    Slot, breakdown_json, median, refuse,
};
use crate::sessions::FastMap;

/// Fewest and most steps.
pub const MIN_STEPS: usize = 2;
pub const MAX_STEPS: usize = 10;
/// Longest conversion window: 90 days.
pub const MAX_WINDOW_MS: i64 = 90 * super::DAY_MS;
/// Most people a drop-off lists.
pub const DROPPED_LIST: usize = 100;

/// A funnel question.
#[derive(Debug, Clone)]
pub struct FunnelQuery {
    pub project_id: i64,
    /// Entries in `[from, to)`.
    pub from: i64,
    pub to: i64,
    pub steps: Vec<Matcher>,
    pub window_ms: i64,
    /// A field of the entry event to break down by.
    pub breakdown: Option<Field>,
    pub limit: usize,
    /// List the people who reached this step (0-based) and not the next.
    pub dropped_after: Option<usize>,
}

/// How many people did a step, and how fast.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = FunnelStep)]
pub struct Step {
    pub event: String,
    pub people: u64,
    pub conversion_from_first: f64,
    pub conversion_from_previous: f64,
    pub median_seconds_from_previous: Option<f64>,
}

/// The steps of the people with one value of the breakdown.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = FunnelBreakdown)]
pub struct BreakdownSteps {
    /// "" for entries without the field; $other for the values past the
    /// limit.
    #[schema(value_type = String)]
    pub breakdown: Value,
    pub steps: Vec<Step>,
}

/// A person who dropped out.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = FunnelPerson)]
pub struct Person {
    pub id: String,
    pub identified: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct FunnelAnswer {
    pub steps: Vec<Step>,
    /// Per breakdown value of the entry event, when one was asked for.
    pub breakdowns: Option<Vec<BreakdownSteps>>,
    /// The people who dropped after `dropped_after`, when asked (at most
    /// [`DROPPED_LIST`]).
    pub dropped: Option<Vec<Person>>,
}

/// A person's entry and latest step: read only when a row takes their next
/// step ([`Funnel::reached`] says which that is).
struct Progress {
    entered: i64,
    last: i64,
    breakdown: u32,
}

/// Folds a funnel's rows, oldest first.
pub struct Funnel {
    query: FunnelQuery,
    rows: RowQuery,
    bound: Vec<Bound>,
    breakdown: Option<Slot>,
    limits: Limits,
    people: People,
    breakdowns: Breakdowns,
    /// By person (their number in `people`).
    progress: Vec<Progress>,
    /// Steps each person reached (1 at entry), apart from the rest of their
    /// progress: a byte a person keeps in the processor's cache what every
    /// row of theirs looks at, where most rows take no step.
    reached: Vec<u8>,
    /// Per step, seconds from the previous step of each person who reached it.
    seconds: Vec<Vec<f64>>,
    held: usize,
}

impl Funnel {
    pub fn new(query: FunnelQuery, limits: Limits) -> Result<Funnel, InsightError> {
        let n = query.steps.len();
        if !(MIN_STEPS..=MAX_STEPS).contains(&n) {
            return refuse(format!(
                "a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {n}"
            ));
        }
        if !(1_000..=MAX_WINDOW_MS).contains(&query.window_ms) {
            return refuse(format!(
                "`window_seconds` must be between 1 and {} (90 days), not {}",
                MAX_WINDOW_MS / 1_000,
                query.window_ms / 1_000
            ));
        }
        if query.dropped_after.is_some_and(|k| k + 1 >= n) {
            return refuse(format!(
                "`dropped_after` names a step before the last, 0 to {}",
                n - 2
            ));
        }
        // Later steps may come up to a window after the range's last entry.
        let mut rows = RowQuery::new(
            query.project_id,
            query.from,
            query.to.saturating_add(query.window_ms),
        );
        let bound = query
            .steps
            .iter()
            .map(|m| Bound::new(m, &mut rows))
            .collect();
        let breakdown = query.breakdown.as_ref().map(|f| rows.field(f));
        // Only a list of who dropped names people.
        let people = if query.dropped_after.is_some() {
            People::naming()
        } else {
            People::default()
        };
        Ok(Funnel {
            seconds: vec![Vec::new(); n],
            query,
            rows,
            bound,
            breakdown,
            limits,
            people,
            breakdowns: Breakdowns::default(),
            progress: Vec::new(),
            reached: Vec::new(),
            held: 0,
        })
    }

    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    /// Takes the next row (rows come oldest first).
    pub fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
        if self.people.done(row) {
            return Ok(());
        }
        // The steps the row is (at most MAX_STEPS, so they fit in the bits).
        let steps = self
            .bound
            .iter()
            .enumerate()
            .fold(0u16, |hits, (k, b)| hits | (u16::from(b.matches(row)) << k));
        // Only look a person up when the row is some step.
        if steps == 0 {
            return Ok(());
        }
        let in_range = row.ts >= self.query.from && row.ts < self.query.to;
        let Some(person) = self.people.known(row) else {
            if in_range && steps & 1 == 1 {
                // The person enters: their number is the next.
                self.people.id(row, self.limits.people)?;
                let v = self.breakdown.and_then(|s| s.value(row));
                let breakdown = self
                    .breakdowns
                    .id(v.as_deref(), self.limits.breakdown_values);
                self.progress.push(Progress {
                    entered: row.ts,
                    last: row.ts,
                    breakdown,
                });
                self.reached.push(1);
            }
            return Ok(());
        };
        let Some(reached) = self.reached.get_mut(person as usize) else {
            return Ok(());
        };
        // Past the last step, the bit is beyond the steps': no match.
        if steps >> *reached & 1 == 0 {
            return Ok(());
        }
        let k = usize::from(*reached);
        let p = &mut self.progress[person as usize];
        if row.ts - p.entered > self.query.window_ms {
            // Rows come in time order: none of theirs is in the window now.
            self.people.finish(row);
            return Ok(());
        }
        if self.held >= self.limits.cells {
            return refuse(format!(
                "this funnel needs more than {} entries; narrow the range",
                self.limits.cells
            ));
        }
        self.held += 1;
        self.seconds[k].push((row.ts - p.last) as f64 / 1_000.0);
        p.last = row.ts;
        *reached += 1;
        if usize::from(*reached) == self.bound.len() {
            self.people.finish(row);
        }
        Ok(())
    }

    pub fn finish(mut self) -> FunnelAnswer {
        let n = self.bound.len();
        let labels: Vec<String> = self.query.steps.iter().map(|m| m.spec.label()).collect();
        let mut medians: Vec<Option<f64>> = self.seconds.iter_mut().map(|v| median(v)).collect();
        medians[0] = None;
        let count = |filter: &dyn Fn(&Progress) -> bool| -> Vec<u64> {
            let mut reached = vec![0u64; n];
            for (p, k) in self.progress.iter().zip(&self.reached) {
                if filter(p) {
                    for r in reached.iter_mut().take(usize::from(*k)) {
                        *r += 1;
                    }
                }
            }
            reached
        };
        let steps = make_steps(&labels, &count(&|_| true), Some(&medians));
        let breakdowns = self.query.breakdown.as_ref().map(|_| {
            let mut entries: FastMap<u32, u64> = FastMap::default();
            for p in &self.progress {
                *entries.entry(p.breakdown).or_default() += 1;
            }
            let (kept, rest) = self.breakdowns.rank(entries, self.query.limit);
            let mut out: Vec<BreakdownSteps> = kept
                .iter()
                .map(|b| BreakdownSteps {
                    breakdown: breakdown_json(&self.breakdowns.values[*b as usize], true),
                    steps: make_steps(&labels, &count(&|p| p.breakdown == *b), None),
                })
                .collect();
            if !rest.is_empty() {
                out.push(BreakdownSteps {
                    breakdown: Value::String(OTHER.into()),
                    steps: make_steps(&labels, &count(&|p| rest.contains(&p.breakdown)), None),
                });
            }
            out
        });
        let dropped = self.query.dropped_after.map(|k| {
            let mut list: Vec<Person> = self
                .reached
                .iter()
                .zip(0u32..)
                .filter(|(r, _)| usize::from(**r) == k + 1)
                .filter_map(|(_, id)| {
                    let (identified, name) = self.people.name(id)?;
                    Some(Person {
                        id: name.clone(),
                        identified: *identified,
                    })
                })
                .collect();
            list.sort_by(|a, b| a.id.cmp(&b.id));
            list.truncate(DROPPED_LIST);
            list
        });
        FunnelAnswer {
            steps,
            breakdowns,
            dropped,
        }
    }
}

fn make_steps(labels: &[String], reached: &[u64], medians: Option<&[Option<f64>]>) -> Vec<Step> {
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    labels
        .iter()
        .enumerate()
        .map(|(k, label)| Step {
            event: label.clone(),
            people: reached[k],
            conversion_from_first: ratio(reached[k], reached[0]),
            conversion_from_previous: if k == 0 {
                ratio(reached[0], reached[0])
            } else {
                ratio(reached[k], reached[k - 1])
            },
            median_seconds_from_previous: medians.and_then(|m| m[k]),
        })
        .collect()
}
