//! The derivation pipeline under crashes: a server SIGKILLed again and again
//! while it folds a realistic mixed workload (page views, tracks, identifies,
//! orders, widget calls, friction, CRM business events) ends up with every
//! derived view equal to what `spoor rebuild` computes from the raw events
//! (sessions and people, rollups, metering, friction), and with a CRM equal to
//! that of a server that was never killed and got the same events (the CRM
//! holds people's edits, so it is never rebuilt). Nothing counted twice,
//! nothing lost, whichever part of a pass a kill interrupted. Runs on SQLite,
//! and on PostgreSQL with `SPOOR_TEST_STORE=postgres`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{Spoor, iso, now_ms, status_json};
use serde_json::{Map, Value, json};

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// Both servers' flags: a fixed node name, so that a server restarted after
/// SIGKILL holds the pipeline's lease again at once (its dead self held it,
/// under the same name) and is at work on the backlog when the next kill
/// comes, instead of waiting for the lease to run out.
const ARGS: &[&str] = &["--node-name", "pipeline-test"];

/// The longest wait for the pipeline to read the log to its end.
const CATCH_UP: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// The workload: fixed relative to one `now_ms()`, the same for both servers.

/// A fixed pseudo-random sequence (an LCG), so that each run sends the same
/// workload relative to its start.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// One request of the workload.
#[derive(Clone, Debug)]
enum Step {
    /// `POST /v1/batch`.
    Batch(Vec<Value>),
    /// A widget's `POST /api/analytics/track`; the widget's id is each
    /// server's own, filled in when sent.
    Widget(Value),
    /// Seed 003's `POST /make-server-b43c05fb/track-event`.
    Crm(Value),
    /// Seed 002's `POST /functions/v1/ingest-events`.
    Friction(Value),
}

/// What the generator makes before the requests are cut: a group of
/// messages that must reach the server in one batch (a booking's start and
/// end, so that no abandonment by time can come between them), or one
/// request of another route.
enum Item {
    Events(Vec<Value>),
    Other(Step),
}

const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
];
const BOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const SITE: &str = "https://shop.example.com";
const PAGES: [&str; 8] = [
    "/",
    "/pricing",
    "/search?q=suv",
    "/property/123",
    "/property/456",
    "/property/789",
    "/cars/a8f3k29x11",
    "/checkout",
];
const REFERRERS: [&str; 3] = [
    "https://www.google.com/",
    "https://news.example.org/deals",
    "",
];
const ELEMENTS: [(&str, &str); 5] = [
    ("#book", "Book a viewing"),
    ("button.buy", "Buy now"),
    ("nav a.home", "Home"),
    ("img.hero", ""),
    ("#price", "£1,200"),
];
const VEHICLES: [&str; 4] = [
    "Toyota Camry",
    "Honda Civic",
    "Ford Transit",
    "Tesla Model 3",
];

/// A visitor of the shop: a browser, and the person once they sign in.
struct Visitor {
    n: usize,
    anon: String,
    user: Option<String>,
    email: Option<String>,
    name: String,
    agent: &'static str,
    /// Whether their messages carry the user id yet.
    signed_in: bool,
}

impl Visitor {
    /// A message from this visitor in a browser tab, on a page.
    fn msg(&self, kind: &str, id: String, at: i64, tab: &str, path: &str) -> Value {
        let mut m = json!({
            "type": kind,
            "messageId": id,
            "anonymousId": self.anon,
            "timestamp": iso(at),
            "context": {
                "sessionId": tab,
                "page": {"url": format!("{SITE}{path}"), "path": path},
                "userAgent": self.agent,
            },
        });
        if self.signed_in {
            m["userId"] = json!(self.user);
        }
        m
    }

    fn track(
        &self,
        id: String,
        at: i64,
        tab: &str,
        path: &str,
        event: &str,
        props: Value,
    ) -> Value {
        let mut m = self.msg("track", id, at, tab, path);
        m["event"] = json!(event);
        m["properties"] = props;
        m
    }
}

/// Adds an item at its time (and, among items at one time, in the order made).
fn add(items: &mut Vec<(i64, usize, Item)>, at: i64, item: Item) {
    let n = items.len();
    items.push((at, n, item));
}

