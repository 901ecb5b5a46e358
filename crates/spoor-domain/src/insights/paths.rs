//! Paths: what people did after (or before) a chosen event, step by step.
//!
//! Each person is followed from their first start event in the range: the
//! next `steps` events they did (or, looking back, the `steps` events before
//! it), each named by its page for a page view (`/property/*`) and by its name
//! for a track event, within the window of the start event. The same name
//! twice in a row counts once (a reload is not a step). Per step, the most
//! common names (the rest folded into [`OTHER`]) with their people, the links
//! from each name of the step before, and the people who did nothing more.

use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Bound, Breakdowns, Field, InsightError, InsightRow, Limits, Matcher, OTHER, People, RowQuery,
    Slot, refuse,
};
use crate::friction::page_of;
use crate::sessions::FastMap;

/// Most steps a path follows.
pub const MAX_STEPS: usize = 5;
/// Most names a step shows before the rest is folded.
pub const MAX_SHOWN: usize = 20;

/// Which way from the start event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    After,
    Before,
}

/// What a path's steps are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    Pages,
    Events,
    Both,
}

#[derive(Debug, Clone)]
pub struct PathsQuery {
    pub project_id: i64,
    /// Start events in `[from, to)`.
    pub from: i64,
    pub to: i64,
    pub start: Matcher,
    pub direction: Direction,
    pub include: Include,
    /// 1 to [`MAX_STEPS`].
    pub steps: usize,
    /// Names shown per step, 1 to [`MAX_SHOWN`].
    pub shown: usize,
    /// How far from the start event a step may be.
    pub window_ms: i64,
}

/// A page or event at a step, with the people there.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = PathNode)]
pub struct Node {
    pub name: String,
    pub people: u64,
}

