//! Revenue: the amounts of revenue events (orders, bookings...) over time,
//! per currency and never added across currencies, optionally per value of a
//! field: the event's own (a product, a service) or the payer's first touch in
//! the range (the channel, source or campaign that brought them).
//!
//! An event's amount is a numeric property (a JSON number or a numeric
//! string); events without one are not revenue and are left out. Its currency
//! is another property, as written (`EUR`, `TZS`); events without one are kept
//! apart under `""`, never added to a known currency.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::trends::{Point, number};
use super::{
    Bound, Breakdowns, Field, InsightError, InsightRow, Interval, Limits, Matcher, OTHER, People,
    RowQuery, Slot, breakdown_json, refuse,
};
use crate::sessions::{FastMap, FastSet};

/// Most distinct currencies one question keeps apart.
pub const MAX_CURRENCIES: usize = 100;

/// Where a breakdown value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// From the revenue event itself.
    Event,
    /// From the payer's first event in the range.
    FirstTouch,
}

#[derive(Debug, Clone)]
pub struct RevenueQuery {
    pub project_id: i64,
    pub from: i64,
    pub to: i64,
    pub interval: Interval,
    /// The revenue events (1 to [`super::MAX_SERIES`]).
    pub events: Vec<Matcher>,
    pub amount: Field,
    pub currency: Field,
    pub breakdown: Option<Field>,
    pub attribution: Attribution,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct RevenueSeries {
    /// The breakdown value; null without a breakdown.
    #[schema(value_type = Option<String>)]
    pub breakdown: Value,
    /// Null for a sum past what a number holds.
    #[schema(value_type = Option<f64>)]
    pub total: Value,
    pub orders: u64,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct CurrencyRevenue {
    /// "" for events without one.
    pub currency: String,
    /// Null for a sum past what a number holds.
    #[schema(value_type = Option<f64>)]
    pub total: Value,
    /// Revenue events with an amount.
    pub orders: u64,
    /// Distinct payers.
    pub people: u64,
    /// Per breakdown value by total, most first, the rest as [`OTHER`]; one
    /// series without a breakdown.
    pub series: Vec<RevenueSeries>,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct RevenueAnswer {
    /// Most orders first.
    pub currencies: Vec<CurrencyRevenue>,
}

#[derive(Default, Clone, Copy)]
struct Cell {
    sum: f64,
    orders: u64,
}

/// Folds a revenue question's rows.
pub struct Revenue {
    query: RevenueQuery,
    rows: RowQuery,
    events: Vec<Bound>,
    amount: Slot,
    currency: Slot,
    breakdown: Option<Slot>,
    starts: Vec<i64>,
    limits: Limits,
    people: People,
    currencies: Breakdowns,
    values: Breakdowns,
    /// Per person, the breakdown value of their first row (first touch only).
    first_value: Vec<u32>,
    /// (currency, breakdown value, point).
    cells: FastMap<(u32, u32, u32), Cell>,
    payers: FastSet<(u32, u32)>,
}

impl Revenue {
    pub fn new(query: RevenueQuery, limits: Limits) -> Result<Revenue, InsightError> {
        if query.events.is_empty() || query.events.len() > super::MAX_SERIES {
            return refuse(format!(
                "give 1 to {} revenue events, not {}",
                super::MAX_SERIES,
                query.events.len()
            ));
        }
        let mut rows = RowQuery::new(query.project_id, query.from, query.to);
        let events = query
            .events
            .iter()
            .map(|m| Bound::new(m, &mut rows))
            .collect();
        let amount = rows.field(&query.amount);
        let currency = rows.field(&query.currency);
        let breakdown = query.breakdown.as_ref().map(|f| rows.field(f));
        if breakdown.is_some() && query.attribution == Attribution::FirstTouch {
            // A payer's first touch may be any event.
            rows.page_views = true;
            rows.all_tracks = true;
        }
        let starts = query.interval.starts(query.from, query.to)?;
        Ok(Revenue {
            query,
            rows,
            events,
            amount,
            currency,
            breakdown,
            starts,
            limits,
            people: People::default(),
            currencies: Breakdowns::default(),
            values: Breakdowns::default(),
            first_value: Vec::new(),
            cells: FastMap::default(),
            payers: FastSet::default(),
        })
    }

    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    pub fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
        let first_touch = self.query.attribution == Attribution::FirstTouch;
        let mut person = None;
        if first_touch && let Some(slot) = self.breakdown {
            let id = self.people.id(row, self.limits.people)?;
            if id as usize == self.first_value.len() {
                let v = slot.value(row);
                let value = self.values.id(v.as_deref(), self.limits.breakdown_values);
                self.first_value.push(value);
            }
            person = Some(id);
        }
        if !self.events.iter().any(|e| e.matches(row)) {
            return Ok(());
        }
        let Some(amount) = self
            .amount
            .value(row)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
        else {
            return Ok(());
        };
        let Some(point) = self.starts.partition_point(|s| *s <= row.ts).checked_sub(1) else {
            return Ok(());
        };
        let currency_text = self.currency.value(row);
        let currency = currency_text.as_deref().unwrap_or("");
        let known = self.currencies.values.len();
        let currency = self.currencies.id(Some(currency), usize::MAX);
        if self.currencies.values.len() > known && known >= MAX_CURRENCIES {
            return refuse(format!(
                "this question meets more than {MAX_CURRENCIES} currencies; narrow it with conditions"
            ));
        }
        let person = match person {
            Some(p) => p,
            None => self.people.id(row, self.limits.people)?,
        };
        let value = match self.breakdown {
            None => 0,
            Some(_) if first_touch => self.first_value[person as usize],
            Some(slot) => {
                let v = slot.value(row);
                self.values.id(v.as_deref(), self.limits.breakdown_values)
            }
        };
        let cell = self
            .cells
            .entry((currency, value, point as u32))
            .or_default();
        cell.sum += amount;
        cell.orders += 1;
        self.payers.insert((currency, person));
        if self.cells.len() + self.payers.len() > self.limits.cells {
            return refuse(format!(
                "this question needs more than {} entries; use a longer interval, a shorter range or fewer breakdown values",
                self.limits.cells
            ));
        }
        Ok(())
    }

    pub fn finish(self) -> RevenueAnswer {
        let broken_down = self.breakdown.is_some();
        let mut out = Vec::new();
        for (c, name) in self.currencies.values.iter().enumerate() {
            let c = c as u32;
            let mut totals: FastMap<u32, f64> = FastMap::default();
            let mut orders = 0;
            for ((cur, v, _), cell) in &self.cells {
                if *cur == c {
                    *totals.entry(*v).or_default() += cell.sum;
                    orders += cell.orders;
                }
            }
            // Rank by total (amounts, not events), most first, ties by value.
            let mut ranked: Vec<(u32, f64)> = totals.iter().map(|(v, t)| (*v, *t)).collect();
            ranked.sort_by(|a, b| {
                b.1.total_cmp(&a.1).then_with(|| {
                    self.values
                        .values
                        .get(a.0 as usize)
                        .cmp(&self.values.values.get(b.0 as usize))
                })
            });
            let keep = if broken_down {
                self.query.limit
            } else {
                usize::MAX
            };
            let mut groups: Vec<(Option<String>, Vec<u32>)> = ranked
                .iter()
                .take(keep)
                .map(|(v, _)| {
                    let value = if broken_down {
                        self.values.values[*v as usize].clone()
                    } else {
                        None
                    };
                    (value, vec![*v])
                })
                .collect();
            let rest: Vec<u32> = ranked.iter().skip(keep).map(|(v, _)| *v).collect();
            if !rest.is_empty() {
                groups.push((Some(OTHER.to_string()), rest));
            }
            let series = groups
                .into_iter()
                .map(|(value, members)| {
                    let mut total = 0.0;
                    let mut orders = 0;
                    let points = self
                        .starts
                        .iter()
                        .enumerate()
                        .map(|(p, t)| {
                            let mut sum = 0.0;
                            for m in &members {
                                if let Some(cell) = self.cells.get(&(c, *m, p as u32)) {
                                    sum += cell.sum;
                                    orders += cell.orders;
                                }
                            }
                            total += sum;
                            Point {
                                t: *t,
                                value: number(sum),
                            }
                        })
                        .collect();
                    RevenueSeries {
                        breakdown: breakdown_json(&value, broken_down),
                        total: number(total),
                        orders,
                        points,
                    }
                })
                .collect();
            let people = self.payers.iter().filter(|(cur, _)| *cur == c).count() as u64;
            out.push(CurrencyRevenue {
                currency: name.clone().unwrap_or_default(),
                total: number(totals.values().sum()),
                orders,
                people,
                series,
            });
        }
        out.sort_by(|a, b| {
            b.orders
                .cmp(&a.orders)
                .then_with(|| a.currency.cmp(&b.currency))
        });
        RevenueAnswer { currencies: out }
    }
}
