//! Trends: how often events happened, how many people did them, or the sum,
//! mean or median of a numeric property, per hour, day, week or month; broken
//! down by a field (the top values, the rest folded into [`OTHER`]); beside the
//! period before when asked.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{
    Bound, Breakdowns, Field, Groups, InsightError, InsightRow, Interval, Limits, Matcher, OTHER,
    People, RowQuery, Slot, breakdown_json, median, refuse,
};
use crate::sessions::{FastMap, FastSet};

/// What each point counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    Events,
    People,
    Sum(Field),
    Avg(Field),
    Median(Field),
}

impl Measure {
    /// `events`, `people`, or `sum:PROP`, `avg:PROP`, `median:PROP`.
    pub fn parse(field: &'static str, s: &str) -> Result<Measure, InsightError> {
        let s = s.trim();
        match s {
            "events" => return Ok(Measure::Events),
            "people" => return Ok(Measure::People),
            _ => {}
        }
        let Some((how, prop)) = s.split_once(':') else {
            return refuse(format!(
                "`{field}` must be events, people, sum:PROPERTY, avg:PROPERTY or median:PROPERTY, not {:?}",
                super::shown(s)
            ));
        };
        let f = Field::parse(field, prop)?;
        match how {
            "sum" => Ok(Measure::Sum(f)),
            "avg" => Ok(Measure::Avg(f)),
            "median" => Ok(Measure::Median(f)),
            _ => refuse(format!(
                "`{field}` must be events, people, sum:PROPERTY, avg:PROPERTY or median:PROPERTY, not {:?}",
                super::shown(s)
            )),
        }
    }

    fn field(&self) -> Option<&Field> {
        match self {
            Measure::Sum(f) | Measure::Avg(f) | Measure::Median(f) => Some(f),
            Measure::Events | Measure::People => None,
        }
    }
}

/// A trend question.
#[derive(Debug, Clone)]
pub struct TrendsQuery {
    pub project_id: i64,
    /// `[from, to)`.
    pub from: i64,
    pub to: i64,
    pub interval: Interval,
    /// One series each (1 to [`super::MAX_SERIES`]).
    pub series: Vec<Matcher>,
    pub measure: Measure,
    pub breakdown: Option<Field>,
    /// Breakdown values shown before the rest is folded.
    pub limit: usize,
    /// Also the period of the same length just before `from`.
    pub compare: bool,
}

/// One point of a series.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = TrendPoint)]
pub struct Point {
    /// The period's start, ms since the epoch.
    pub t: i64,
    /// Null for a sum past what a number holds.
    #[schema(value_type = Option<f64>)]
    pub value: Value,
}

/// One line of a trend.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = TrendSeries)]
pub struct Series {
    pub label: String,
    /// Null without a breakdown; "" for events without the field; $other
    /// for the values past the limit.
    #[schema(value_type = Option<String>)]
    pub breakdown: Value,
    pub points: Vec<Point>,
}

/// A trend's answer: the series of the range and, when asked, of the period
/// before it (its points at that period's own times).
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct TrendsAnswer {
    pub series: Vec<Series>,
    pub compare: Option<Vec<Series>>,
}

#[derive(Default)]
struct Cell {
    events: u64,
    sum: f64,
    counted: u64,
    values: Vec<f64>,
}

/// (series, previous period, breakdown, point).
type CellKey = (u16, bool, u32, u32);

/// Folds a trend's rows.
pub struct Trends {
    query: TrendsQuery,
    rows: RowQuery,
    bound: Vec<Bound>,
    value: Option<Slot>,
    breakdown: Option<Slot>,
    current: Vec<i64>,
    previous: Vec<i64>,
    previous_from: i64,
    limits: Limits,
    people: People,
    breakdowns: Breakdowns,
    cells: FastMap<CellKey, Cell>,
    people_cells: FastSet<(CellKey, u32)>,
    values_held: usize,
}