/// People who went from a name at one step to a name at the next.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
#[schema(as = PathLink)]
pub struct Link {
    pub from: String,
    pub to: String,
    pub people: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct PathStep {
    /// 1 for the event next to the start one.
    pub step: usize,
    pub nodes: Vec<Node>,
    /// From the step before's names (the start event's label for step 1).
    pub links: Vec<Link>,
    /// People who reached the step before and did nothing more.
    pub dropped: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct PathsAnswer {
    pub start: String,
    pub people: u64,
    pub steps: Vec<PathStep>,
}

struct Trail {
    started: Option<i64>,
    /// The latest name taken (the start event's, once started), so that the
    /// same name twice in a row counts once.
    last: Option<u32>,
    /// Names (numbers) after the start, or the latest ones before it.
    names: Vec<(u32, i64)>,
}

/// Folds a paths question's rows, oldest first.
pub struct Paths {
    query: PathsQuery,
    rows: RowQuery,
    start: Bound,
    limits: Limits,
    people: People,
    names: Breakdowns,
    /// Where a page view's page is read (the store keeps it made from the
    /// URL), when pages are steps.
    page: Option<Slot>,
    /// By person (their number in `people`).
    trails: Vec<Trail>,
    /// Where each person is ([`WAITING`], [`FOLLOWING`], [`DONE`]), apart
    /// from their trail: a byte a person keeps in the processor's cache what
    /// every row of theirs looks at first, and most rows are of people done.
    state: Vec<u8>,
}

/// Not started yet (looking back: their latest names kept until they start).
const WAITING: u8 = 0;
/// Started, looking ahead: their next names are taken.
const FOLLOWING: u8 = 1;
/// Nothing more of theirs is taken: their steps are all taken, the window
/// has passed (rows come in time order), or, looking back, they started.
const DONE: u8 = 2;

impl Paths {
    pub fn new(query: PathsQuery, limits: Limits) -> Result<Paths, InsightError> {
        if !(1..=MAX_STEPS).contains(&query.steps) {
            return refuse(format!(
                "`steps` must be between 1 and {MAX_STEPS}, not {}",
                query.steps
            ));
        }
        if !(1..=MAX_SHOWN).contains(&query.shown) {
            return refuse(format!(
                "`limit` must be between 1 and {MAX_SHOWN}, not {}",
                query.shown
            ));
        }
        if !(1_000..=super::funnel::MAX_WINDOW_MS).contains(&query.window_ms) {
            return refuse(format!(
                "`window_seconds` must be between 1 and {} (90 days), not {}",
                super::funnel::MAX_WINDOW_MS / 1_000,
                query.window_ms / 1_000
            ));
        }
        let (from, to) = match query.direction {
            Direction::After => (query.from, query.to.saturating_add(query.window_ms)),
            Direction::Before => (query.from.saturating_sub(query.window_ms).max(0), query.to),
        };
        let mut rows = RowQuery::new(query.project_id, from, to);
        let start = Bound::new(&query.start, &mut rows);
        match query.include {
            Include::Pages => rows.page_views = true,
            Include::Events => rows.all_tracks = true,
            Include::Both => {
                rows.page_views = true;
                rows.all_tracks = true;
            }
        }
        let page = rows.page_views.then(|| rows.field(&Field::Page));
        Ok(Paths {
            query,
            rows,
            start,
            limits,
            people: People::default(),
            names: Breakdowns::default(),
            page,
            trails: Vec::new(),
            state: Vec::new(),
        })
    }

    pub fn rows(&self) -> &RowQuery {
        &self.rows
    }

    /// The number of a row's step name, when the question's steps include
    /// its kind.
    fn name_id(&mut self, row: &InsightRow<'_>) -> Option<u32> {
        let limit = self.limits.breakdown_values;
        match (row.page_view, self.query.include) {
            (true, Include::Pages | Include::Both) => {
                Some(match self.page.and_then(|s| s.value(row)) {
                    Some(page) => self.names.id(Some(&page), limit),
                    // A page view without a URL.
                    None => self.names.id(Some(&page_of("")), limit),
                })
            }
            (false, Include::Events | Include::Both) => {
                row.name.map(|n| self.names.id(Some(n), limit))
            }
            _ => None,
        }
    }

    pub fn add(&mut self, row: &InsightRow<'_>) -> Result<(), InsightError> {
        if self.people.done(row) {
            return Ok(());
        }
        let in_range = row.ts >= self.query.from && row.ts < self.query.to;
        let known = self.people.known(row);
        let state = known.map_or(WAITING, |p| self.state[p as usize]);
        if state == DONE {
            return Ok(());
        }
        let (steps, window) = (self.query.steps, self.query.window_ms);
        if let (Some(person), FOLLOWING) = (known, state) {
            // Looking ahead from the start: only the next names count.
            let at = self.trails[person as usize].started.unwrap_or(row.ts);
            if row.ts - at > window {
                self.state[person as usize] = DONE;
                self.people.finish(row);
                return Ok(());
            }
            let Some(id) = self.name_id(row) else {
                return Ok(());
            };
            let trail = &mut self.trails[person as usize];
            if trail.last != Some(id) {
                trail.names.push((id, row.ts));
                trail.last = Some(id);
            }
            if trail.names.len() >= steps {
                self.state[person as usize] = DONE;
                self.people.finish(row);
            }
            return Ok(());
        }
        let is_start = self.start.matches(row) && in_range;
        let person = match known {
            Some(id) => id,
            // Looking back, everyone's latest events are kept until their
            // start event; looking ahead, only from it.
            None if self.query.direction == Direction::Before || is_start => {
                let id = self.people.id(row, self.limits.people)?;
                debug_assert_eq!(id as usize, self.trails.len());
                self.trails.push(Trail {
                    started: None,
                    last: None,
                    names: Vec::new(),
                });
                self.state.push(WAITING);
                id
            }
            None => return Ok(()),
        };
        let p = person as usize;
        match self.query.direction {
            Direction::After => {
                if is_start {
                    let name = self.name_id(row);
                    let trail = &mut self.trails[p];
                    trail.started = Some(row.ts);
                    trail.last = name;
                    self.state[p] = FOLLOWING;
                }
            }
            Direction::Before => {
                if is_start {
                    let trail = &mut self.trails[p];
                    trail.started = Some(row.ts);
                    trail.names.retain(|(_, t)| row.ts - t <= window);
                    self.state[p] = DONE;
                    self.people.finish(row);
                } else if let Some(id) = self.name_id(row) {
                    let trail = &mut self.trails[p];
                    if trail.last != Some(id) {
                        if trail.names.len() == steps {
                            trail.names.remove(0);
                        }
                        trail.names.push((id, row.ts));
                        trail.last = Some(id);
                    }
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> PathsAnswer {
        let start_label = self.query.start.spec.label();
        // Each started person's names, nearest the start first.
        let trails: Vec<Vec<u32>> = self
            .trails
            .iter()
            .filter(|t| t.started.is_some())
            .map(|t| {
                let mut names: Vec<u32> = t.names.iter().map(|(n, _)| *n).collect();
                if self.query.direction == Direction::Before {
                    names.reverse();
                }
                names
            })
            .collect();
        let mut steps = Vec::new();
        // The name each person was shown under at the step before.
        let mut shown_before: Vec<String> = vec![start_label.clone(); trails.len()];
        let mut reached_before = trails.len() as u64;
        for k in 0..self.query.steps {
            let mut totals: FastMap<u32, u64> = FastMap::default();
            for t in &trails {
                if let Some(n) = t.get(k) {
                    *totals.entry(*n).or_default() += 1;
                }
            }
            let (kept, _) = self.names.rank(totals, self.query.shown);
            let label = |n: u32| -> String {
                if kept.contains(&n) {
                    self.names.values[n as usize].clone().unwrap_or_default()
                } else {
                    OTHER.to_string()
                }
            };
            let mut nodes: FastMap<String, u64> = FastMap::default();
            let mut links: FastMap<(String, String), u64> = FastMap::default();
            let mut reached = 0;
            for (i, t) in trails.iter().enumerate() {
                let Some(n) = t.get(k) else { continue };
                reached += 1;
                let to = label(*n);
                *nodes.entry(to.clone()).or_default() += 1;
                *links
                    .entry((shown_before[i].clone(), to.clone()))
                    .or_default() += 1;
                shown_before[i] = to;
            }
            steps.push(PathStep {
                step: k + 1,
                nodes: sorted(
                    nodes
                        .into_iter()
                        .map(|(name, people)| Node { name, people }),
                ),
                links: {
                    let mut l: Vec<Link> = links
                        .into_iter()
                        .map(|((from, to), people)| Link { from, to, people })
                        .collect();
                    l.sort_by(|a, b| {
                        b.people
                            .cmp(&a.people)
                            .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
                    });
                    l
                },
                dropped: reached_before - reached,
            });
            reached_before = reached;
        }
        PathsAnswer {
            start: start_label,
            people: trails.len() as u64,
            steps,
        }
    }
}

/// Nodes by people, most first, [`OTHER`] last.
fn sorted(nodes: impl Iterator<Item = Node>) -> Vec<Node> {
    let mut v: Vec<Node> = nodes.collect();
    v.sort_by(|a, b| {
        (a.name == OTHER)
            .cmp(&(b.name == OTHER))
            .then_with(|| b.people.cmp(&a.people))
            .then_with(|| a.name.cmp(&b.name))
    });
    v
}