/// The workload's requests, in the order a client sends them.
fn workload(t0: i64) -> Vec<Step> {
    let mut rng = Rng(0x5eed_f00d);
    let mut items: Vec<(i64, usize, Item)> = Vec::new();
    let window_start = t0 - 30 * HOUR;
    let window = 27 * HOUR; // sessions start before t0 - 3 h

    // Browsing visitors, eleven of whom sign in (some only in a later session,
    // so that what they did anonymously counts for them).
    for v in 0..16usize {
        let identified = v < 11;
        let mut who = Visitor {
            n: v,
            anon: format!("anon-{v:02}"),
            user: identified.then(|| format!("user-{v:02}")),
            email: identified.then(|| format!("person{v:02}@example.com")),
            name: format!("Person{v:02} Example"),
            agent: AGENTS[v % AGENTS.len()],
            signed_in: false,
        };
        let sessions = 3 + v % 3;
        let sign_in_session = v % sessions;
        let mut starts: Vec<i64> = (0..sessions)
            .map(|_| window_start + rng.below(window as u64))
            .collect();
        starts.sort_unstable();
        for (k, start) in starts.into_iter().enumerate() {
            session(
                &mut rng,
                &mut items,
                &mut who,
                k,
                start,
                k == sign_in_session,
            );
        }
        // Orders a back end reports, with no browser session: grouped into
        // sessions per user by inactivity (two close together, one apart).
        if let Some(user) = &who.user {
            let at = window_start + rng.below((window - 3 * HOUR) as u64);
            for (i, gap) in [0, 12 * MIN, 3 * HOUR].into_iter().enumerate() {
                let m = json!({
                    "type": "track", "event": "Order Completed",
                    "messageId": format!("srv-{user}-{i}"), "userId": user,
                    "timestamp": iso(at + gap),
                    "properties": {"order_id": format!("o-{user}-{i}"), "revenue": 20 + 15 * i as i64, "currency": "USD"},
                });
                add(&mut items, at + gap, Item::Events(vec![m]));
            }
        }
    }

    // A crawler: its messages count as bots' and make no sessions.
    for i in 0..6 {
        let at = window_start + rng.below(window as u64);
        let m = json!({
            "type": "page", "messageId": format!("bot-{i}"), "anonymousId": "crawler-1",
            "timestamp": iso(at),
            "context": {"page": {"url": format!("{SITE}{}", PAGES[i % PAGES.len()])}, "userAgent": BOT},
        });
        add(&mut items, at, Item::Events(vec![m]));
    }

    // Widget calls (seed 001): completed, failed, one never ended (the
    // cleanup infers its end), a load only, an open without a call.
    for w in 0..12 {
        let sess = format!("wsess-{w:02}");
        let at = window_start + rng.below(window as u64);
        let body = |event: &str, at: i64| {
            json!({
                "event_type": event, "session_id": sess,
                "page_url": format!("{SITE}/pricing"),
                "user_agent": AGENTS[w % AGENTS.len()],
                "timestamp": iso(at),
            })
        };
        let mut events = vec![("widget_load", at)];
        if w != 9 {
            events.push(("widget_open", at + 5 * SEC));
        }
        if w != 9 && w != 10 {
            events.push(("call_start", at + 20 * SEC));
            let duration = MIN + rng.below(9 * MIN as u64);
            match w {
                3 | 8 => events.push(("call_error", at + 20 * SEC + 40 * SEC)),
                7 => {}
                _ => events.push(("call_end", at + 20 * SEC + duration)),
            }
        }
        for (event, at) in events {
            add(&mut items, at, Item::Other(Step::Widget(body(event, at))));
        }
    }

    // Seed 003's route: two customers known only through it.
    let crm_route = [
        ("ada", "customer.created", json!({}), 0),
        ("ada", "customer.login", json!({}), 1),
        (
            "ada",
            "search.performed",
            json!({"query": "SUV", "location": "Airport"}),
            2,
        ),
        (
            "ada",
            "vehicle.viewed",
            json!({"vehicle_id": "car_789", "vehicle_name": "Toyota Camry"}),
            3,
        ),
        (
            "ada",
            "payment.failed",
            json!({"reason": "card declined"}),
            4,
        ),
        ("ada", "customer.updated", json!({}), 5),
        ("sam", "customer.login", json!({}), 0),
        (
            "sam",
            "search.performed",
            json!({"location": "Downtown"}),
            1,
        ),
        ("sam", "customer.login", json!({}), 2),
    ];
    let route_start = t0 - 20 * HOUR;
    for (i, (who, event, data, step)) in crm_route.into_iter().enumerate() {
        let at = route_start + i as i64 * 7 * MIN + step * MIN;
        let customer = match (who, event) {
            ("ada", "customer.updated") => {
                json!({"id": "ada", "email": "ada@example.com", "name": "Augusta Lovelace"})
            }
            ("ada", _) => {
                json!({"id": "ada", "email": "Ada@Example.com", "name": "Ada Lovelace", "phone": "+441234"})
            }
            _ => json!({"id": "sam-42", "email": "sam@example.com", "name": "Sam Hill"}),
        };
        let body = json!({
            "event_type": event, "customer": customer, "event_data": data,
            "session": {"session_id": format!("crm-{who}"), "device": "mobile", "browser": "Chrome"},
            "event_id": format!("crm-{who}-{i}"), "timestamp": iso(at),
        });
        add(&mut items, at, Item::Other(Step::Crm(body)));
    }

    // Seed 002's route: one visit's friction, heatmap and performance.
    let at = t0 - 9 * HOUR;
    let stack = |line: u32| {
        format!(
            "TypeError: x\n    at loadProperty (https://homes.example.com/assets/app.js:{line}:7)"
        )
    };
    let body = json!({
        "session_id": "visit-1", "user_id": "seed-user-7",
        "page_url": "https://homes.example.com/property/123",
        "user_agent": AGENTS[0],
        "events": [
            {"type": "friction", "timestamp": at, "data": {"friction_type": "rage_click",
                "element_selector": "#book", "element_text": "Book a viewing", "x": 0.42, "y": 610, "click_count": 4}},
            {"type": "friction", "timestamp": at + 1, "data": {"friction_type": "dead_click",
                "element_selector": "img.hero", "element_text": "", "x": 0.5, "y": 200}},
            {"type": "friction", "timestamp": at + 2, "data": {"friction_type": "javascript_error",
                "error_type": "TypeError", "message": "Property 123 has no price", "stack": stack(10)}},
            {"type": "friction", "timestamp": at + 4, "data": {"friction_type": "form_validation_error",
                "form": "enquiry", "field": "phone", "message": "Enter a phone number"}},
            {"type": "heatmap", "timestamp": at + 5, "data": {"interaction": "click", "x": 0.42, "y": 612,
                "viewport_width": 1280, "viewport_height": 720, "element_selector": "#book", "element_text": "Book a viewing"}},
            {"type": "heatmap", "timestamp": at + 7, "data": {"interaction": "pageview"}},
            {"type": "performance", "timestamp": at + 8, "data": {"loadTime": 2300, "firstContentfulPaint": 900,
                "timeToInteractive": 3100}},
        ]
    });
    add(&mut items, at, Item::Other(Step::Friction(body)));

    // A booking that starts and never ends: abandoned by time, once the
    // pipeline has read it (the person sends nothing after it).
    let at = t0 - 150 * MIN;
    let abandoner = Visitor {
        n: 99,
        anon: "anon-ab".into(),
        user: Some("user-ab".into()),
        email: Some("leaver@example.com".into()),
        name: "Lee Leaver".into(),
        agent: AGENTS[1],
        signed_in: true,
    };
    let mut identify = abandoner.msg(
        "identify",
        "ab-identify".into(),
        at,
        "tab-ab",
        "/cars/a8f3k29x11",
    );
    identify["traits"] = json!({"email": abandoner.email, "name": abandoner.name});
    add(
        &mut items,
        at,
        Item::Events(vec![
            identify,
            abandoner.track(
                "ab-view".into(),
                at + 10 * SEC,
                "tab-ab",
                "/cars/a8f3k29x11",
                "vehicle.viewed",
                json!({"vehicle_id": "car_9", "vehicle_name": "Ford Transit"}),
            ),
            abandoner.track(
                "ab-start".into(),
                at + 40 * SEC,
                "tab-ab",
                "/checkout",
                "booking.started",
                json!({"vehicle_name": "Ford Transit", "total_amount": 640}),
            ),
        ]),
    );

    items.sort_by_key(|(at, n, _)| (*at, *n));
    cut(items.into_iter().map(|(_, _, item)| item).collect())
}

