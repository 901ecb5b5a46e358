//! Goals and conversions: a project's goals (an event with optional
//! conditions, or page views of a page pattern) and, over a range, how many
//! visitors each converted, optionally per value of a field, which is also
//! how the overview lists sources, channels and campaigns (visitors per
//! value, with each goal's conversions beside them).
//!
//! A visitor is a person (as everywhere in insights: an anonymous history
//! counts as the user it became) with any event in the range, bots left out.
//! A goal's conversions are the visitors with at least one matching event, and
//! its rate is conversions over visitors. Per breakdown value, each visitor
//! counts once, under the value their first event in the range carries (first
//! touch: the campaign or channel that brought them), and so do their
//! conversions; so the values' visitors add up to the whole.

use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Bound, Breakdowns, Field, InsightError, InsightRow, Limits, Matcher, OTHER, People, RowQuery,
    Slot, refuse,
};
use crate::sessions::FastMap;

/// Most goals a project keeps.
pub const MAX_GOALS_PER_PROJECT: usize = 50;

/// One goal of a conversions question.
#[derive(Debug, Clone)]
pub struct GoalSpec {
    pub id: i64,
    pub name: String,
    pub matcher: Matcher,
}

#[derive(Debug, Clone)]
pub struct ConversionsQuery {
    pub project_id: i64,
    pub from: i64,
    pub to: i64,
    pub goals: Vec<GoalSpec>,
    pub breakdown: Option<Field>,
    /// Breakdown values shown before the rest is folded into [`OTHER`].
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct GoalTotal {
    pub id: i64,
    pub name: String,
    /// Visitors who reached the goal.
    pub conversions: u64,
    /// Matching events.
    pub events: u64,
    /// Conversions over visitors (0 without visitors).
    pub rate: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct ValueGoal {
    pub id: i64,
    pub conversions: u64,
    pub rate: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct ValueRow {
    /// The value; `""` for events without the field, [`OTHER`] for the rest.
    pub value: String,
    pub visitors: u64,
    pub goals: Vec<ValueGoal>,
}

/// Visitors and each goal's conversions over a range.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = Conversions)]
pub struct ConversionsAnswer {
    pub visitors: u64,
    pub goals: Vec<GoalTotal>,
    /// Per breakdown value, most visitors first; null without a breakdown.
    pub breakdown: Option<Vec<ValueRow>>,
}

/// Folds a conversions question's rows.
pub struct Conversions {
    query: ConversionsQuery,
    rows: RowQuery,
    goals: Vec<Bound>,
    slot: Option<Slot>,
    limits: Limits,
    people: People,
    values: Breakdowns,
    /// Per person (by number), the value of their first event.
    first_value: Vec<u32>,
    /// Per goal, the people who converted, and its matching events.
    converted: Vec<FastMap<u32, ()>>,
    events: Vec<u64>,
    /// Entries in `converted`, all goals together: the cells.
    cells: usize,
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl Conversions {
    pub fn new(query: ConversionsQuery, limits: Limits) -> Result<Conversions, InsightError> {
        if query.goals.len() > MAX_GOALS_PER_PROJECT {
            return refuse(format!(
                "a conversions question takes at most {MAX_GOALS_PER_PROJECT} goals"
            ));
        }
        let mut rows = RowQuery::new(query.project_id, query.from, query.to);
        // Visitors are people with any event, so every row is read.
        rows.page_views = true;
        rows.all_tracks = true;
        let goals = query
            .goals
            .iter()
            .map(|g| Bound::new(&g.matcher, &mut rows))
            .collect();
        let slot = query.breakdown.as_ref().map(|f| rows.field(f));
        let n = query.goals.len();
        Ok(Conversions {
            query,
            rows,
            goals,
            slot,
            limits,
            people: People::default(),
            values: Breakdowns::default(),
            first_value: Vec::new(),
            converted: vec![FastMap::default(); n],
            events: vec![0; n],
            cells: 0,
        })
    }

    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    pub fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
        let person = self.people.id(row, self.limits.people)?;
        if let Some(slot) = self.slot
            && person as usize == self.first_value.len()
        {
            // Rows come oldest first: a person's first row is their first touch.
            let v = slot.value(row);
            let id = self.values.id(v.as_deref(), self.limits.breakdown_values);
            self.first_value.push(id);
        }
        for (g, goal) in self.goals.iter().enumerate() {
            if !goal.matches(row) {
                continue;
            }
            self.events[g] += 1;
            if self.converted[g].insert(person, ()).is_none() {
                self.cells += 1;
                if self.cells > self.limits.cells {
                    return refuse(format!(
                        "these goals hold more than {} conversions; narrow the range",
                        self.limits.cells
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> ConversionsAnswer {
        let visitors = u64::from(self.people.count);
        let goals = self
            .query
            .goals
            .iter()
            .enumerate()
            .map(|(g, spec)| {
                let conversions = self.converted[g].len() as u64;
                GoalTotal {
                    id: spec.id,
                    name: spec.name.clone(),
                    conversions,
                    events: self.events[g],
                    rate: rate(conversions, visitors),
                }
            })
            .collect();
        let breakdown = self.slot.map(|_| self.breakdown());
        ConversionsAnswer {
            visitors,
            goals,
            breakdown,
        }
    }

    /// The values by visitors, the first `limit` and the rest as one
    /// [`OTHER`] row (each visitor has one value, so the rest adds up).
    fn breakdown(&self) -> Vec<ValueRow> {
        let mut totals: FastMap<u32, u64> = FastMap::default();
        for v in &self.first_value {
            *totals.entry(*v).or_default() += 1;
        }
        let mut converted: FastMap<(usize, u32), u64> = FastMap::default();
        for (g, people) in self.converted.iter().enumerate() {
            for p in people.keys() {
                *converted
                    .entry((g, self.first_value[*p as usize]))
                    .or_default() += 1;
            }
        }
        let (kept, rest) = self.values.rank(totals.clone(), self.query.limit);
        let row = |group: &[u32], value: String| -> ValueRow {
            let visitors = group
                .iter()
                .map(|v| totals.get(v).copied().unwrap_or(0))
                .sum();
            let goals = self
                .query
                .goals
                .iter()
                .enumerate()
                .map(|(g, spec)| {
                    let conversions = group
                        .iter()
                        .map(|v| converted.get(&(g, *v)).copied().unwrap_or(0))
                        .sum();
                    ValueGoal {
                        id: spec.id,
                        conversions,
                        rate: rate(conversions, visitors),
                    }
                })
                .collect();
            ValueRow {
                value,
                visitors,
                goals,
            }
        };
        let mut out: Vec<ValueRow> = kept
            .iter()
            .map(|v| {
                let value = self.values.values[*v as usize].clone().unwrap_or_default();
                row(std::slice::from_ref(v), value)
            })
            .collect();
        if !rest.is_empty() {
            out.push(row(&rest, OTHER.to_string()));
        }
        out
    }
}
