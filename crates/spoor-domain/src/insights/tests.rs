//! Exact answers of trends, funnels, retention and paths on hand-made events,
//! streamed as a store streams them, and every bound on both sides.

use serde_json::json;

use super::funnel::{Funnel, FunnelQuery};
use super::retention::{Retention, RetentionQuery};
use super::trends::{Measure, Trends, TrendsQuery};
use super::*;

const D: i64 = DAY_MS;
/// 2026-11-02, a Monday.
const T0: i64 = 1_793_577_600_000;

/// An event as a test writes it: person, time, name (`$pageview` for a page
/// view), URL and the values of the query's fields by name.
struct Ev {
    person: &'static str,
    identified: bool,
    ts: i64,
    name: &'static str,
    url: Option<&'static str>,
    props: Vec<(&'static str, &'static str)>,
}

fn ev(person: &'static str, ts: i64, name: &'static str) -> Ev {
    Ev {
        person,
        identified: true,
        ts,
        name,
        url: None,
        props: Vec::new(),
    }
}

impl Ev {
    fn with(mut self, k: &'static str, v: &'static str) -> Ev {
        self.props.push((k, v));
        self
    }
    fn url(mut self, url: &'static str) -> Ev {
        self.url = Some(url);
        self
    }
}

/// Streams the events a store would for `q`: in range, of the wanted names,
/// oldest first, with the fields' values.
fn stream(
    q: &RowQuery,
    events: &[Ev],
    add: impl FnMut(&InsightRow<'_>) -> Result<(), InsightError>,
) -> Result<(), InsightError> {
    stream_as(q, events, false, add)
}

/// [`stream`], with each person numbered when `numbered`, as the facts number
/// them: 1, 2, ... in the order of `events`, whatever the question reads, so
/// that a person has one number in every read.
fn stream_as(
    q: &RowQuery,
    events: &[Ev],
    numbered: bool,
    mut add: impl FnMut(&InsightRow<'_>) -> Result<(), InsightError>,
) -> Result<(), InsightError> {
    let mut numbers: FastMap<(bool, &str), u32> = FastMap::default();
    for e in events {
        let next = numbers.len() as u32 + 1;
        numbers.entry((e.identified, e.person)).or_insert(next);
    }
    let mut order: Vec<(usize, &Ev)> = events.iter().enumerate().collect();
    order.sort_by_key(|(i, e)| (e.ts, *i));
    for (seq, e) in order {
        let page_view = e.name == PAGEVIEW;
        if e.ts < q.from || e.ts >= q.to {
            continue;
        }
        if page_view && !q.page_views
            || !page_view && !q.all_tracks && !q.track_names.iter().any(|n| n == e.name)
        {
            continue;
        }
        let values: Vec<Option<String>> = q
            .fields
            .iter()
            .map(|f| match f {
                Field::Page => field_value(f, e.url),
                other => e
                    .props
                    .iter()
                    .find(|(k, _)| *k == other.name())
                    .map(|(_, v)| v.to_string()),
            })
            .collect();
        let number = if numbered {
            numbers[&(e.identified, e.person)]
        } else {
            0
        };
        add(&InsightRow {
            ts: e.ts,
            seq: seq as i64,
            identified: e.identified,
            number,
            page_view,
            name: (!page_view).then_some(e.name),
            values: &HeldValues {
                values: &values,
                person: e.person,
                url: e.url,
            },
            weight: 1,
        })?;
    }
    Ok(())
}

fn track(name: &str) -> Matcher {
    Matcher {
        spec: EventSpec::parse("event", name, None).unwrap(),
        conditions: Vec::new(),
    }
}

fn trends(q: TrendsQuery, events: &[Ev]) -> serde_json::Value {
    let mut t = Trends::new(q, Limits::default()).unwrap();
    let rows = t.rows().clone();
    stream(&rows, events, |r| t.add(r)).unwrap();
    serde_json::to_value(t.finish()).unwrap()
}

fn trend_query(series: Vec<Matcher>, measure: Measure) -> TrendsQuery {
    TrendsQuery {
        project_id: 1,
        from: T0,
        to: T0 + 3 * D,
        interval: Interval::Day,
        series,
        measure,
        breakdown: None,
        limit: DEFAULT_BREAKDOWN_LIMIT,
        compare: false,
    }
}

fn values(series: &serde_json::Value) -> Vec<serde_json::Value> {
    series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].clone())
        .collect()
}

#[test]
fn a_trend_counts_events_and_distinct_people_per_day() {
    let events = [
        ev("ann", T0 + 10, "order"),
        ev("ann", T0 + 20, "order"),
        ev("bob", T0 + D + 5, "order"),
        ev("bob", T0 + D, "signup"),
        ev("cat", T0 + 3 * D, "order"), // the range's end is excluded
        ev("dan", T0 - 1, "order"),     // before it
    ];
    let a = trends(trend_query(vec![track("order")], Measure::Events), &events);
    assert_eq!(a["series"].as_array().unwrap().len(), 1);
    assert_eq!(a["series"][0]["label"], "order");
    assert_eq!(a["series"][0]["breakdown"], json!(null));
    assert_eq!(values(&a["series"][0]), vec![json!(2), json!(1), json!(0)]);
    let ts: Vec<i64> = a["series"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["t"].as_i64().unwrap())
        .collect();
    assert_eq!(ts, vec![T0, T0 + D, T0 + 2 * D]);
    assert_eq!(a["compare"], json!(null));
    let p = trends(trend_query(vec![track("order")], Measure::People), &events);
    assert_eq!(values(&p["series"][0]), vec![json!(1), json!(1), json!(0)]);
    // Two series on one chart.
    let two = trends(
        trend_query(vec![track("order"), track("signup")], Measure::Events),
        &events,
    );
    assert_eq!(
        values(&two["series"][1]),
        vec![json!(0), json!(1), json!(0)]
    );
}

#[test]
fn sums_means_and_medians_read_a_numeric_property_and_skip_the_rest() {
    let events = [
        ev("a", T0, "order").with("total", "10"),
        ev("b", T0 + 1, "order").with("total", "20.5"),
        ev("c", T0 + 2, "order").with("total", "40"),
        ev("d", T0 + 3, "order").with("total", "n/a"),
        ev("e", T0 + 4, "order"),
        ev("f", T0 + D, "order").with("total", "1").with("x", "y"),
        ev("g", T0 + D + 1, "order").with("total", "3"),
    ];
    let total = || Field::parse("measure", "total").unwrap();
    let sum = trends(
        trend_query(vec![track("order")], Measure::Sum(total())),
        &events,
    );
    assert_eq!(
        values(&sum["series"][0]),
        vec![json!(70.5), json!(4), json!(0)]
    );
    let avg = trends(
        trend_query(vec![track("order")], Measure::Avg(total())),
        &events,
    );
    assert_eq!(
        values(&avg["series"][0]),
        vec![json!(23.5), json!(2), json!(0)]
    );
    let med = trends(
        trend_query(vec![track("order")], Measure::Median(total())),
        &events,
    );
    assert_eq!(
        values(&med["series"][0]),
        vec![json!(20.5), json!(2), json!(0)]
    );
}