impl Trends {
    /// The accumulator, and the rows it needs.
    pub fn new(query: TrendsQuery, limits: Limits) -> Result<Trends, InsightError> {
        if query.series.is_empty() || query.series.len() > super::MAX_SERIES {
            return refuse(format!(
                "a trend has 1 to {} series, not {}",
                super::MAX_SERIES,
                query.series.len()
            ));
        }
        let span = query.to - query.from;
        let previous_from = if query.compare {
            query.from - span
        } else {
            query.from
        };
        let mut rows = RowQuery::new(query.project_id, previous_from.max(0), query.to);
        let bound = query
            .series
            .iter()
            .map(|m| Bound::new(m, &mut rows))
            .collect();
        let value = query.measure.field().map(|f| rows.field(f));
        let breakdown = query.breakdown.as_ref().map(|f| rows.field(f));
        let current = query.interval.starts(query.from, query.to)?;
        let previous = if query.compare {
            query.interval.starts(previous_from.max(0), query.from)?
        } else {
            Vec::new()
        };
        if query.measure != Measure::People {
            // Rows in one period with equal values count alike; people are
            // never asked for.
            let mut bounds: Vec<i64> = current
                .iter()
                .chain(&previous)
                .copied()
                .chain([previous_from, query.from, query.to])
                .collect();
            bounds.sort_unstable();
            bounds.dedup();
            let channel = |f: &Field| *f == Field::Channel;
            let url = query.series.iter().any(|m| {
                matches!(m.spec, super::EventSpec::PageView(Some(_)))
                    || m.conditions.iter().any(|c| channel(&c.field))
            }) || query.breakdown.as_ref().is_some_and(channel)
                || query.measure.field().is_some_and(channel);
            rows.groups = Some(Groups { bounds, url });
        }
        Ok(Trends {
            query,
            rows,
            bound,
            value,
            breakdown,
            current,
            previous,
            previous_from,
            limits,
            people: People::default(),
            breakdowns: Breakdowns::default(),
            cells: FastMap::default(),
            people_cells: FastSet::default(),
            values_held: 0,
        })
    }

