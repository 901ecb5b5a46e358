//! Unit tests of friction's rules: names, the fold and the reports.

use super::*;

#[test]
fn pages_group_ids_and_drop_queries() {
    assert_eq!(page_of("https://a.com/property/123?utm=x"), "/property/*");
    assert_eq!(page_of("https://a.com/property/456"), "/property/*");
    assert_eq!(
        page_of("https://a.com/u/550e8400-e29b-41d4-a716-446655440000/edit"),
        "/u/*/edit"
    );
    assert_eq!(page_of("https://a.com"), "/");
    assert_eq!(
        page_of("https://a.com/app/listing#/settings"),
        "/app/listing#/settings"
    );
    assert_eq!(page_of("https://a.com/pricing#plans"), "/pricing");
    assert_eq!(page_of("/v2/docs"), "/v2/docs");
    assert_eq!(page_like("/property/*"), "/property/%");
    assert_eq!(page_like("/a_b%"), "/a\\_b\\%");
}

#[test]
fn one_bug_with_different_ids_is_one_issue() {
    let stack = |line: u32| {
        format!(
            "TypeError: x\n    at loadUser (https://site.com/assets/app.4f9a2c1b.js?v=17:{line}:9)\n    at main (https://site.com/a.js:1:1)"
        )
    };
    let a = fingerprint(
        "TypeError",
        "User 123 not found (id 9f8e7d6c5b4a)",
        &stack(10),
    );
    let b = fingerprint(
        "TypeError",
        "User 98765 not found (id 0a1b2c3d4e5f)",
        &stack(12),
    );
    assert_eq!(a, b);
    // Another message, another type or another top frame: another bug.
    assert_ne!(
        a,
        fingerprint(
            "TypeError",
            "Order 123 not found (id 9f8e7d6c5b4a)",
            &stack(10)
        )
    );
    assert_ne!(
        a,
        fingerprint(
            "RangeError",
            "User 123 not found (id 9f8e7d6c5b4a)",
            &stack(10)
        )
    );
    let other = "TypeError: x\n    at saveUser (https://site.com/assets/app.4f9a2c1b.js:10:9)";
    assert_ne!(
        a,
        fingerprint("TypeError", "User 123 not found (id 9f8e7d6c5b4a)", other)
    );
    // Firefox's frames.
    assert_eq!(
        top_frame("loadUser@https://s.com/app.js:10:5\nmain@https://s.com/a.js:1:1"),
        "loadUser@https://s.com/app.js"
    );
    assert_eq!(
        normalise_message("Cannot read properties of undefined (reading 'id')"),
        "Cannot read properties of undefined (reading 'id')"
    );
}

/// The nearest-rank percentile of sorted values: the reference.
#[test]
fn summaries_rate_the_p75_by_googles_thresholds() {
    let lcp = metric("LCP").unwrap();
    let mut s = QuantileSketch::default();
    for v in [1000.0, 2000.0, 2400.0, 3000.0, 5000.0] {
        s.insert(v);
    }
    let sum = summarise(lcp, &s);
    assert_eq!(sum.samples, 5);
    assert_eq!(sum.rating, Some("needs_improvement"));
    assert_eq!(
        sum.distribution,
        Distribution {
            good: 3,
            needs_improvement: 1,
            poor: 1
        }
    );
    assert_eq!(metric("CLS").unwrap().rating(0.1), "good");
    assert_eq!(metric("CLS").unwrap().rating(0.26), "poor");
}

#[test]
fn days_cover_the_range_and_the_previous_period() {
    let d = Days::covering(DAY_MS * 10 + 5, DAY_MS * 17);
    assert_eq!(
        d,
        Days {
            from: DAY_MS * 10,
            to: DAY_MS * 17
        }
    );
    assert_eq!(
        d.previous(),
        Days {
            from: DAY_MS * 3,
            to: DAY_MS * 10
        }
    );
    assert_eq!(d.each().count(), 7);
}

fn event(name: &str, session: &str, person: &str, props: Value) -> FrictionEvent {
    FrictionEvent {
        seq: 1,
        project_id: 1,
        received_at: 5,
        ts: DAY_MS * 3 + 1000,
        name: name.into(),
        session_id: Some(session.into()),
        person: Some(person.into()),
        url: Some("https://s.com/pricing?x=1".into()),
        browser: Some("Chrome".into()),
        device_type: Some("desktop".into()),
        properties: Some(props),
    }
}

#[test]
fn a_pass_counts_friction_per_element_and_session() {
    let events = vec![
        event(
            "$rage_click",
            "s1",
            "u1",
            serde_json::json!({"selector": "#buy", "text": "Buy", "x": 0.5, "y": 120, "count": 4}),
        ),
        event(
            "$rage_click",
            "s2",
            "u2",
            serde_json::json!({"selector": "#buy", "text": "Buy", "x": 0.505, "y": 125}),
        ),
        event(
            "$click",
            "s1",
            "u1",
            serde_json::json!({"selector": "#buy", "text": "Buy", "x": 0.5, "y": 121, "viewport": {"width": 1280}, "document": {"height": 2400}}),
        ),
        event(
            "$form_error",
            "s1",
            "u1",
            serde_json::json!({"form": "signup", "field": "email", "reason": "typeMismatch"}),
        ),
        event(
            "$page_leave",
            "s1",
            "u1",
            serde_json::json!({"scroll_depth": 57}),
        ),
    ];
    let d = FrictionDelta::fold(&events);
    assert_eq!(d.friction.len(), 3);
    let rows: Vec<FrictionRow> = d
        .friction
        .iter()
        .map(|(k, c)| FrictionRow {
            day: k.day,
            kind: k.kind.into(),
            page: k.page.clone(),
            selector: k.selector.clone(),
            text: k.text.clone(),
            session_id: k.session_id.clone(),
            person: c.person.clone(),
            count: c.count,
            first_at: c.first_at,
            last_at: c.last_at,
        })
        .collect();
    let days = Days::covering(DAY_MS * 3, DAY_MS * 4);
    let prev = vec![(
        "rage_click".to_string(),
        "/pricing".to_string(),
        "#buy".to_string(),
        "Buy".to_string(),
        1,
    )];
    let r = friction_report(days, &rows, &prev);
    assert_eq!(
        r.totals["rage_click"],
        Affected {
            count: 2,
            sessions: 2,
            users: 2,
            previous: 1
        }
    );
    assert_eq!(r.totals["form_error"].count, 1);
    assert_eq!(r.elements[0].selector, "#buy");
    assert_eq!(r.elements[0].affected.count, 2);
    assert!(
        r.elements
            .iter()
            .any(|e| e.selector == "signup.email" && e.text == "typeMismatch")
    );
    assert_eq!(r.pages[0].page, "/pricing");
    assert_eq!(r.series.len(), 1);
    let page = &d.pages[&PageKey {
        project_id: 1,
        day: DAY_MS * 3,
        page: "/pricing".into(),
    }];
    assert_eq!(
        (
            page.clicks,
            page.rage_clicks,
            page.views,
            page.width,
            page.height
        ),
        (1, 2, 1, 1280, 2400)
    );
    assert_eq!(d.cells.values().sum::<i64>(), 3);
    assert_eq!(d.scroll.values().sum::<i64>(), 1);
    assert!(d.scroll.keys().any(|(_, depth)| *depth == 5));
}