/// The latest event time a step sends.
fn newest_time(step: &Step) -> i64 {
    let ms = |v: &Value| match v {
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis(),
        other => other.as_i64().unwrap(),
    };
    match step {
        Step::Batch(messages) => messages.iter().map(|m| ms(&m["timestamp"])).max().unwrap(),
        Step::Widget(body) | Step::Crm(body) => ms(&body["timestamp"]),
        Step::Friction(body) => {
            let events = body["events"].as_array().unwrap();
            events.iter().map(|e| ms(&e["timestamp"])).max().unwrap()
        }
    }
}

/// Cuts the items into requests: messages into batches of varied sizes (a
/// group never split), other routes' requests between them.
fn cut(items: Vec<Item>) -> Vec<Step> {
    const SIZES: [usize; 10] = [12, 40, 150, 25, 80, 300, 8, 60, 220, 30];
    let mut steps = Vec::new();
    let mut batch: Vec<Value> = Vec::new();
    let mut waiting: Vec<Step> = Vec::new();
    let mut size = 0;
    for item in items {
        match item {
            Item::Events(events) => {
                batch.extend(events);
                if batch.len() >= SIZES[size % SIZES.len()] {
                    steps.push(Step::Batch(std::mem::take(&mut batch)));
                    steps.append(&mut waiting);
                    size += 1;
                }
            }
            Item::Other(step) => {
                if batch.is_empty() {
                    steps.push(step);
                } else {
                    waiting.push(step);
                }
            }
        }
    }
    if !batch.is_empty() {
        steps.push(Step::Batch(batch));
    }
    steps.append(&mut waiting);
    steps
}

/// A browser tab of a visitor: its messages, numbered.
struct Tab<'a> {
    who: &'a mut Visitor,
    id: String,
    k: usize,
    n: usize,
}

impl Tab<'_> {
    fn msg(&mut self, kind: &str, at: i64, path: &str) -> Value {
        self.n += 1;
        let id = format!("m-{:02}-{}-{}", self.who.n, self.k, self.n);
        self.who.msg(kind, id, at, &self.id, path)
    }

    fn track(&mut self, at: i64, path: &str, event: &str, props: Value) -> Value {
        let mut m = self.msg("track", at, path);
        m["event"] = json!(event);
        m["properties"] = props;
        m
    }
}