    /// What to ask the store for.
    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    /// Counts one row.
    pub fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
        let (previous, starts) = if row.ts >= self.query.from && row.ts < self.query.to {
            (false, &self.current)
        } else if self.query.compare && row.ts >= self.previous_from && row.ts < self.query.from {
            (true, &self.previous)
        } else {
            return Ok(());
        };
        let Some(point) = starts.partition_point(|s| *s <= row.ts).checked_sub(1) else {
            return Ok(());
        };
        let point = point as u32;
        let mut breakdown = None;
        for (i, series) in self.bound.iter().enumerate() {
            if !series.matches(row) {
                continue;
            }
            let b = *breakdown.get_or_insert_with(|| {
                let v = self.breakdown.and_then(|s| s.value(row));
                self.breakdowns
                    .id(v.as_deref(), self.limits.breakdown_values)
            });
            let key = (i as u16, previous, b, point);
            let cell = self.cells.entry(key).or_default();
            cell.events += row.weight;
            match &self.query.measure {
                Measure::Events => {}
                Measure::People => {
                    let person = self.people.id(row, self.limits.people)?;
                    if self.people_cells.len() >= self.limits.cells {
                        return refuse(too_many(self.limits.cells));
                    }
                    self.people_cells.insert((key, person));
                }
                Measure::Sum(_) | Measure::Avg(_) | Measure::Median(_) => {
                    let number = self
                        .value
                        .and_then(|s| s.value(row))
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .filter(|v| v.is_finite());
                    if let Some(v) = number {
                        cell.sum += v * row.weight as f64;
                        cell.counted += row.weight;
                        if matches!(self.query.measure, Measure::Median(_)) {
                            let held = usize::try_from(row.weight)
                                .ok()
                                .and_then(|w| self.values_held.checked_add(w))
                                .filter(|h| *h <= self.limits.cells);
                            let Some(held) = held else {
                                return refuse(too_many(self.limits.cells));
                            };
                            self.values_held = held;
                            cell.values
                                .extend(std::iter::repeat_n(v, row.weight as usize));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The answer: per series, the top breakdown values of the range by
    /// events (ties by value), then the rest folded into [`OTHER`].
    pub fn finish(self) -> TrendsAnswer {
        let broken_down = self.query.breakdown.is_some();
        let n_series = self.bound.len();
        // Per series: each breakdown value's group (its own, or the rest's).
        let mut groups: Vec<Vec<Group>> = Vec::with_capacity(n_series);
        for s in 0..n_series {
            let mut totals: FastMap<u32, u64> = FastMap::default();
            for ((series, previous, b, _), cell) in &self.cells {
                if usize::from(*series) == s {
                    let t = totals.entry(*b).or_default();
                    if !previous {
                        *t += cell.events;
                    }
                }
            }
            let keep = if broken_down {
                self.query.limit
            } else {
                usize::MAX
            };
            let (kept, rest) = self.breakdowns.rank(totals, keep);
            let mut list: Vec<Group> = kept
                .iter()
                .map(|b| Group {
                    value: self.breakdowns.values[*b as usize].clone(),
                    members: vec![*b],
                })
                .collect();
            if !rest.is_empty() {
                list.push(Group {
                    value: Some(OTHER.to_string()),
                    members: rest,
                });
            }
            if list.is_empty() && !broken_down {
                // No event: one series of zeros.
                list.push(Group {
                    value: None,
                    members: Vec::new(),
                });
            }
            groups.push(list);
        }
        // Distinct people per (series, period, group, point).
        let mut people: FastMap<(u16, bool, usize, u32), u64> = FastMap::default();
        if self.query.measure == Measure::People {
            let mut group_of: FastMap<(u16, u32), usize> = FastMap::default();
            for (s, list) in groups.iter().enumerate() {
                for (g, group) in list.iter().enumerate() {
                    for b in &group.members {
                        group_of.insert((s as u16, *b), g);
                    }
                }
            }
            let mut seen: FastSet<((u16, bool, usize, u32), u32)> = FastSet::default();
            for ((series, previous, b, point), person) in &self.people_cells {
                if let Some(g) = group_of.get(&(*series, *b)) {
                    let key = (*series, *previous, *g, *point);
                    if seen.insert((key, *person)) {
                        *people.entry(key).or_default() += 1;
                    }
                }
            }
        }
        let build = |previous: bool, starts: &[i64]| -> Vec<Series> {
            let mut out = Vec::new();
            for (s, list) in groups.iter().enumerate() {
                for (g, group) in list.iter().enumerate() {
                    let points = starts
                        .iter()
                        .enumerate()
                        .map(|(p, t)| {
                            let cells = group.members.iter().filter_map(|b| {
                                self.cells.get(&(s as u16, previous, *b, p as u32))
                            });
                            Point {
                                t: *t,
                                value: self.value_of(
                                    cells,
                                    people.get(&(s as u16, previous, g, p as u32)),
                                ),
                            }
                        })
                        .collect();
                    out.push(Series {
                        label: self.query.series[s].spec.label(),
                        breakdown: breakdown_json(&group.value, broken_down),
                        points,
                    });
                }
            }
            out
        };
        let series = build(false, &self.current);
        let compare = self.query.compare.then(|| build(true, &self.previous));
        TrendsAnswer { series, compare }
    }

    fn value_of<'c>(&self, cells: impl Iterator<Item = &'c Cell>, people: Option<&u64>) -> Value {
        let mut events = 0;
        let mut sum = 0.0;
        let mut counted = 0;
        let mut values = Vec::new();
        for c in cells {
            events += c.events;
            sum += c.sum;
            counted += c.counted;
            values.extend_from_slice(&c.values);
        }
        match self.query.measure {
            Measure::Events => Value::from(events),
            Measure::People => Value::from(people.copied().unwrap_or(0)),
            Measure::Sum(_) => number(sum),
            Measure::Avg(_) => number(if counted == 0 {
                0.0
            } else {
                sum / counted as f64
            }),
            Measure::Median(_) => number(median(&mut values).unwrap_or(0.0)),
        }
    }
}

struct Group {
    value: Option<String>,
    members: Vec<u32>,
}

/// A sum or mean as JSON: whole numbers without a fraction.
pub(super) fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

fn too_many(cells: usize) -> String {
    format!(
        "this trend needs more than {cells} entries; use a longer interval, a shorter range or fewer breakdown values"
    )
}
