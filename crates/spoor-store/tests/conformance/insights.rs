//! Insights through the store: the rows a question streams (people resolved
//! through identity links, bots and other events left out, oldest first,
//! properties read alike), and a funnel folded from them, equal on both stores.

use spoor_core::MessageType;
use spoor_store::Store;
use spoor_store::insights::funnel::{Funnel, FunnelQuery};
use spoor_store::insights::trends::{Measure, Trends, TrendsQuery};
use spoor_store::insights::{
    DEFAULT_BREAKDOWN_LIMIT, EventSpec, Field, Interval, Limits, Matcher, RowQuery,
};

use super::{append, person_message, process};

const MIN: i64 = 60_000;

fn track(name: &str) -> Matcher {
    Matcher {
        spec: EventSpec::parse("event", name, None).unwrap(),
        conditions: Vec::new(),
    }
}

/// (person, identified, ts, name or `$pageview`, values) of each row.
type Seen = (String, bool, i64, String, Vec<Option<String>>);

fn rows(store: &Store, q: &RowQuery) -> Vec<Seen> {
    let mut out = Vec::new();
    store
        .insight_rows(q, &mut |r| {
            out.push((
                r.person().to_string(),
                r.identified,
                r.ts,
                if r.page_view {
                    "$pageview".into()
                } else {
                    r.name.unwrap_or("").to_string()
                },
                (0..q.fields.len())
                    .map(|i| r.values.value(i).map(str::to_string))
                    .collect(),
            ));
            true
        })
        .unwrap();
    out
}