/// One browser session of a visitor: pages, tracks, clicks and friction,
/// scoring events, orders, maybe a booking (its messages together), maybe a
/// sign-in, and how it ends.
fn session(
    rng: &mut Rng,
    items: &mut Vec<(i64, usize, Item)>,
    who: &mut Visitor,
    k: usize,
    start: i64,
    signs_in: bool,
) {
    let v = who.n;
    let mut tab = Tab {
        who,
        id: format!("tab-{v:02}-{k}"),
        k,
        n: 0,
    };
    let one = |m: Value| Item::Events(vec![m]);
    let mut t = start;
    let mut path = *rng.pick(&PAGES);
    let len = 12 + rng.below(24) as usize;

    let mut page = tab.msg("page", t, path);
    let referrer = *rng.pick(&REFERRERS);
    if !referrer.is_empty() {
        page["context"]["page"]["referrer"] = json!(referrer);
    }
    add(items, t, one(page));
    let mut booked = false;
    for step in 0..len {
        t += 5 * SEC + rng.below(80 * SEC as u64);
        if signs_in && !tab.who.signed_in && step == len / 3 {
            tab.who.signed_in = true;
            let mut m = tab.msg("identify", t, path);
            m["traits"] = json!({
                "email": tab.who.email, "name": tab.who.name,
                "createdAt": iso(start - (v as i64 + 1) * DAY),
            });
            add(items, t, one(m));
            continue;
        }
        let x = rng.below(1000) as f64 / 1000.0;
        let m = match rng.below(100) {
            // A page left, the next one (sometimes with a web vital).
            0..=21 => {
                let depth = rng.below(101);
                let leave = tab.track(t, path, "$page_leave", json!({"scroll_depth": depth}));
                add(items, t, one(leave));
                t += SEC;
                path = *rng.pick(&PAGES);
                let page = tab.msg("page", t, path);
                if rng.chance(50) {
                    add(items, t, one(page));
                    let metric = *rng.pick(&["LCP", "FCP", "INP", "CLS", "TTFB"]);
                    let value = match metric {
                        "CLS" => rng.below(40) as f64 / 100.0,
                        "INP" => (40 + rng.below(600)) as f64,
                        _ => (300 + rng.below(5000)) as f64,
                    };
                    let vital = json!({"name": metric, "value": value});
                    tab.track(t + 900, path, "$web_vital", vital)
                } else {
                    page
                }
            }
            22..=33 => {
                let sku = rng.below(40);
                let props = json!({"product_id": format!("sku-{sku}"), "price": 10 + sku});
                tab.track(t, path, "Product Viewed", props)
            }
            34..=55 => {
                let (selector, text) = *rng.pick(&ELEMENTS);
                let (event, y) = match rng.below(10) {
                    0..=5 => ("$click", rng.below(2400)),
                    6..=8 => ("$rage_click", rng.below(1200)),
                    _ => ("$dead_click", rng.below(1200)),
                };
                let props = json!({
                    "selector": selector, "text": text, "x": x, "y": y, "count": 3,
                    "viewport_width": 1280, "viewport_height": 720,
                });
                tab.track(t, path, event, props)
            }
            56..=59 => {
                let (kind, message, frame) = match rng.below(3) {
                    0 => (
                        "TypeError",
                        format!("Property {} has no price", rng.below(900)),
                        "loadProperty (https://shop.example.com/app.js:10:7)",
                    ),
                    1 => (
                        "RangeError",
                        format!("Page {} out of range", rng.below(50)),
                        "paginate (https://shop.example.com/app.js:5:1)",
                    ),
                    _ => (
                        "Error",
                        format!("Cursor {:x}{:x} expired", rng.next(), rng.next()),
                        "fetchMore (https://shop.example.com/list.js:88:3)",
                    ),
                };
                let stack = format!("{kind}: x\n    at {frame}");
                let props = json!({"type": kind, "message": message, "stack": stack});
                tab.track(t, path, "$exception", props)
            }
            60..=62 => {
                let field = *rng.pick(&["phone", "email", "card"]);
                let props = json!({"form": "checkout", "field": field, "message": "Check this"});
                tab.track(t, path, "$form_error", props)
            }
            // What lead scores count, and the CRM's browsing events.
            63..=76 => {
                let (event, props) = match rng.below(7) {
                    0 => (
                        "property_view",
                        json!({"property_id": format!("p{}", rng.below(9))}),
                    ),
                    1 => {
                        let seconds = 10 + rng.below(60);
                        let props = json!({"property_id": "p1", "duration_seconds": seconds});
                        ("property_view", props)
                    }
                    2 => ("search", json!({"query": "2 bed"})),
                    3 => ("filter_applied", json!({"filter": "price"})),
                    4 if rng.chance(40) => ("contact_click", json!({"channel": "phone"})),
                    5 => {
                        let vehicle = *rng.pick(&VEHICLES);
                        let props = json!({"vehicle_id": "car_1", "vehicle_name": vehicle});
                        ("vehicle.viewed", props)
                    }
                    _ => {
                        let location = *rng.pick(&["Airport", "Downtown"]);
                        let props = json!({"query": "van", "location": location});
                        ("search.performed", props)
                    }
                };
                tab.track(t, path, event, props)
            }
            77..=80 => {
                let props = json!({
                    "order_id": format!("web-{v}-{k}-{step}"),
                    "revenue": 25 + rng.below(300),
                    "currency": "USD",
                });
                tab.track(t, "/checkout", "Order Completed", props)
            }
            // A booking, its messages in one batch.
            81..=84 if tab.who.signed_in && !booked => {
                booked = true;
                let vehicle = *rng.pick(&VEHICLES);
                let amount = 100 + 10 * rng.below(50);
                let mut steps = vec![
                    (
                        "booking.started",
                        json!({"vehicle_name": vehicle, "total_amount": amount}),
                    ),
                    ("booking.step_completed", json!({"step": "extras"})),
                ];
                let paid = json!({"amount": amount});
                match rng.below(4) {
                    0 => steps.push(("booking.abandoned", json!({"vehicle_name": vehicle}))),
                    r => {
                        steps.push(("payment.attempted", paid.clone()));
                        if r == 1 {
                            steps.push(("payment.failed", json!({"reason": "card declined"})));
                            steps.push(("payment.attempted", paid.clone()));
                        }
                        steps.push(("payment.successful", paid));
                        let done = json!({
                            "vehicle_name": vehicle, "service": vehicle, "total_amount": amount,
                        });
                        steps.push(("booking.completed", done));
                    }
                }
                let at = t;
                let mut group = Vec::new();
                for (event, props) in steps {
                    group.push(tab.track(t, "/checkout", event, props));
                    t += 20 * SEC;
                }
                add(items, at, Item::Events(group));
                continue;
            }
            _ => tab.track(t, path, "Clicked CTA", json!({"cta": "hero"})),
        };
        add(items, t, one(m));
    }
    // How it ends: signed out, a page left (provisional; sometimes the tab
    // goes on), or nothing (the inactivity timeout).
    t += 10 * SEC;
    match k % 3 {
        0 => {
            let end = json!({"reason": "sign_out"});
            let m = tab.track(t, path, "$session_end", end);
            add(items, t, one(m));
        }
        1 => {
            let end = json!({"reason": "page_unload"});
            let m = tab.track(t, path, "$session_end", end);
            add(items, t, one(m));
            if rng.chance(50) {
                t += 4 * SEC;
                let page = tab.msg("page", t, "/pricing");
                add(items, t, one(page));
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Sending.

/// A server's widget (its id is the server's own).
fn create_widget(s: &Spoor) -> String {
    s.cli_line(&[
        "widgets",
        "create",
        "--name",
        "Support widget",
        "--rate-limit",
        "100000",
    ])
}

/// The step's request to a server at `url`.
fn request(s: &Spoor, url: &str, widget: &str, step: &Step) -> reqwest::RequestBuilder {
    match step {
        Step::Batch(messages) => s
            .http
            .post(format!("{url}/v1/batch"))
            .basic_auth(&s.key, Some(""))
            .json(&json!({ "batch": messages })),
        Step::Widget(body) => {
            let mut body = body.clone();
            body["widget_id"] = json!(widget);
            s.http
                .post(format!("{url}/api/analytics/track"))
                .json(&body)
        }
        Step::Crm(body) => s
            .http
            .post(format!("{url}/make-server-b43c05fb/track-event"))
            .bearer_auth(&s.key)
            .json(body),
        Step::Friction(body) => s
            .http
            .post(format!("{url}/functions/v1/ingest-events"))
            .header("x-api-key", &s.key)
            .json(body),
    }
}

/// Checks a step's answer: everything taken (stored now or before).
fn check_answer(step: &Step, status: u16, body: &Value) {
    assert_eq!(status, 200, "{step:?}: {body}");
    match step {
        Step::Batch(messages) => {
            let taken =
                body["accepted"].as_u64().unwrap_or(0) + body["duplicates"].as_u64().unwrap_or(0);
            assert_eq!(taken, messages.len() as u64, "every message taken: {body}");
        }
        Step::Widget(_) => {
            assert!(
                body["stored"] == true || body["duplicate"] == true,
                "{body}"
            );
        }
        Step::Crm(_) => assert_eq!(body["success"], true, "{body}"),
        Step::Friction(b) => assert_eq!(
            body["processed"].as_u64(),
            Some(b["events"].as_array().unwrap().len() as u64),
            "{body}"
        ),
    }
}

async fn send(s: &Spoor, widget: &str, step: &Step) {
    let r = request(s, &s.url, widget, step).send().await.unwrap();
    let (status, body) = status_json(r).await;
    check_answer(step, status, &body);
}

/// Events the pipeline has yet to read.
async fn behind(s: &Spoor) -> Option<i64> {
    let r = s
        .http
        .get(format!("{}/api/pipeline", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .ok()?;
    let (status, body) = status_json(r).await;
    (status == 200)
        .then(|| body["behind_events"].as_i64())
        .flatten()
}

/// Waits until the pipeline has read the whole log.
async fn caught_up(s: &Spoor, what: &str) {
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let now = behind(s).await;
        if now == Some(0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the pipeline is still {now:?} events behind after {CATCH_UP:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A pass's stages, in order; its commit comes after them.
const STAGES: [&str; 6] = ["read", "rollups", "sessions", "metering", "friction", "crm"];

/// Kills a server that has just started on a backlog in the middle of its
/// first pass: once the pass is past `stage` (read, rollups, sessions,
/// metering, friction, crm: each stage's CPU time is on /metrics when it is
/// done; after crm comes the commit) and before its commit has counted the
/// events (`spoor_pipeline_events_total` is still 0). Returns the stages done
/// by then, or `None` when the pass committed first (the kill then comes a
/// moment later). On PostgreSQL a transaction open anywhere on the server
/// holds the pipeline's reading back, so the pass may take a while to come.
async fn kill_mid_pass(s: &mut Spoor, stage: &str) -> Option<Vec<String>> {
    let deadline = Instant::now() + CATCH_UP;
    let mut outcome = None;
    while Instant::now() < deadline {
        let text = s.metrics().await;
        let committed = text
            .lines()
            .find_map(|l| l.strip_prefix("spoor_pipeline_events_total "))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if committed > 0.0 {
            break;
        }
        let mut stages: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("spoor_pipeline_cpu_seconds_total{stage=\""))
            .filter_map(|l| l.split('"').next())
            .map(str::to_string)
            .collect();
        stages.sort_by_key(|st| STAGES.iter().position(|x| x == st));
        if stages.iter().any(|st| st == stage) {
            outcome = Some(stages);
            break;
        }
    }
    s.kill9();
    outcome
}

/// Runs the metering cleanup (the open call gets its inferred end) once the
/// pipeline has read every call, then waits until it has read that end too,
/// and until the booking left open has been abandoned by time.
async fn settle(s: &Spoor, what: &str) {
    caught_up(s, what).await;
    let (status, answer) =
        status_json(s.post("/api/analytics/cleanup").send().await.unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    caught_up(s, what).await;
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let list = get(s, "/v1/crm/contacts?q=leaver%40example.com").await;
        if list["contacts"][0]["lead_status"] == "Hot Lead - Abandoned Booking" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the open booking was never abandoned: {list:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------
// Snapshots of the derived views.

async fn get(s: &Spoor, path: &str) -> Value {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A list as an object keyed by each item's identity, so that a difference
/// names the item (and the order of equal items does not matter).
fn keyed(list: &Value, key: impl Fn(&Value) -> String) -> Value {
    let items = list.as_array().unwrap_or_else(|| panic!("a list: {list}"));
    let map: Map<String, Value> = items.iter().map(|x| (key(x), x.clone())).collect();
    assert_eq!(map.len(), items.len(), "keys are unique: {list}");
    Value::Object(map)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The ranges every view is read over: fixed, from the workload's start.
struct Ranges {
    /// The overview's: whole hours around the workload (hourly buckets).
    overview: String,
    /// Friction's and usage's: whole UTC days.
    days: String,
}

impl Ranges {
    fn new(t0: i64) -> Ranges {
        let hour = t0 - t0.rem_euclid(HOUR);
        let day = t0 - t0.rem_euclid(DAY);
        Ranges {
            overview: format!("from={}&to={}", hour - 32 * HOUR, hour + HOUR),
            days: format!("from={}&to={}", day - 2 * DAY, day + DAY),
        }
    }
}

/// The overview: totals, hourly series and top lists, without and with bots.
async fn overview(s: &Spoor, r: &Ranges) -> Value {
    json!({
        "people": get(s, &format!("/api/projects/1/overview?{}", r.overview)).await,
        "with_bots": get(s, &format!("/api/projects/1/overview?{}&bots=true", r.overview)).await,
    })
}

/// Sessions and people: every session, and every person's summary with
/// their latest sessions and the monitoring figures.
async fn sessions_and_people(s: &Spoor) -> Value {
    let sessions = get(s, "/api/projects/1/sessions?limit=1000").await;
    assert_eq!(sessions["next_cursor"], Value::Null, "all on one page");
    let mut people = get(s, "/api/customers/metrics?limit=500").await;
    assert_eq!(people["next_offset"], Value::Null, "all on one page");
    people["users"] = keyed(&people["users"], |u| text(&u["user_id"]));
    json!({
        "sessions": keyed(&sessions["sessions"], |x| text(&x["session_id"])),
        "people": people,
    })
}

/// Metering: the days' and the months' usage.
async fn usage(s: &Spoor, r: &Ranges) -> Value {
    json!({
        "days": get(s, &format!("/v1/metering/usage?project=default&group=day&{}", r.days)).await,
        "months": get(s, &format!("/v1/metering/usage?project=default&group=month&{}", r.days)).await,
    })
}

/// Friction: the report, each kind's sessions, error issues (each in full),
/// vitals, and every page's heatmaps.
async fn friction(s: &Spoor, r: &Ranges) -> Value {
    let d = &r.days;
    let mut out = Map::new();
    out.insert(
        "friction".into(),
        get(s, &format!("/api/projects/1/friction?{d}")).await,
    );
    for kind in ["rage_click", "dead_click", "form_error"] {
        let rows = get(
            s,
            &format!("/api/projects/1/friction/sessions?{d}&kind={kind}"),
        )
        .await;
        out.insert(
            format!("sessions:{kind}"),
            keyed(&rows["sessions"], |x| text(&x["session_id"])),
        );
    }
    let mut errors = get(s, &format!("/api/projects/1/errors?{d}&status=all")).await;
    let fingerprints: Vec<String> = errors["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| text(&i["fingerprint"]))
        .collect();
    errors["issues"] = keyed(&errors["issues"], |i| text(&i["fingerprint"]));
    out.insert("errors".into(), errors);
    for fp in fingerprints {
        out.insert(
            format!("issue:{fp}"),
            get(s, &format!("/api/projects/1/errors/{fp}?{d}")).await,
        );
    }
    out.insert(
        "vitals".into(),
        get(s, &format!("/api/projects/1/vitals?{d}")).await,
    );
    let pages = get(s, &format!("/api/projects/1/heatmap/pages?{d}")).await;
    for page in pages["pages"].as_array().unwrap() {
        let page = text(&page["page"]);
        for kind in ["click", "rage_click", "dead_click"] {
            out.insert(
                format!("heatmap:{page}:{kind}"),
                get(
                    s,
                    &format!(
                        "/api/projects/1/heatmap?{d}&page={}&kind={kind}",
                        encode(&page)
                    ),
                )
                .await,
            );
        }
    }
    out.insert("pages".into(), pages);
    Value::Object(out)
}

/// The four rebuildable folds' views.
async fn folds(s: &Spoor, r: &Ranges) -> BTreeMap<&'static str, Value> {
    BTreeMap::from([
        ("rollups (overview)", overview(s, r).await),
        ("sessions and people", sessions_and_people(s).await),
        ("metering (usage)", usage(s, r).await),
        ("friction", friction(s, r).await),
    ])
}

/// Stands for a time the server took from its clock (not from an event).
const WALL_CLOCK: &str = "<wall clock>";

/// The CRM: every contact with its score history, tasks and timeline, the
/// task list and the funnel; and the contacts' scores apart (they decay
/// with the clock, so two reads a moment apart differ a little).
///
/// Times from the server's clock are replaced: contacts' `updated_at`,
/// tasks' `created_at`, and what the abandonment by time stamped (its
/// timeline entries, its task's due time, the contact's last activity).
/// Every event of the workload is older than `t0`, so a time after it can
/// only be the clock's. Timeline entries' ids (a sequence) go too.
async fn crm(s: &Spoor, t0: i64) -> (Value, BTreeMap<String, f64>) {
    let clock = |v: &mut Value| {
        if v.as_i64().is_some_and(|t| t >= t0) {
            *v = json!(WALL_CLOCK);
        }
    };
    let contact = |c: &mut Value| {
        let o = c.as_object_mut().unwrap();
        o.remove("updated_at");
        o.remove("score");
        if let Some(at) = o.get_mut("last_activity") {
            clock(at);
        }
    };
    let task = |t: &mut Value| {
        let abandoned_by_time = t["source_event"] == "booking.abandoned";
        let o = t.as_object_mut().unwrap();
        o.remove("created_at");
        o.remove("overdue");
        if abandoned_by_time && let Some(due) = o.get_mut("due_at") {
            clock(due);
        }
    };
    let list = get(s, "/v1/crm/contacts?limit=500").await;
    let mut scores = BTreeMap::new();
    let mut contacts = Map::new();
    for c in list["contacts"].as_array().unwrap() {
        let id = text(&c["id"]);
        scores.insert(id.clone(), c["score"].as_f64().unwrap());
        let mut c = c.clone();
        contact(&mut c);
        let mut full = get(s, &format!("/v1/crm/contacts/{id}")).await;
        contact(&mut full["contact"]);
        for t in full["tasks"].as_array_mut().unwrap() {
            task(t);
        }
        full["tasks"] = keyed(&full["tasks"], |t| text(&t["id"]));
        let mut timeline = get(s, &format!("/v1/crm/contacts/{id}/timeline?limit=500")).await;
        assert_eq!(timeline["next_before"], Value::Null, "all on one page");
        let entries = timeline["entries"].as_array_mut().unwrap();
        for e in entries.iter_mut() {
            let o = e.as_object_mut().unwrap();
            o.remove("id");
            if o["at"].as_i64().is_some_and(|t| t >= t0) {
                o.insert("at".into(), json!(WALL_CLOCK));
                if let Some(due) = o.get_mut("details").and_then(|d| d.get_mut("due_at")) {
                    clock(due);
                }
            }
        }
        contacts.insert(
            id,
            json!({"listed": c, "contact": full, "timeline": timeline["entries"]}),
        );
    }
    assert_eq!(
        list["total"].as_u64(),
        Some(contacts.len() as u64),
        "all on one page"
    );
    let mut tasks = get(s, "/v1/crm/tasks?limit=500").await;
    assert_eq!(
        tasks["total"].as_u64(),
        tasks["tasks"].as_array().map(|t| t.len() as u64),
        "all on one page"
    );
    for t in tasks["tasks"].as_array_mut().unwrap() {
        task(t);
    }
    let snapshot = json!({
        "contacts": contacts,
        "tasks": keyed(&tasks["tasks"], |t| text(&t["id"])),
        "funnel": get(s, "/v1/crm/funnel").await,
    });
    (snapshot, scores)
}

// ---------------------------------------------------------------------------
// Comparing.

/// Where two JSON values differ, as `path: expected … got …` lines (at most
/// `room` of them).
fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>, room: usize) {
    if out.len() >= room || want == got {
        return;
    }
    let short = |v: &Value| {
        let s = v.to_string();
        if s.chars().count() > 400 {
            format!("{}…", s.chars().take(400).collect::<String>())
        } else {
            s
        }
    };
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => differences(&format!("{path}.{k}"), x, y, out, room),
                    (Some(x), None) => {
                        out.push(format!("{path}.{k}: expected {} got nothing", short(x)))
                    }
                    (None, Some(y)) => {
                        out.push(format!("{path}.{k}: expected nothing got {}", short(y)))
                    }
                    (None, None) => {}
                }
                if out.len() >= room {
                    return;
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{path}[{i}]"), x, y, out, room);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            let i = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            out.push(format!(
                "{path}: expected {} items got {}; from [{i}] on, expected {} got {}",
                a.len(),
                b.len(),
                short(&json!(a[i..])),
                short(&json!(b[i..])),
            ));
        }
        _ => out.push(format!(
            "{path}: expected {} got {}",
            short(want),
            short(got)
        )),
    }
}

fn compare(
    what: &str,
    want: &BTreeMap<&'static str, Value>,
    got: &BTreeMap<&'static str, Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (view, w) in want {
        let mut found = Vec::new();
        differences(view, w, &got[view], &mut found, 15);
        if !found.is_empty() {
            out.push(format!(
                "{what}: {view} differs:\n    {}",
                found.join("\n    ")
            ));
        }
    }
    out
}

/// Scores read a moment apart: equal but for the decay in between (a
/// half-life of 30 days: 1e-4 of a score is over four minutes), where one
/// point counted twice or lost is far more.
fn compare_scores(
    what: &str,
    want: &BTreeMap<String, f64>,
    got: &BTreeMap<String, f64>,
) -> Vec<String> {
    let mut out = Vec::new();
    for id in want.keys().chain(got.keys()).collect::<BTreeSet<_>>() {
        match (want.get(id), got.get(id)) {
            (Some(a), Some(b)) if (a - b).abs() <= 1e-3 + 1e-4 * a.abs().max(b.abs()) => {}
            (a, b) => out.push(format!("{what}: score of {id}: expected {a:?} got {b:?}")),
        }
    }
    out
}

/// What the views hold, so that equal views are not equal for being empty.
fn substantial(folds: &BTreeMap<&'static str, Value>, crm: &Value, stored: usize) {
    let count = |v: &Value| v.as_object().map_or(0, Map::len);
    let overview = &folds["rollups (overview)"]["people"]["totals"];
    let people = &folds["sessions and people"];
    let usage = &folds["metering (usage)"]["months"]["totals"];
    let friction = &folds["friction"];
    let said = format!(
        "{stored} events; overview {overview}; {} sessions, {} people; usage {usage}; \
         {} error issues, {} pages with clicks; {} contacts, {} tasks",
        count(&people["sessions"]),
        count(&people["people"]["users"]),
        count(&friction["errors"]["issues"]),
        friction["pages"]["pages"].as_array().map_or(0, Vec::len),
        count(&crm["contacts"]),
        count(&crm["tasks"]),
    );
    eprintln!("{said}");
    assert!(
        overview["events"].as_i64() > Some(1_000)
            && count(&people["sessions"]) > 50
            && count(&people["people"]["users"]) >= 11
            && usage["calls"].as_i64() >= Some(8)
            && usage["inferred"].as_i64() == Some(1)
            && count(&friction["errors"]["issues"]) >= 3
            && count(&crm["contacts"]) >= 13
            && count(&crm["tasks"]) >= 5,
        "the workload reached every view: {said}"
    );
}

// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fold_after_kills_mid_pass_equals_a_rebuild_from_the_raw_events() {
    let t0 = now_ms();
    let steps = workload(t0);
    let ranges = Ranges::new(t0);
    let events: usize = steps
        .iter()
        .map(|s| match s {
            Step::Batch(m) => m.len(),
            _ => 1,
        })
        .sum();
    assert!(
        steps.len() > 40 && events > 1_000,
        "{} requests, {events} messages",
        steps.len()
    );
    // Every event is over an hour old: its session idle (so it is ended by
    // the time the pipeline reads it, not later by the clock), its hour in
    // the overview's rollups, and a time after `t0` in a view the clock's.
    let newest = steps.iter().map(newest_time).max().unwrap();
    assert!(
        newest < t0 - HOUR,
        "an event {} ms before the start",
        t0 - newest
    );

    // Kills after the answer to a batch of at least 60 messages at about
    // these fractions of the run, each after its delay (the pipeline gathers
    // for 200 ms after reading the log's end, then reads, folds and commits);
    // some again a moment after the restart, while the new server's first
    // pass reads the backlog the killed one left; and one kill with a batch
    // in flight, which the client sends again.
    let big = |i: usize| matches!(&steps[i], Step::Batch(m) if m.len() >= 60);
    let at_or_after = |from: usize| (from..steps.len()).find(|&i| big(i)).unwrap();
    let mut kills: BTreeMap<usize, (u64, Option<&str>)> = BTreeMap::new();
    for (fraction, delay_ms, hunt) in [
        (0.10, 0, Some("rollups")),
        (0.22, 25, None),
        (0.35, 70, Some("crm")),
        (0.47, 0, Some("metering")),
        (0.62, 140, None),
        (0.75, 210, Some("crm")),
        (0.88, 10, Some("friction")),
    ] {
        let mut i = at_or_after((steps.len() as f64 * fraction) as usize);
        while kills.contains_key(&i) {
            i = at_or_after(i + 1);
        }
        kills.insert(i, (delay_ms, hunt));
    }
    let in_flight = (at_or_after(steps.len() / 2)..steps.len())
        .find(|i| big(*i) && !kills.contains_key(i))
        .unwrap();

    // The killed server.
    let mut s = Spoor::start_with(ARGS).await;
    let widget = create_widget(&s);
    let mut killed_behind = Vec::new();
    let mut mid_pass = 0;
    for (i, step) in steps.iter().enumerate() {
        if i == in_flight {
            let sent = request(&s, &s.url, &widget, step).send();
            let sending = tokio::spawn(sent);
            tokio::time::sleep(Duration::from_millis(3)).await;
            s.kill9();
            let outcome = sending.await.unwrap();
            eprintln!(
                "kill with batch {i} ({} messages) in flight: {}",
                match step {
                    Step::Batch(m) => m.len(),
                    _ => 1,
                },
                match &outcome {
                    Ok(r) => format!("answered {}", r.status()),
                    Err(_) => "no answer".into(),
                }
            );
            s.restart();
            // The client sends it again: taken, whether or not it was stored.
            send(&s, &widget, step).await;
            continue;
        }
        send(&s, &widget, step).await;
        let Some((delay, hunt)) = kills.get(&i) else {
            continue;
        };
        tokio::time::sleep(Duration::from_millis(*delay)).await;
        let pending = behind(&s).await;
        s.kill9();
        eprintln!("kill {delay} ms after the answer to batch {i}: {pending:?} events unread");
        killed_behind.push(pending.unwrap_or(0));
        s.restart();
        let Some(stage) = hunt else { continue };
        if let Some(backlog) = behind(&s).await.filter(|n| *n > 0) {
            let done = kill_mid_pass(&mut s, stage).await;
            s.restart();
            let after = behind(&s).await;
            eprintln!(
                "kill in the restarted server's first pass ({backlog} events) after its stages \
                 {done:?}: {after:?} events unread after the restart{}",
                if after == Some(backlog) {
                    ": its commit was cut off"
                } else {
                    ""
                }
            );
            mid_pass += usize::from(done.is_some());
        }
        // A lull: the restarted server commits passes on top of what the
        // killed ones left, before more traffic (and the next kill) comes.
        caught_up(&s, "after a restart").await;
    }
    assert!(
        killed_behind.iter().filter(|n| **n > 0).count() >= 2,
        "at least two kills came while the pipeline had events to read: {killed_behind:?}"
    );
    assert!(
        mid_pass >= 2,
        "at least two kills came after a pass's folds began and before its commit: {mid_pass}"
    );
    settle(&s, "the killed server").await;
    let live = folds(&s, &ranges).await;
    let (live_crm, live_scores) = crm(&s, t0).await;
    let stored = s.events("default").await.len();
    substantial(&live, &live_crm, stored);

    // Each rebuildable fold again from the raw events, by the CLI with no
    // server running.
    let status = s.terminate();
    assert!(status.success(), "a clean stop: {status:?}");
    for fold in ["sessions", "rollups", "metering", "friction"] {
        let out = s.cli_command(&["rebuild", fold]);
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "spoor rebuild {fold}: {said}");
        assert!(
            said.contains(&format!("rebuilt {fold} from {stored} events")),
            "spoor rebuild {fold} reads every one of the {stored} events: {said}"
        );
    }
    s.restart();
    caught_up(&s, "after the rebuild").await;
    let rebuilt = folds(&s, &ranges).await;
    let (crm_after_rebuild, scores_after_rebuild) = crm(&s, t0).await;

    let mut problems = compare("killed server against the rebuild", &rebuilt, &live);
    // The rebuild of the other folds leaves the CRM as it was.
    let crm_view = |v: Value| BTreeMap::from([("crm", v)]);
    problems.extend(compare(
        "the CRM after the other folds' rebuild",
        &crm_view(live_crm.clone()),
        &crm_view(crm_after_rebuild),
    ));
    problems.extend(compare_scores(
        "the CRM after the other folds' rebuild",
        &live_scores,
        &scores_after_rebuild,
    ));

    // A server never killed, sent the same requests: the same CRM.
    let fresh = Spoor::start_with(ARGS).await;
    let fresh_widget = create_widget(&fresh);
    for step in &steps {
        send(&fresh, &fresh_widget, step).await;
    }
    settle(&fresh, "the server never killed").await;
    assert_eq!(
        fresh.events("default").await.len(),
        stored,
        "both servers hold the same events"
    );
    let (fresh_crm, fresh_scores) = crm(&fresh, t0).await;
    problems.extend(compare(
        "killed server against one never killed",
        &crm_view(fresh_crm),
        &crm_view(live_crm),
    ));
    problems.extend(compare_scores(
        "killed server against one never killed",
        &fresh_scores,
        &live_scores,
    ));
    assert!(
        problems.is_empty(),
        "{} views differ (expected: the rebuild, or the server never killed; got: the killed server):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A thread's scheduling policy: the 41st field of its `/proc` stat, counted
/// after the command name (in parentheses, and free to hold spaces).
#[cfg(target_os = "linux")]
fn thread_policy(pid: u32, tid: i32) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ').nth(41 - 3).unwrap().parse().unwrap()
}

/// Ingestion comes first: the pipeline's thread runs in the idle scheduling
/// class (it takes a small normal share back only after a long starvation,
/// tested in `pipeline::priority`), and a watchdog thread runs beside it.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_pipeline_thread_runs_in_the_idle_class() {
    let s = Spoor::start().await;
    let pid = s.child.id();
    let threads: Vec<(i32, String)> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| {
            let tid: i32 = t.ok()?.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm")).ok()?;
            Some((tid, comm.trim().to_string()))
        })
        .collect();
    let named = |name: &str| {
        threads
            .iter()
            .find(|(_, n)| n == name)
            .unwrap_or_else(|| panic!("a {name} thread in {threads:?}"))
            .0
    };
    named("spoor-watchdog");
    assert_eq!(
        thread_policy(pid, named("spoor-pipeline")),
        i64::from(libc::SCHED_IDLE)
    );
    // The event writer, which answers every ingestion request, is not.
    assert_eq!(
        thread_policy(pid, named("spoor-writer")),
        i64::from(libc::SCHED_OTHER)
    );
}
