//! Retention: people grouped by the period of their first start event in the
//! range (their cohort), and for each later period how many of them did a
//! return event in it. Period 0 is the cohort's own period, counting return
//! events from the start event on (so when the start and return events are the
//! same, period 0 is the whole cohort).

use serde::Serialize;
use utoipa::ToSchema;

use super::{Bound, InsightError, InsightRow, Interval, Limits, Matcher, People, RowQuery, refuse};

/// Most periods a cohort is followed for.
pub const MAX_PERIODS: usize = 64;

#[derive(Debug, Clone)]
pub struct RetentionQuery {
    pub project_id: i64,
    /// Cohorts start in `[from, to)`.
    pub from: i64,
    pub to: i64,
    pub start: Matcher,
    pub ret: Matcher,
    pub period: Interval,
    /// Periods followed, period 0 included (1 to [`MAX_PERIODS`]).
    pub periods: usize,
    /// Periods that have not begun by now are left out of a cohort's row.
    pub now: i64,
}

/// The people who started in one period.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = RetentionCohort)]
pub struct Cohort {
    /// The period's start, ms since the epoch.
    pub start: i64,
    pub people: u64,
    /// How many of them returned in each period from their own; periods
    /// that have begun only.
    pub returned: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct RetentionAnswer {
    pub cohorts: Vec<Cohort>,
}

/// Folds a retention table's rows, oldest first.
pub struct Retention {
    query: RetentionQuery,
    rows: RowQuery,
    start: Bound,
    ret: Bound,
    cohorts: Vec<i64>,
    limits: Limits,
    people: People,
    /// Per person (their number in `people`): cohort, and the periods they
    /// returned in (bit k).
    progress: Vec<(u32, u64)>,
}

impl Retention {
    pub fn new(query: RetentionQuery, limits: Limits) -> Result<Retention, InsightError> {
        if !(1..=MAX_PERIODS).contains(&query.periods) {
            return refuse(format!(
                "`periods` must be between 1 and {MAX_PERIODS}, not {}",
                query.periods
            ));
        }
        let cohorts = query.period.starts(query.from, query.to)?;
        // Returns are read until the last cohort's last period ends.
        let mut end = *cohorts.last().unwrap_or(&query.to);
        for _ in 0..query.periods {
            end = query.period.next(end);
        }
        let mut rows = RowQuery::new(query.project_id, query.from, end.max(query.to));
        let start = Bound::new(&query.start, &mut rows);
        let ret = Bound::new(&query.ret, &mut rows);
        Ok(Retention {
            query,
            rows,
            start,
            ret,
            cohorts,
            limits,
            people: People::default(),
            progress: Vec::new(),
        })
    }

    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    pub fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
        let is_start = self.start.matches(row);
        let is_return = self.ret.matches(row);
        if !is_start && !is_return {
            return Ok(());
        }
        let person = match self.people.known(row) {
            Some(id) => id,
            None if is_start && row.ts >= self.query.from && row.ts < self.query.to => {
                let id = self.people.id(row, self.limits.people)?;
                let cohort = self.query.period.index(self.query.from, row.ts);
                let cohort = u32::try_from(cohort).unwrap_or(u32::MAX);
                debug_assert_eq!(id as usize, self.progress.len());
                self.progress.push((cohort, 0));
                id
            }
            None => return Ok(()),
        };
        if is_return && let Some((cohort, bits)) = self.progress.get_mut(person as usize) {
            let k = self.query.period.index(self.query.from, row.ts) - i64::from(*cohort);
            if (0..self.query.periods as i64).contains(&k) {
                *bits |= 1 << k;
            }
        }
        Ok(())
    }

    pub fn finish(self) -> RetentionAnswer {
        let mut cohorts: Vec<Cohort> = self
            .cohorts
            .iter()
            .map(|start| {
                // Periods begun by now.
                let mut shown = 0;
                let mut t = *start;
                while shown < self.query.periods && t <= self.query.now {
                    shown += 1;
                    t = self.query.period.next(t);
                }
                Cohort {
                    start: *start,
                    people: 0,
                    returned: vec![0; shown],
                }
            })
            .collect();
        for (cohort, bits) in &self.progress {
            let Some(c) = cohorts.get_mut(*cohort as usize) else {
                continue;
            };
            c.people += 1;
            for (k, n) in c.returned.iter_mut().enumerate() {
                if bits & (1 << k) != 0 {
                    *n += 1;
                }
            }
        }
        RetentionAnswer { cohorts }
    }
}