#[test]
fn a_breakdown_shows_the_top_values_and_folds_the_rest() {
    let mut events = Vec::new();
    for (plan, n) in [("pro", 5), ("team", 3), ("free", 2), ("trial", 1)] {
        for i in 0..n {
            events.push(ev("p", T0 + i, "order").with("plan", plan));
        }
    }
    events.push(ev("q", T0 + 100, "order"));
    let mut q = trend_query(vec![track("order")], Measure::Events);
    q.breakdown = Some(Field::parse("breakdown", "plan").unwrap());
    q.limit = 2;
    let a = trends(q.clone(), &events);
    let got: Vec<(serde_json::Value, serde_json::Value)> = a["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["breakdown"].clone(), s["points"][0]["value"].clone()))
        .collect();
    // pro, team; then free, trial and the one without a plan folded.
    assert_eq!(
        got,
        vec![
            (json!("pro"), json!(5)),
            (json!("team"), json!(3)),
            (json!(OTHER), json!(4)),
        ]
    );
    q.limit = 10;
    let all = trends(q, &events);
    let labels: Vec<serde_json::Value> = all["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["breakdown"].clone())
        .collect();
    assert_eq!(
        labels,
        vec![
            json!("pro"),
            json!("team"),
            json!("free"),
            json!(""),
            json!("trial")
        ]
    );
}

#[test]
fn people_in_the_folded_rest_are_counted_once() {
    let events = [
        ev("ann", T0, "view").with("page", "a"),
        ev("ann", T0 + 1, "view").with("page", "b"),
        ev("ann", T0 + 2, "view").with("page", "c"),
        ev("bob", T0 + 3, "view").with("page", "c"),
        ev("bob", T0 + 4, "view").with("page", "c"),
    ];
    let mut q = trend_query(vec![track("view")], Measure::People);
    q.breakdown = Some(Field::parse("breakdown", "page").unwrap());
    q.limit = 1;
    let a = trends(q, &events);
    assert_eq!(a["series"][0]["breakdown"], "c");
    assert_eq!(a["series"][0]["points"][0]["value"], 2);
    assert_eq!(a["series"][1]["breakdown"], OTHER);
    // ann viewed both a and b: one person.
    assert_eq!(a["series"][1]["points"][0]["value"], 1);
}

#[test]
fn the_previous_period_is_the_same_length_just_before() {
    let events = [
        ev("a", T0 - 3 * D, "order"),
        ev("a", T0 - D, "order"),
        ev("b", T0 - D + 5, "order"),
        ev("c", T0 - 4 * D, "order"), // before both
        ev("c", T0, "order"),
    ];
    let mut q = trend_query(vec![track("order")], Measure::Events);
    q.compare = true;
    let a = trends(q, &events);
    assert_eq!(values(&a["series"][0]), vec![json!(1), json!(0), json!(0)]);
    let prev = &a["compare"][0];
    assert_eq!(prev["points"][0]["t"], T0 - 3 * D);
    assert_eq!(values(prev), vec![json!(1), json!(0), json!(2)]);
}

#[test]
fn conditions_and_page_patterns_narrow_a_series() {
    let events = [
        ev("a", T0, PAGEVIEW).url("https://x.test/pricing?ref=1"),
        ev("b", T0 + 1, PAGEVIEW).url("/property/123"),
        ev("c", T0 + 2, PAGEVIEW).url("/property/456"),
        ev("d", T0 + 3, "order").with("plan", "pro"),
        ev("e", T0 + 4, "order").with("plan", "free"),
        ev("f", T0 + 5, "order"),
    ];
    let pages = Matcher {
        spec: EventSpec::parse("event", PAGEVIEW, Some("/property/*")).unwrap(),
        conditions: Vec::new(),
    };
    let a = trends(trend_query(vec![pages], Measure::Events), &events);
    assert_eq!(a["series"][0]["label"], "$pageview /property/*");
    assert_eq!(a["series"][0]["points"][0]["value"], 2);
    let pro = Matcher {
        spec: EventSpec::parse("event", "order", None).unwrap(),
        conditions: vec![Condition::parse("where", "plan=pro").unwrap()],
    };
    let not_pro = Matcher {
        spec: EventSpec::parse("event", "order", None).unwrap(),
        conditions: vec![Condition::parse("where", "plan!=pro").unwrap()],
    };
    let a = trends(trend_query(vec![pro, not_pro], Measure::Events), &events);
    assert_eq!(a["series"][0]["points"][0]["value"], 1);
    // A missing field is not equal to "pro".
    assert_eq!(a["series"][1]["points"][0]["value"], 2);
    // A breakdown by the page.
    let mut q = trend_query(vec![track(PAGEVIEW)], Measure::Events);
    q.breakdown = Some(Field::Page);
    let a = trends(q, &events);
    assert_eq!(a["series"][0]["breakdown"], "/property/*");
    assert_eq!(a["series"][1]["breakdown"], "/pricing");
}

/// The answer with people told apart by id (as the log's reader streams
/// them), checked to equal the answer with people numbered (as the facts
/// stream them).
fn by_id_and_number(answer: impl Fn(bool) -> serde_json::Value) -> serde_json::Value {
    let by_id = answer(false);
    assert_eq!(answer(true), by_id, "numbered people answer alike");
    by_id
}

fn funnel(q: FunnelQuery, events: &[Ev]) -> serde_json::Value {
    by_id_and_number(|numbered| {
        let mut f = Funnel::new(q.clone(), Limits::default()).unwrap();
        let rows = f.rows().clone();
        stream_as(&rows, events, numbered, |r| f.add(r)).unwrap();
        serde_json::to_value(f.finish()).unwrap()
    })
}

fn funnel_query(steps: &[&str], window_ms: i64) -> FunnelQuery {
    FunnelQuery {
        project_id: 1,
        from: T0,
        to: T0 + 7 * D,
        steps: steps.iter().map(|s| track(s)).collect(),
        window_ms,
        breakdown: None,
        limit: DEFAULT_BREAKDOWN_LIMIT,
        dropped_after: None,
    }
}

fn people(a: &serde_json::Value) -> Vec<u64> {
    a["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["people"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_funnel_counts_steps_in_order_within_the_window_from_entry() {
    let h = 3_600_000;
    let events = [
        // ann: all three, in order.
        ev("ann", T0, "view"),
        ev("ann", T0 + h, "cart"),
        ev("ann", T0 + 2 * h, "buy"),
        // bob: cart before view does not count; then view, no cart after.
        ev("bob", T0, "cart"),
        ev("bob", T0 + h, "view"),
        ev("bob", T0 + 2 * h, "buy"),
        // cat: the last step exactly at the window's end counts.
        ev("cat", T0, "view"),
        ev("cat", T0 + h, "cart"),
        ev("cat", T0 + D, "buy"),
        // dan: one ms past the window does not.
        ev("dan", T0, "view"),
        ev("dan", T0 + h, "cart"),
        ev("dan", T0 + D + 1, "buy"),
        // eve: entered before the range: not in the funnel.
        ev("eve", T0 - 1, "view"),
        ev("eve", T0 + 1, "cart"),
    ];
    let a = funnel(funnel_query(&["view", "cart", "buy"], D), &events);
    assert_eq!(people(&a), vec![4, 3, 2]);
    assert_eq!(a["steps"][0]["event"], "view");
    assert_eq!(a["steps"][1]["conversion_from_first"], 0.75);
    assert_eq!(a["steps"][2]["conversion_from_previous"], 2.0 / 3.0);
    assert_eq!(a["steps"][2]["conversion_from_first"], 0.5);
    assert_eq!(a["steps"][0]["median_seconds_from_previous"], json!(null));
    assert_eq!(a["steps"][1]["median_seconds_from_previous"], 3600.0);
    // ann 1 h, cat 23 h: the mean of the middle two.
    assert_eq!(a["steps"][2]["median_seconds_from_previous"], 12.0 * 3600.0);
    assert_eq!(a["breakdowns"], json!(null));
}

#[test]
fn a_person_enters_at_their_first_entry_and_one_event_is_one_step() {
    let h = 3_600_000;
    let events = [
        // The window counts from the first view, not a later one.
        ev("ann", T0, "view"),
        ev("ann", T0 + 2 * D, "view"),
        ev("ann", T0 + 2 * D + h, "buy"),
        // A step repeated: view, view needs two views.
        ev("bob", T0, "view"),
    ];
    let a = funnel(funnel_query(&["view", "buy"], D), &events);
    assert_eq!(people(&a), vec![2, 0]);
    let twice = funnel(funnel_query(&["view", "view"], D), &events);
    assert_eq!(people(&twice), vec![2, 0]);
    let events = [ev("cat", T0, "view"), ev("cat", T0 + 1, "view")];
    let twice = funnel(funnel_query(&["view", "view"], D), &events);
    assert_eq!(people(&twice), vec![1, 1]);
}

#[test]
fn later_steps_may_come_after_the_range_within_the_window() {
    let events = [
        ev("ann", T0 + 7 * D - 1, "view"),
        ev("ann", T0 + 7 * D + 5, "buy"),
    ];
    let a = funnel(funnel_query(&["view", "buy"], D), &events);
    assert_eq!(people(&a), vec![1, 1]);
}

#[test]
fn anonymous_and_identified_are_different_people_unless_the_store_joined_them() {
    let mut anon = ev("x1", T0, "view");
    anon.identified = false;
    let events = [anon, ev("x1", T0 + 1, "buy")];
    let a = funnel(funnel_query(&["view", "buy"], D), &events);
    assert_eq!(people(&a), vec![1, 0]);
}

#[test]
fn a_funnel_breaks_down_by_the_entry_event_and_lists_who_dropped() {
    let events = [
        ev("ann", T0, "view").with("src", "ads"),
        ev("ann", T0 + 1, "buy").with("src", "mail"),
        ev("bob", T0, "view").with("src", "ads"),
        ev("cat", T0, "view").with("src", "mail"),
        ev("cat", T0 + 1, "buy"),
        ev("dan", T0, "view"),
    ];
    let mut q = funnel_query(&["view", "buy"], D);
    q.breakdown = Some(Field::parse("breakdown", "src").unwrap());
    q.dropped_after = Some(0);
    let a = funnel(q, &events);
    assert_eq!(people(&a), vec![4, 2]);
    let b = a["breakdowns"].as_array().unwrap();
    assert_eq!(b[0]["breakdown"], "ads");
    assert_eq!(people(&b[0]), vec![2, 1]);
    assert_eq!(b[1]["breakdown"], "");
    assert_eq!(people(&b[1]), vec![1, 0]);
    assert_eq!(b[2]["breakdown"], "mail");
    assert_eq!(people(&b[2]), vec![1, 1]);
    assert_eq!(
        a["dropped"],
        json!([{"id": "bob", "identified": true}, {"id": "dan", "identified": true}])
    );
}

#[test]
fn funnel_bounds_are_checked_on_both_sides() {
    for (n, ok) in [(1, false), (2, true), (10, true), (11, false)] {
        let steps: Vec<&str> = vec!["a"; n];
        assert_eq!(
            Funnel::new(funnel_query(&steps, D), Limits::default()).is_ok(),
            ok,
            "{n} steps"
        );
    }
    for (w, ok) in [
        (999, false),
        (1_000, true),
        (90 * D, true),
        (90 * D + 1, false),
    ] {
        assert_eq!(
            Funnel::new(funnel_query(&["a", "b"], w), Limits::default()).is_ok(),
            ok,
            "window {w}"
        );
    }
    let mut q = funnel_query(&["a", "b", "c"], D);
    q.dropped_after = Some(1);
    assert!(Funnel::new(q.clone(), Limits::default()).is_ok());
    q.dropped_after = Some(2);
    assert!(Funnel::new(q, Limits::default()).is_err());
}

#[test]
fn an_accumulator_refuses_past_its_people_and_keeps_within_them() {
    let events: Vec<Ev> = ["a", "b", "c"].iter().map(|p| ev(p, T0, "view")).collect();
    for (people, ok) in [(3, true), (2, false)] {
        let limits = Limits {
            people,
            ..Limits::default()
        };
        let mut f = Funnel::new(funnel_query(&["view", "buy"], D), limits).unwrap();
        let rows = f.rows().clone();
        let r = stream(&rows, &events, |r| f.add(r));
        assert_eq!(r.is_ok(), ok, "{people} people");
        if let Err(e) = r {
            assert!(e.0.contains("more than 2 people"), "{e}");
        }
        let mut t = Trends::new(trend_query(vec![track("view")], Measure::People), limits).unwrap();
        let rows = t.rows().clone();
        assert_eq!(stream(&rows, &events, |r| t.add(r)).is_ok(), ok);
    }
    for (cells, ok) in [(3, true), (2, false)] {
        let limits = Limits {
            cells,
            ..Limits::default()
        };
        let mut t = Trends::new(trend_query(vec![track("view")], Measure::People), limits).unwrap();
        let rows = t.rows().clone();
        assert_eq!(
            stream(&rows, &events, |r| t.add(r)).is_ok(),
            ok,
            "{cells} cells"
        );
    }
}

#[test]
fn breakdown_values_past_the_tracked_number_count_as_the_rest() {
    let events: Vec<Ev> = ["a", "b", "c"]
        .iter()
        .map(|v| ev("p", T0, "view").with("k", v))
        .collect();
    let limits = Limits {
        breakdown_values: 2,
        ..Limits::default()
    };
    let mut q = trend_query(vec![track("view")], Measure::Events);
    q.breakdown = Some(Field::parse("breakdown", "k").unwrap());
    let mut t = Trends::new(q, limits).unwrap();
    let rows = t.rows().clone();
    stream(&rows, &events, |r| t.add(r)).unwrap();
    let a = serde_json::to_value(t.finish()).unwrap();
    let got: Vec<serde_json::Value> = a["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["breakdown"].clone())
        .collect();
    assert_eq!(got, vec![json!("a"), json!("b"), json!(OTHER)]);
}

fn retention(q: RetentionQuery, events: &[Ev]) -> serde_json::Value {
    by_id_and_number(|numbered| {
        let mut r = Retention::new(q.clone(), Limits::default()).unwrap();
        let rows = r.rows().clone();
        stream_as(&rows, events, numbered, |row| r.add(row)).unwrap();
        serde_json::to_value(r.finish()).unwrap()
    })
}

#[test]
fn retention_groups_people_by_their_first_start_and_counts_returns_per_period() {
    let w = 7 * D;
    let events = [
        // Week 0 cohort: ann, bob.
        ev("ann", T0 + D, "signup"),
        ev("ann", T0 + 2 * D, "login"),
        ev("ann", T0 + w + D, "login"),
        ev("ann", T0 + 3 * w, "login"),
        ev("bob", T0 + 6 * D, "signup"),
        ev("bob", T0 + 2 * w + 1, "login"),
        // A login before the signup does not count for week 0.
        ev("cat", T0 + w, "login"),
        ev("cat", T0 + w + 1, "signup"),
        // cat's second signup does not move them.
        ev("cat", T0 + 2 * w, "signup"),
        // Started before the range: no cohort.
        ev("dan", T0 - 1, "signup"),
        ev("dan", T0 + 1, "login"),
    ];
    let q = RetentionQuery {
        project_id: 1,
        from: T0,
        to: T0 + 2 * w,
        start: track("signup"),
        ret: track("login"),
        period: Interval::Week,
        periods: 4,
        now: T0 + 10 * w,
    };
    let a = retention(q.clone(), &events);
    assert_eq!(
        a["cohorts"],
        json!([
            {"start": T0, "people": 2, "returned": [1, 1, 1, 1]},
            {"start": T0 + w, "people": 1, "returned": [0, 0, 0, 0]},
        ])
    );
    // Periods that have not begun are left out.
    let mut q2 = q.clone();
    q2.now = T0 + w + 1;
    let a = retention(q2, &events);
    assert_eq!(a["cohorts"][0]["returned"], json!([1, 1]));
    assert_eq!(a["cohorts"][1]["returned"], json!([0]));
    // The same event as start and return: period 0 is the whole cohort.
    let mut same = q;
    same.ret = track("signup");
    let a = retention(same, &events);
    assert_eq!(a["cohorts"][0]["returned"], json!([2, 0, 0, 0]));
    assert_eq!(a["cohorts"][1]["returned"], json!([1, 1, 0, 0]));
}

#[test]
fn retention_by_month_follows_the_calendar() {
    // 2026-01-31 and 2026-02-01 are in consecutive months.
    let jan31 = 1_769_817_600_000;
    let feb1 = jan31 + D;
    let events = [ev("ann", jan31, "signup"), ev("ann", feb1, "login")];
    let q = RetentionQuery {
        project_id: 1,
        from: jan31 - 30 * D,
        to: jan31 + 1,
        start: track("signup"),
        ret: track("login"),
        period: Interval::Month,
        periods: 3,
        now: jan31 + 100 * D,
    };
    let a = retention(q, &events);
    assert_eq!(
        a["cohorts"],
        json!([{"start": jan31 - 30 * D, "people": 1, "returned": [0, 1, 0]}])
    );
}

#[test]
fn retention_bounds_are_checked_on_both_sides() {
    for (periods, ok) in [(0, false), (1, true), (64, true), (65, false)] {
        let q = RetentionQuery {
            project_id: 1,
            from: T0,
            to: T0 + D,
            start: track("a"),
            ret: track("b"),
            period: Interval::Day,
            periods,
            now: T0,
        };
        assert_eq!(
            Retention::new(q, Limits::default()).is_ok(),
            ok,
            "{periods} periods"
        );
    }
}

#[test]
fn periods_start_on_the_hour_day_monday_and_first_of_the_month() {
    let t = T0 + 3 * D + 5 * 3_600_000 + 17; // Thursday 05:00:00.017
    assert_eq!(Interval::Hour.start(t), T0 + 3 * D + 5 * 3_600_000);
    assert_eq!(Interval::Day.start(t), T0 + 3 * D);
    assert_eq!(Interval::Week.start(t), T0);
    assert_eq!(Interval::Month.start(t), T0 - D); // 2026-11-01
    assert_eq!(Interval::Month.next(T0 - D), T0 + 29 * D); // 2026-12-01
    assert_eq!(Interval::Day.starts(T0, T0 + D).unwrap(), vec![T0]);
    assert_eq!(
        Interval::Day.starts(T0 + 1, T0 + D + 1).unwrap(),
        vec![T0, T0 + D]
    );
    assert!(Interval::Hour.starts(T0, T0 + 1_000 * 3_600_000).is_ok());
    assert!(
        Interval::Hour
            .starts(T0, T0 + 1_000 * 3_600_000 + 1)
            .is_err()
    );
}

#[test]
fn names_fields_and_conditions_are_checked_where_they_are_parsed() {
    assert!(Field::parse("breakdown", "plan").is_ok());
    assert_eq!(
        Field::parse("breakdown", "$country").unwrap(),
        Field::Column(Column::Country)
    );
    assert_eq!(Field::parse("breakdown", "$page").unwrap(), Field::Page);
    assert!(
        Field::parse("breakdown", "$nope")
            .unwrap_err()
            .0
            .contains("$browser")
    );
    assert!(Field::parse("breakdown", "a\"b").is_err());
    assert!(Field::parse("breakdown", "").is_err());
    assert!(Field::parse("breakdown", &"x".repeat(MAX_NAME_LEN)).is_ok());
    assert!(Field::parse("breakdown", &"x".repeat(MAX_NAME_LEN + 1)).is_err());
    assert!(EventSpec::parse("event", &"e".repeat(MAX_NAME_LEN), None).is_ok());
    assert!(EventSpec::parse("event", &"e".repeat(MAX_NAME_LEN + 1), None).is_err());
    assert!(EventSpec::parse("event", "order", Some("/x")).is_err());
    assert!(EventSpec::parse("event", PAGEVIEW, Some("nope")).is_err());
    assert!(Condition::parse("where", "plan").is_err());
    let c = Condition::parse("where", "a!=b=c").unwrap();
    assert_eq!((c.op, c.value.as_str()), (Op::Ne, "b=c"));
    assert!(Condition::parse("where", &format!("k={}", "v".repeat(MAX_VALUE_LEN))).is_ok());
    assert!(Condition::parse("where", &format!("k={}", "v".repeat(MAX_VALUE_LEN + 1))).is_err());
    let obj = json!({"plan": "pro", "seats": 3, "paid": true});
    let cs = Condition::from_object("where", obj.as_object().unwrap()).unwrap();
    let vals: Vec<&str> = cs.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(vals, vec!["true", "pro", "3"]);
    assert!(Condition::from_object("where", json!({"a": null}).as_object().unwrap()).is_err());
    let many: serde_json::Map<String, serde_json::Value> = (0..=MAX_CONDITIONS)
        .map(|i| (format!("k{i}"), json!(1)))
        .collect();
    assert!(Condition::from_object("where", &many).is_err());
    assert!(trends::Measure::parse("measure", "sum:total").is_ok());
    assert!(trends::Measure::parse("measure", "max:total").is_err());
    assert!(trends::Measure::parse("measure", "count").is_err());
    assert_eq!(breakdown_limit("limit", Some(1)).unwrap(), 1);
    assert_eq!(breakdown_limit("limit", Some(50)).unwrap(), 50);
    assert!(breakdown_limit("limit", Some(0)).is_err());
    assert!(breakdown_limit("limit", Some(51)).is_err());
    // How stores' JSON texts read.
    assert_eq!(json_text_value("\"pro\"").as_deref(), Some("pro"));
    assert_eq!(json_text_value("12.5").as_deref(), Some("12.5"));
    assert_eq!(json_text_value("true").as_deref(), Some("true"));
    assert_eq!(json_text_value("null"), None);
}

#[test]
fn channels_come_from_the_campaign_then_the_referrer() {
    let shop = Some("https://shop.test/b");
    assert_eq!(channel(None, shop, None, None), "direct");
    assert_eq!(channel(Some(""), shop, None, None), "direct");
    assert_eq!(
        channel(Some("https://www.google.com/search?q=x"), shop, None, None),
        "search"
    );
    assert_eq!(
        channel(Some("https://www.google.co.uk/"), shop, None, None),
        "search"
    );
    assert_eq!(
        channel(Some("https://notgoogle.example/"), shop, None, None),
        "referral"
    );
    assert_eq!(
        channel(Some("https://t.co/abc"), shop, None, None),
        "social"
    );
    assert_eq!(
        channel(Some("https://t.corp.example/"), shop, None, None),
        "referral"
    );
    assert_eq!(
        channel(Some("https://m.facebook.com/"), shop, None, None),
        "social"
    );
    assert_eq!(
        channel(Some("https://blog.example.org/post"), shop, None, None),
        "referral"
    );
    assert_eq!(
        channel(Some("https://shop.test/a"), shop, None, None),
        "internal"
    );
    assert_eq!(
        channel(Some("https://www.google.com/"), shop, Some("CPC"), None),
        "paid"
    );
    assert_eq!(channel(None, shop, Some("newsletter"), None), "email");
    assert_eq!(channel(None, shop, None, Some("mailchimp")), "email");
    assert_eq!(channel(None, shop, Some("social"), Some("fb")), "social");
}

#[test]
fn campaigns_and_channels_break_a_trend_down() {
    let events = [
        ev("a", T0, PAGEVIEW)
            .url("https://shop.test/")
            .with("$utm_campaign", "spring")
            .with("$utm_medium", "email"),
        ev("b", T0 + 1, PAGEVIEW)
            .url("https://shop.test/")
            .with("$referrer", "https://www.google.com/"),
        ev("c", T0 + 2, PAGEVIEW)
            .url("https://shop.test/")
            .with("$referrer", "https://www.bing.com/"),
        ev("d", T0 + 3, PAGEVIEW).url("https://shop.test/"),
    ];
    let mut q = trend_query(vec![track(PAGEVIEW)], Measure::Events);
    q.breakdown = Some(Field::parse("breakdown", "$channel").unwrap());
    let a = trends(q.clone(), &events);
    let got: Vec<(serde_json::Value, serde_json::Value)> = a["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["breakdown"].clone(), s["points"][0]["value"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("search"), json!(2)),
            (json!("direct"), json!(1)),
            (json!("email"), json!(1))
        ]
    );
    q.breakdown = Some(Field::parse("breakdown", "$utm_campaign").unwrap());
    let a = trends(q.clone(), &events);
    assert_eq!(a["series"][0]["breakdown"], "");
    assert_eq!(a["series"][1]["breakdown"], "spring");
    // A condition on the channel.
    let only_search = Matcher {
        spec: EventSpec::parse("event", PAGEVIEW, None).unwrap(),
        conditions: vec![Condition::parse("where", "$channel=search").unwrap()],
    };
    let a = trends(trend_query(vec![only_search], Measure::Events), &events);
    assert_eq!(a["series"][0]["points"][0]["value"], 2);
}

fn paths(q: paths::PathsQuery, events: &[Ev]) -> serde_json::Value {
    by_id_and_number(|numbered| {
        let mut p = paths::Paths::new(q.clone(), Limits::default()).unwrap();
        let rows = p.rows().clone();
        stream_as(&rows, events, numbered, |r| p.add(r)).unwrap();
        serde_json::to_value(p.finish()).unwrap()
    })
}

fn paths_query(
    direction: paths::Direction,
    include: paths::Include,
    steps: usize,
) -> paths::PathsQuery {
    paths::PathsQuery {
        project_id: 1,
        from: T0,
        to: T0 + D,
        start: Matcher {
            spec: EventSpec::parse("start", PAGEVIEW, Some("/pricing")).unwrap(),
            conditions: Vec::new(),
        },
        direction,
        include,
        steps,
        shown: 5,
        window_ms: D,
    }
}

fn path_events() -> Vec<Ev> {
    let m = 60_000;
    vec![
        ev("ann", T0, PAGEVIEW).url("https://shop.test/"),
        ev("ann", T0 + m, PAGEVIEW).url("https://shop.test/pricing"),
        ev("ann", T0 + 2 * m, PAGEVIEW).url("https://shop.test/pricing?reload=1"),
        ev("ann", T0 + 3 * m, PAGEVIEW).url("https://shop.test/signup"),
        ev("ann", T0 + 4 * m, "signup"),
        ev("ann", T0 + 5 * m, PAGEVIEW).url("https://shop.test/welcome"),
        ev("bob", T0 + m, PAGEVIEW).url("https://shop.test/pricing"),
        ev("bob", T0 + 2 * m, PAGEVIEW).url("https://shop.test/docs"),
        // Past the window of bob's start.
        ev("bob", T0 + m + D + 1, PAGEVIEW).url("https://shop.test/late"),
        ev("cat", T0 + 9 * m, PAGEVIEW).url("https://shop.test/pricing"),
        ev("dan", T0, PAGEVIEW).url("https://shop.test/"),
    ]
}

#[test]
fn paths_follow_each_person_from_their_start_step_by_step() {
    use paths::{Direction, Include};
    let a = paths(
        paths_query(Direction::After, Include::Pages, 3),
        &path_events(),
    );
    assert_eq!(a["start"], "$pageview /pricing");
    assert_eq!(a["people"], 3);
    assert_eq!(
        a["steps"],
        json!([
            {"step": 1, "dropped": 1,
             "nodes": [{"name": "/docs", "people": 1}, {"name": "/signup", "people": 1}],
             "links": [{"from": "$pageview /pricing", "to": "/docs", "people": 1},
                       {"from": "$pageview /pricing", "to": "/signup", "people": 1}]},
            {"step": 2, "dropped": 1,
             "nodes": [{"name": "/welcome", "people": 1}],
             "links": [{"from": "/signup", "to": "/welcome", "people": 1}]},
            {"step": 3, "dropped": 1, "nodes": [], "links": []},
        ])
    );
    // Pages and events; one name shown a step, the rest folded.
    let mut q = paths_query(Direction::After, Include::Both, 2);
    q.shown = 1;
    let a = paths(q, &path_events());
    assert_eq!(
        a["steps"][0]["nodes"],
        json!([{"name": "/docs", "people": 1}, {"name": OTHER, "people": 1}])
    );
    assert_eq!(
        a["steps"][1]["links"],
        json!([{"from": OTHER, "to": "signup", "people": 1}])
    );
    // Looking back from the start.
    let a = paths(
        paths_query(Direction::Before, Include::Pages, 2),
        &path_events(),
    );
    assert_eq!(a["people"], 3);
    assert_eq!(
        a["steps"][0],
        json!({"step": 1, "dropped": 2, "nodes": [{"name": "/", "people": 1}],
               "links": [{"from": "$pageview /pricing", "to": "/", "people": 1}]})
    );
    assert_eq!(a["steps"][1]["dropped"], 1);
}

#[test]
fn paths_bounds_are_checked_on_both_sides() {
    use paths::{Direction, Include, MAX_SHOWN, MAX_STEPS, Paths};
    for (steps, ok) in [
        (0, false),
        (1, true),
        (MAX_STEPS, true),
        (MAX_STEPS + 1, false),
    ] {
        let q = paths_query(Direction::After, Include::Pages, steps);
        assert_eq!(
            Paths::new(q, Limits::default()).is_ok(),
            ok,
            "{steps} steps"
        );
    }
    for (shown, ok) in [
        (0, false),
        (1, true),
        (MAX_SHOWN, true),
        (MAX_SHOWN + 1, false),
    ] {
        let mut q = paths_query(Direction::After, Include::Pages, 2);
        q.shown = shown;
        assert_eq!(
            Paths::new(q, Limits::default()).is_ok(),
            ok,
            "{shown} shown"
        );
    }
    for (w, ok) in [
        (999, false),
        (1_000, true),
        (90 * D, true),
        (90 * D + 1, false),
    ] {
        let mut q = paths_query(Direction::After, Include::Pages, 2);
        q.window_ms = w;
        assert_eq!(Paths::new(q, Limits::default()).is_ok(), ok, "window {w}");
    }
}

mod goals {
    use super::super::goals::{Conversions, ConversionsQuery, GoalSpec, MAX_GOALS_PER_PROJECT};
    use super::*;

    fn goal(id: i64, m: Matcher) -> GoalSpec {
        GoalSpec {
            id,
            name: format!("g{id}"),
            matcher: m,
        }
    }

    fn query(goals: Vec<GoalSpec>, breakdown: Option<&str>, limit: usize) -> ConversionsQuery {
        ConversionsQuery {
            project_id: 1,
            from: T0,
            to: T0 + 3 * D,
            goals,
            breakdown: breakdown.map(|b| Field::parse("breakdown", b).unwrap()),
            limit,
        }
    }

    fn run(
        q: ConversionsQuery,
        limits: Limits,
        events: &[Ev],
    ) -> Result<serde_json::Value, InsightError> {
        let mut c = Conversions::new(q, limits)?;
        let rows = c.rows().clone();
        stream(&rows, events, |r| c.add(r))?;
        Ok(serde_json::to_value(c.finish()).unwrap())
    }

    fn events() -> Vec<Ev> {
        vec![
            ev("a", T0, PAGEVIEW)
                .url("https://x.test/pricing")
                .with("source", "google"),
            ev("a", T0 + 1, "signup").with("source", "google"),
            ev("a", T0 + 2, "signup").with("source", "google"),
            ev("b", T0 + 3, PAGEVIEW)
                .url("https://x.test/pricing")
                .with("source", "google"),
            ev("b", T0 + 4, PAGEVIEW)
                .url("https://x.test/")
                .with("source", "news"),
            ev("c", T0 + 5, PAGEVIEW)
                .url("https://x.test/")
                .with("source", "ads"),
            ev("c", T0 + 6, "signup")
                .with("source", "ads")
                .with("plan", "pro"),
            ev("d", T0 + 7, "order"),
            // Outside the range: neither a visitor nor a conversion.
            ev("e", T0 + 3 * D, "signup"),
        ]
    }

    #[test]
    fn conversions_count_visitors_who_reached_each_goal() {
        let pricing = Matcher {
            spec: EventSpec::parse("event", PAGEVIEW, Some("/pricing")).unwrap(),
            conditions: Vec::new(),
        };
        let pro = Matcher {
            spec: EventSpec::parse("event", "signup", None).unwrap(),
            conditions: vec![Condition::parse("where", "plan=pro").unwrap()],
        };
        let q = query(
            vec![goal(1, track("signup")), goal(2, pricing), goal(3, pro)],
            None,
            10,
        );
        let a = run(q, Limits::default(), &events()).unwrap();
        assert_eq!(a["visitors"], 4);
        assert_eq!(
            a["goals"][0],
            json!({"id": 1, "name": "g1", "conversions": 2, "events": 3, "rate": 0.5})
        );
        assert_eq!(a["goals"][1]["conversions"], 2);
        assert_eq!(a["goals"][2]["conversions"], 1);
        assert_eq!(a["goals"][2]["rate"], 0.25);
        assert_eq!(a["breakdown"], serde_json::Value::Null);
    }

    #[test]
    fn a_breakdown_lists_visitors_per_value_with_the_rest_folded_once() {
        let q = query(vec![goal(1, track("signup"))], Some("source"), 1);
        let a = run(q, Limits::default(), &events()).unwrap();
        // First touch: a and b came from google (b's later news visit does
        // not count), c from ads, d with no source; the rest folded.
        assert_eq!(
            a["breakdown"],
            json!([
                {"value": "google", "visitors": 2, "goals": [{"id": 1, "conversions": 1, "rate": 0.5}]},
                {"value": "$other", "visitors": 2, "goals": [{"id": 1, "conversions": 1, "rate": 0.5}]},
            ])
        );
        let q = query(vec![], Some("source"), 10);
        let a = run(q, Limits::default(), &events()).unwrap();
        let values: Vec<(String, u64)> = a["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["value"].as_str().unwrap().to_string(),
                    r["visitors"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            values,
            vec![("google".into(), 2), ("".into(), 1), ("ads".into(), 1)]
        );
    }

    #[test]
    fn conversions_are_bounded_on_both_sides() {
        let most: Vec<GoalSpec> = (0..MAX_GOALS_PER_PROJECT as i64)
            .map(|i| goal(i, track("signup")))
            .collect();
        assert!(Conversions::new(query(most.clone(), None, 10), Limits::default()).is_ok());
        let mut over = most;
        over.push(goal(99, track("signup")));
        assert!(Conversions::new(query(over, None, 10), Limits::default()).is_err());
        // Two conversions: a's (twice, counted once) and c's.
        let q = || query(vec![goal(1, track("signup"))], Some("source"), 10);
        let fits = Limits {
            cells: 2,
            ..Limits::default()
        };
        assert!(run(q(), fits, &events()).is_ok());
        let tight = Limits {
            cells: 1,
            ..Limits::default()
        };
        let e = run(q(), tight, &events()).unwrap_err();
        assert!(e.0.contains("more than 1 conversions"), "{e}");
        let people = Limits {
            people: 3,
            ..Limits::default()
        };
        assert!(run(query(vec![], None, 10), people, &events()).is_err());
        let people = Limits {
            people: 4,
            ..Limits::default()
        };
        assert!(run(query(vec![], None, 10), people, &events()).is_ok());
    }
}

mod revenue {
    use super::super::revenue::{Attribution, MAX_CURRENCIES, Revenue, RevenueQuery};
    use super::*;

    fn query(breakdown: Option<&str>, attribution: Attribution, limit: usize) -> RevenueQuery {
        RevenueQuery {
            project_id: 1,
            from: T0,
            to: T0 + 3 * D,
            interval: Interval::Day,
            events: vec![track("order")],
            amount: Field::parse("amount", "total").unwrap(),
            currency: Field::parse("currency", "currency").unwrap(),
            breakdown: breakdown.map(|b| Field::parse("breakdown", b).unwrap()),
            attribution,
            limit,
        }
    }

    fn run(
        q: RevenueQuery,
        limits: Limits,
        events: &[Ev],
    ) -> Result<serde_json::Value, InsightError> {
        let mut r = Revenue::new(q, limits)?;
        let rows = r.rows().clone();
        stream(&rows, events, |row| r.add(row))?;
        Ok(serde_json::to_value(r.finish()).unwrap())
    }

    fn events() -> Vec<Ev> {
        let order = |who, ts, total, currency: Option<&'static str>, product| {
            let e = ev(who, ts, "order")
                .with("total", total)
                .with("product", product);
            match currency {
                Some(c) => e.with("currency", c),
                None => e,
            }
        };
        vec![
            ev("a", T0, PAGEVIEW)
                .url("https://x.test/")
                .with("source", "ads"),
            order("a", T0 + 1, "10", Some("EUR"), "car"),
            order("a", T0 + D, "5", Some("EUR"), "bike"),
            ev("b", T0 + 2, PAGEVIEW)
                .url("https://x.test/")
                .with("source", "news"),
            order("b", T0 + 3, "7.5", Some("EUR"), "car"),
            order("b", T0 + D + 1, "1000", Some("TZS"), "car"),
            order("c", T0 + 2 * D, "3", None, "car"),
            order("c", T0 + 2 * D + 1, "n/a", Some("EUR"), "car"),
            ev("d", T0 + 5, "signup"),
        ]
    }

    fn points(series: &serde_json::Value) -> Vec<f64> {
        series["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["value"].as_f64().unwrap())
            .collect()
    }

    #[test]
    fn revenue_is_kept_per_currency_and_never_added_across() {
        let a = run(
            query(None, Attribution::Event, 10),
            Limits::default(),
            &events(),
        )
        .unwrap();
        let c = a["currencies"].as_array().unwrap();
        let names: Vec<&str> = c.iter().map(|c| c["currency"].as_str().unwrap()).collect();
        assert_eq!(names, ["EUR", "", "TZS"], "most orders first: {a:#}");
        assert_eq!(c[0]["total"], 22.5);
        assert_eq!(
            c[0]["orders"], 3,
            "an order without a number is not revenue"
        );
        assert_eq!(c[0]["people"], 2);
        assert_eq!(points(&c[0]["series"][0]), vec![17.5, 5.0, 0.0]);
        assert_eq!(c[0]["series"][0]["breakdown"], serde_json::Value::Null);
        assert_eq!(c[1]["total"], 3);
        assert_eq!(c[2]["total"], 1000);
        assert_eq!(points(&c[2]["series"][0]), vec![0.0, 1000.0, 0.0]);
    }

    #[test]
    fn revenue_breaks_down_by_the_event_or_by_the_payers_first_touch() {
        let a = run(
            query(Some("product"), Attribution::Event, 1),
            Limits::default(),
            &events(),
        )
        .unwrap();
        let eur = &a["currencies"][0]["series"];
        assert_eq!(eur[0]["breakdown"], "car");
        assert_eq!(
            (eur[0]["total"].as_f64(), eur[0]["orders"].as_u64()),
            (Some(17.5), Some(2))
        );
        assert_eq!(eur[1]["breakdown"], "$other");
        assert_eq!(eur[1]["total"], 5);
        let a = run(
            query(Some("source"), Attribution::FirstTouch, 10),
            Limits::default(),
            &events(),
        )
        .unwrap();
        let eur = &a["currencies"][0]["series"];
        assert_eq!(
            (eur[0]["breakdown"].as_str(), eur[0]["total"].as_f64()),
            (Some("ads"), Some(15.0))
        );
        assert_eq!(
            (eur[1]["breakdown"].as_str(), eur[1]["total"].as_f64()),
            (Some("news"), Some(7.5))
        );
        let tzs = &a["currencies"][2];
        assert_eq!(tzs["currency"], "TZS");
        assert_eq!(tzs["series"][0]["breakdown"], "news", "b came from news");
        // c's first touch was the order itself, which has no source.
        assert_eq!(a["currencies"][1]["series"][0]["breakdown"], "");
    }

    #[test]
    fn revenue_is_bounded_on_both_sides() {
        let currencies: Vec<String> = (0..=MAX_CURRENCIES).map(|i| format!("C{i}")).collect();
        let many = |n: usize| -> Vec<Ev> {
            currencies[..n]
                .iter()
                .map(|c| {
                    ev("a", T0, "order")
                        .with("total", "1")
                        .with("currency", Box::leak(c.clone().into_boxed_str()))
                })
                .collect()
        };
        let q = || query(None, Attribution::Event, 10);
        let a = run(q(), Limits::default(), &many(MAX_CURRENCIES)).unwrap();
        assert_eq!(a["currencies"].as_array().unwrap().len(), MAX_CURRENCIES);
        let e = run(q(), Limits::default(), &many(MAX_CURRENCIES + 1)).unwrap_err();
        assert!(e.0.contains("more than 100 currencies"), "{e}");
        // Without a breakdown: 4 (currency, point) cells and 4 payers.
        let fits = Limits {
            cells: 8,
            ..Limits::default()
        };
        assert!(run(q(), fits, &events()).is_ok());
        let tight = Limits {
            cells: 7,
            ..Limits::default()
        };
        assert!(run(q(), tight, &events()).is_err());
        let mut none = q();
        none.events.clear();
        assert!(Revenue::new(none, Limits::default()).is_err());
    }
}

mod segments {
    use super::super::segments::Cohort;
    use super::super::trends::{Measure, Trends};
    use super::*;

    fn cohort(
        did: bool,
        limits: Limits,
        events: &[Ev],
    ) -> Result<super::super::segments::Members, InsightError> {
        cohort_as(did, limits, events, false)
    }

    /// A cohort read with people numbered (`numbered`) or told apart by id.
    fn cohort_as(
        did: bool,
        limits: Limits,
        events: &[Ev],
        numbered: bool,
    ) -> Result<super::super::segments::Members, InsightError> {
        let mut c = Cohort::new(1, T0, T0 + 3 * D, &track("signup"), did, limits);
        let rows = c.rows().clone();
        stream_as(&rows, events, numbered, |r| c.add(r))?;
        Ok(c.finish())
    }

    fn events() -> Vec<Ev> {
        let mut anon = ev("v-1", T0 + 5, "order");
        anon.identified = false;
        let mut anon_signup = ev("v-2", T0 + 6, "signup");
        anon_signup.identified = false;
        vec![
            ev("a", T0, "signup"),
            ev("a", T0 + 1, "order"),
            ev("b", T0 + 2, "order"),
            ev("b", T0 + 3, "order"),
            anon,
            anon_signup,
            ev("c", T0 + 4 * D, "signup"), // outside the range
        ]
    }

    #[test]
    fn a_segment_narrows_a_trend_to_the_people_who_did_or_did_not_its_step() {
        // Each read with people numbered or by id: a segment read one way
        // admits the rows of the other alike (between the two reads of a
        // question the facts fold may number people it had not).
        let ask_as = |did: bool, cohort_numbered: bool, rows_numbered: bool| {
            let members = cohort_as(did, Limits::default(), &events(), cohort_numbered).unwrap();
            let mut t = Trends::new(
                trend_query(vec![track("order")], Measure::Events),
                Limits::default(),
            )
            .unwrap();
            let rows = t.rows().clone();
            stream_as(&rows, &events(), rows_numbered, |r| {
                if members.admits(r) { t.add(r) } else { Ok(()) }
            })
            .unwrap();
            serde_json::to_value(t.finish()).unwrap()["series"][0]["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["value"].as_i64().unwrap())
                .collect::<Vec<_>>()
        };
        let ask = |did: bool| {
            let by_id = ask_as(did, false, false);
            for (cohort, rows) in [(true, true), (false, true), (true, false)] {
                assert_eq!(ask_as(did, cohort, rows), by_id, "{cohort} {rows}");
            }
            by_id
        };
        // a signed up: one order. b and the anonymous v-1 did not: three.
        assert_eq!(ask(true), vec![1, 0, 0]);
        assert_eq!(ask(false), vec![3, 0, 0]);
        assert_eq!(
            cohort(true, Limits::default(), &events())
                .unwrap()
                .did_count(),
            2
        );
    }

    #[test]
    fn a_segment_holds_its_bound_on_both_sides() {
        let people = |n| Limits {
            people: n,
            ..Limits::default()
        };
        for numbered in [false, true] {
            assert!(cohort_as(true, people(2), &events(), numbered).is_ok());
            let e = cohort_as(true, people(1), &events(), numbered)
                .err()
                .unwrap();
            assert!(e.0.contains("more than 1 people"), "{e}");
        }
    }

    mod people {
        use super::super::super::segments::{PeopleWhere, PersonConditions};
        use super::*;
        use crate::traits::Traits;

        fn conditions(list: &[&str]) -> Result<PersonConditions, InsightError> {
            let parsed = list
                .iter()
                .map(|c| Condition::parse("person", c))
                .collect::<Result<Vec<_>, _>>()?;
            PersonConditions::new("person", parsed)
        }

        fn traits(v: serde_json::Value) -> Traits {
            let mut t = Traits::default();
            t.set_all(v.as_object().unwrap(), 1);
            t
        }

        #[test]
        fn people_meet_every_condition_and_a_missing_property_equals_nothing() {
            let c = conditions(&["plan=pro", "seats!=1"]).unwrap();
            assert!(c.needs_properties());
            assert!(c.admit(&traits(json!({"plan": "pro", "seats": 3}))));
            assert!(
                c.admit(&traits(json!({"plan": "pro"}))),
                "no seats is not 1"
            );
            assert!(!c.admit(&traits(json!({"plan": "pro", "seats": 1}))));
            assert!(!c.admit(&Traits::default()));
            let not = conditions(&["plan!=pro"]).unwrap();
            assert!(!not.needs_properties(), "people without properties meet it");
            assert!(not.admit(&Traits::default()));
            assert!(conditions(&[]).unwrap().is_empty());
        }

        #[test]
        fn only_properties_by_name_and_at_most_ten_conditions() {
            let e = conditions(&["$browser=Chrome"]).err().unwrap();
            assert!(e.0.contains("person property"), "{e}");
            let ten: Vec<String> = (0..MAX_CONDITIONS).map(|i| format!("k{i}=v")).collect();
            let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
            assert!(conditions(&ten).is_ok());
            let mut eleven = ten.clone();
            eleven.push("k10=v");
            let e = conditions(&eleven).err().unwrap();
            assert!(e.0.contains("at most 10"), "{e}");
        }

        #[test]
        fn the_people_found_hold_their_bound_on_both_sides() {
            let find = |n: usize| {
                let mut p = PeopleWhere::new(
                    conditions(&["plan=pro"]).unwrap(),
                    Limits {
                        people: n,
                        ..Limits::default()
                    },
                );
                let pro = traits(json!({"plan": "pro"}));
                p.add(true, "a", &pro)?;
                p.add(false, "v-1", &pro)?;
                p.add(true, "b", &traits(json!({"plan": "free"})))?;
                Ok::<_, InsightError>(p.finish())
            };
            let members = find(2).unwrap();
            assert_eq!(members.did_count(), 2);
            let row = |person: &'static str, identified: bool| {
                let mut e = ev(person, T0, "order");
                e.identified = identified;
                e
            };
            let admitted = |e: Ev| {
                let mut q = RowQuery::new(1, T0, T0 + D);
                q.all_tracks = true;
                let mut seen = false;
                stream(&q, &[e], |r| {
                    seen = members.admits(r);
                    Ok(())
                })
                .unwrap();
                seen
            };
            assert!(admitted(row("a", true)));
            assert!(admitted(row("v-1", false)));
            assert!(
                !admitted(row("v-1", true)),
                "a user is not the visitor of that id"
            );
            assert!(!admitted(row("b", true)));
            let e = find(1).err().unwrap();
            assert!(e.0.contains("more than 1 people"), "{e}");
        }
    }
}