pub fn check_insights(store: &Store) {
    let p = store.create_project(1, "insights").unwrap();
    let other = store.create_project(1, "another").unwrap();
    let base = 1_700_200_000_000;
    let msg =
        |id: &str,
         ts: i64,
         kind,
         name: Option<&str>,
         user: Option<&str>,
         anon: Option<&str>,
         body: &str| { person_message(id, ts, kind, name, user, anon, Some("tab"), body) };
    let order = r#"{"properties":{"total":12.5,"plan":"pro","paid":true,"seats":3,"meta":{"a":1}},"context":{"campaign":{"source":"news","medium":"email"}}}"#;
    let mut bot = msg(
        "bot",
        base + 3 * MIN,
        MessageType::Track,
        Some("order"),
        Some("u9"),
        None,
        order,
    );
    bot.enrichment.is_bot = true;
    let mut from_de = msg(
        "v2",
        base + 5 * MIN,
        MessageType::Page,
        None,
        None,
        Some("anon-b"),
        "{}",
    );
    from_de.enrichment.country = Some("DE".into());
    from_de.url = Some("https://shop.test/property/77?x=1".into());
    let events = [
        // An anonymous visitor views, orders, then signs in as u1.
        msg(
            "v1",
            base,
            MessageType::Page,
            None,
            None,
            Some("anon-a"),
            "{}",
        ),
        msg(
            "o1",
            base + MIN,
            MessageType::Track,
            Some("order"),
            None,
            Some("anon-a"),
            order,
        ),
        msg(
            "i1",
            base + 2 * MIN,
            MessageType::Identify,
            None,
            Some("u1"),
            Some("anon-a"),
            "{}",
        ),
        bot,
        msg(
            "s1",
            base + 4 * MIN,
            MessageType::Track,
            Some("signup"),
            Some("u1"),
            Some("anon-a"),
            "{}",
        ),
        from_de,
        // The same time as v2: the log's order decides.
        msg(
            "o2",
            base + 5 * MIN,
            MessageType::Track,
            Some("order"),
            None,
            Some("anon-b"),
            r#"{"properties":{"total":"7"}}"#,
        ),
        msg(
            "x1",
            base + 6 * MIN,
            MessageType::Track,
            Some("other"),
            Some("u1"),
            None,
            "{}",
        ),
        msg(
            "late",
            base + 60 * MIN,
            MessageType::Track,
            Some("order"),
            Some("u1"),
            None,
            "{}",
        ),
    ];
    append(store, p.id, &events, base);
    append(
        store,
        other.id,
        &[msg(
            "z1",
            base + MIN,
            MessageType::Track,
            Some("order"),
            Some("u1"),
            None,
            "{}",
        )],
        base,
    );
    // The identity link anon-a → u1 is the pipeline's.
    process(store, 1000);

    let q = RowQuery {
        project_id: p.id,
        from: base,
        to: base + 60 * MIN,
        page_views: true,
        track_names: vec!["order".into(), "signup".into()],
        all_tracks: false,
        groups: None,
        fields: vec![
            Field::parse("f", "total").unwrap(),
            Field::parse("f", "plan").unwrap(),
            Field::parse("f", "paid").unwrap(),
            Field::parse("f", "seats").unwrap(),
            Field::parse("f", "meta").unwrap(),
            Field::parse("f", "$country").unwrap(),
            Field::Page,
        ],
    };
    let s = |v: &str| Some(v.to_string());
    let none7 = || vec![None; 7];
    let ordered = vec![
        Some("12.5".into()),
        s("pro"),
        s("true"),
        s("3"),
        s(r#"{"a":1}"#),
        None,
        s("/x"),
    ];
    let got = rows(store, &q);
    assert_eq!(
        got,
        vec![
            ("u1".into(), true, base, "$pageview".into(), {
                let mut v = none7();
                v[6] = s("/x");
                v
            }),
            ("u1".into(), true, base + MIN, "order".into(), ordered),
            ("u1".into(), true, base + 4 * MIN, "signup".into(), {
                let mut v = none7();
                v[6] = s("/x");
                v
            }),
            (
                "anon-b".into(),
                false,
                base + 5 * MIN,
                "$pageview".into(),
                {
                    let mut v = none7();
                    v[5] = s("DE");
                    v[6] = s("/property/*");
                    v
                }
            ),
            ("anon-b".into(), false, base + 5 * MIN, "order".into(), {
                let mut v = none7();
                v[0] = s("7");
                v[6] = s("/x");
                v
            }),
        ],
        "the anonymous history is u1's; the bot, `other`, the late order and the other project are left out"
    );
    // Only what is asked for.
    let only_orders = RowQuery {
        page_views: false,
        track_names: vec!["order".into()],
        fields: Vec::new(),
        ..q.clone()
    };
    assert_eq!(rows(store, &only_orders).len(), 2);
    // Every track event: `other` and the late order's range aside.
    let every_track = RowQuery {
        page_views: false,
        track_names: Vec::new(),
        all_tracks: true,
        groups: None,
        fields: Vec::new(),
        ..q.clone()
    };
    let names: Vec<String> = rows(store, &every_track).into_iter().map(|r| r.3).collect();
    assert_eq!(names, ["order", "signup", "order", "other"]);
    // The UTM campaign, from the body's context.
    let campaign = RowQuery {
        fields: vec![
            Field::parse("f", "$utm_source").unwrap(),
            Field::parse("f", "$utm_medium").unwrap(),
        ],
        ..only_orders.clone()
    };
    let values: Vec<Vec<Option<String>>> =
        rows(store, &campaign).into_iter().map(|r| r.4).collect();
    assert_eq!(values, vec![vec![s("news"), s("email")], vec![None, None]]);
    // Stopping early.
    let mut n = 0;
    store
        .insight_rows(&q, &mut |_| {
            n += 1;
            n < 2
        })
        .unwrap();
    assert_eq!(n, 2);

    // A funnel and a trend folded from the store's rows.
    let mut f = Funnel::new(
        FunnelQuery {
            project_id: p.id,
            from: base,
            to: base + 60 * MIN,
            steps: vec![track("$pageview"), track("order"), track("signup")],
            window_ms: 10 * MIN,
            breakdown: None,
            limit: DEFAULT_BREAKDOWN_LIMIT,
            dropped_after: None,
        },
        Limits::default(),
    )
    .unwrap();
    let rq = f.rows().clone();
    store.insight_rows(&rq, &mut |r| f.add(r).is_ok()).unwrap();
    let people: Vec<u64> = f.finish().steps.iter().map(|s| s.people).collect();
    assert_eq!(
        people,
        vec![2, 2, 1],
        "u1 (once, as anon-a then u1) and anon-b"
    );

    let mut t = Trends::new(
        TrendsQuery {
            project_id: p.id,
            from: base,
            to: base + 2 * 3_600_000,
            interval: Interval::Hour,
            series: vec![track("order")],
            measure: Measure::Sum(Field::parse("m", "total").unwrap()),
            breakdown: None,
            limit: DEFAULT_BREAKDOWN_LIMIT,
            compare: false,
        },
        Limits::default(),
    )
    .unwrap();
    let rq = t.rows().clone();
    store.insight_rows(&rq, &mut |r| t.add(r).is_ok()).unwrap();
    let answer = t.finish();
    let points: Vec<serde_json::Value> = answer.series[0]
        .points
        .iter()
        .map(|p| p.value.clone())
        .collect();
    assert_eq!(
        points,
        vec![
            serde_json::json!(19.5),
            serde_json::json!(0),
            serde_json::json!(0)
        ],
        "{answer:?}"
    );
}

/// Saved insights and boards: ids and times the store's, a project's count
/// bound taken in one statement (its last place given, the next refused), one
/// project's ids never reaching another's rows, items kept in order, and a
/// share hash that finds its board until it is replaced or forgotten.
pub fn check_boards(store: &Store) {
    use spoor_store::insights::boards::{Board, Kind, SavedInsight};
    let p = store.create_project(1, "boarded").unwrap().id;
    let other = store.create_project(1, "unboarded").unwrap().id;
    let saved = |project_id, name: &str| SavedInsight {
        id: 0,
        project_id,
        name: name.into(),
        kind: Kind::Funnel,
        query: r#"{"steps":[{"event":"a"},{"event":"b"}],"window_seconds":60}"#.into(),
        days: 30,
        created_at: 1_000,
        updated_at: 1_000,
    };
    let a = store
        .create_saved_insight(&saved(p, "a"), 2)
        .unwrap()
        .unwrap();
    let b = store
        .create_saved_insight(&saved(p, "b"), 2)
        .unwrap()
        .unwrap();
    assert!(a.id > 0 && b.id > a.id, "ids are the store's, in order");
    assert_eq!((a.kind, a.days, a.updated_at), (Kind::Funnel, 30, 1_000));
    assert_eq!(
        store.create_saved_insight(&saved(p, "c"), 2).unwrap(),
        None,
        "the project holds its bound"
    );
    let elsewhere = store
        .create_saved_insight(&saved(other, "x"), 2)
        .unwrap()
        .expect("the bound is per project");
    assert_eq!(store.saved_insight(p, a.id).unwrap().as_ref(), Some(&a));
    assert_eq!(store.saved_insight(other, a.id).unwrap(), None);
    let names: Vec<String> = store
        .saved_insights(p)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    let changed = SavedInsight {
        name: "a, renamed".into(),
        kind: Kind::Trends,
        query: "event=order".into(),
        days: 7,
        updated_at: 2_000,
        ..a.clone()
    };
    let got = store.update_saved_insight(&changed).unwrap().unwrap();
    assert_eq!(got, changed);
    assert_eq!(
        store
            .update_saved_insight(&SavedInsight {
                project_id: other,
                ..changed.clone()
            })
            .unwrap(),
        None,
        "another project's id is not there"
    );
    assert!(!store.delete_saved_insight(other, b.id).unwrap());

    let board = |project_id, items: Vec<i64>| Board {
        id: 0,
        project_id,
        name: "Weekly".into(),
        items,
        shared: false,
        created_at: 3_000,
        updated_at: 3_000,
    };
    let one = store
        .create_board(&board(p, vec![b.id, a.id]), 1)
        .unwrap()
        .unwrap();
    assert_eq!(one.items, vec![b.id, a.id], "items keep their order");
    assert_eq!(store.create_board(&board(p, vec![]), 1).unwrap(), None);
    let theirs = store
        .create_board(&board(other, vec![elsewhere.id]), 1)
        .unwrap()
        .unwrap();
    assert_eq!(store.board(p, one.id).unwrap().as_ref(), Some(&one));
    assert_eq!(store.board(other, one.id).unwrap(), None);
    let arranged = Board {
        name: "Weekly, arranged".into(),
        items: vec![a.id, b.id],
        updated_at: 4_000,
        ..one.clone()
    };
    assert_eq!(
        store.update_board(&arranged).unwrap().as_ref(),
        Some(&arranged)
    );
    assert_eq!(
        store
            .update_board(&Board {
                project_id: other,
                ..arranged.clone()
            })
            .unwrap(),
        None
    );
    assert_eq!(store.boards(p).unwrap(), vec![arranged.clone()]);

    // Sharing: the hash finds the board; a new one replaces it; forgetting it
    // closes the link; another project cannot share this board.
    assert!(store.set_board_share(p, one.id, Some("h1"), 5_000).unwrap());
    let shared = store.shared_board("h1").unwrap().unwrap();
    assert_eq!(
        (shared.id, shared.shared, shared.updated_at),
        (one.id, true, 5_000)
    );
    assert!(store.board(p, one.id).unwrap().unwrap().shared);
    assert!(store.set_board_share(p, one.id, Some("h2"), 6_000).unwrap());
    assert_eq!(store.shared_board("h1").unwrap(), None);
    assert_eq!(store.shared_board("h2").unwrap().unwrap().id, one.id);
    assert!(!store.set_board_share(other, one.id, None, 7_000).unwrap());
    assert!(store.shared_board("h2").unwrap().is_some());
    assert!(store.set_board_share(p, one.id, None, 7_000).unwrap());
    assert_eq!(store.shared_board("h2").unwrap(), None);
    assert!(!store.board(p, one.id).unwrap().unwrap().shared);

    assert!(store.delete_saved_insight(p, b.id).unwrap());
    assert!(!store.delete_saved_insight(p, b.id).unwrap());
    assert!(!store.delete_board(other, one.id).unwrap());
    assert!(store.delete_board(p, one.id).unwrap());
    assert_eq!(store.board(p, one.id).unwrap(), None);
    assert_eq!(store.boards(other).unwrap(), vec![theirs]);
}

/// Goals and segments: each kind's count bound taken in the insert's own
/// statement, in order, one project's ids never reaching another's rows, and
/// the kinds apart.
pub fn check_definitions(store: &Store) {
    use spoor_store::insights::definitions::{Defined, Definition};
    let p = store.create_project(1, "goaled").unwrap().id;
    let other = store.create_project(1, "ungoaled").unwrap().id;
    let def = |project_id, name: &str| Definition {
        id: 0,
        project_id,
        name: name.into(),
        definition: r#"{"event":"signup"}"#.into(),
        created_at: 1_000,
        updated_at: 1_000,
    };
    for of in [Defined::Goals, Defined::Segments] {
        let mut made = Vec::new();
        for n in 0..of.max() {
            let d = store
                .create_definition(of, &def(p, &format!("n{n}")))
                .unwrap()
                .expect("room up to the bound");
            made.push(d);
        }
        assert!(made.windows(2).all(|w| w[1].id > w[0].id));
        assert_eq!(
            store.create_definition(of, &def(p, "one more")).unwrap(),
            None,
            "{of:?} holds its bound"
        );
        let theirs = store
            .create_definition(of, &def(other, "theirs"))
            .unwrap()
            .unwrap();
        assert_eq!(store.definitions(of, p).unwrap(), made);
        let a = made[0].clone();
        let changed = Definition {
            name: "Signed up (pro)".into(),
            definition: r#"{"event":"signup","where":{"plan":"pro"}}"#.into(),
            updated_at: 2_000,
            ..a.clone()
        };
        assert_eq!(
            store.update_definition(of, &changed).unwrap().as_ref(),
            Some(&changed)
        );
        assert_eq!(
            store
                .update_definition(
                    of,
                    &Definition {
                        project_id: other,
                        ..changed.clone()
                    }
                )
                .unwrap(),
            None
        );
        assert!(!store.delete_definition(of, other, a.id).unwrap());
        assert!(store.delete_definition(of, p, a.id).unwrap());
        assert_eq!(store.definitions(of, p).unwrap().len(), of.max() - 1);
        assert_eq!(store.definitions(of, other).unwrap(), vec![theirs]);
    }
    // The kinds are apart: deleting every goal leaves the segments.
    for g in store.definitions(Defined::Goals, p).unwrap() {
        assert!(store.delete_definition(Defined::Goals, p, g.id).unwrap());
    }
    assert_eq!(
        store.definitions(Defined::Segments, p).unwrap().len(),
        Defined::Segments.max() - 1
    );
}
