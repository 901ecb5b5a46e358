//! People: who an anonymous visitor turned out to be, and each person's activity
//! summary (seed 004's `user_activity_summary`). The sessions processor keeps
//! both up to date in the same pass and transaction as the sessions; the rules
//! live here, apart from any backend:
//!
//! - A message with both a user id and an anonymous id links the anonymous id to
//!   that user; the first link of an anonymous id stands. `alias` links its
//!   `previousId` (an anonymous id or a former user id) to its `userId`, as
//!   Segment defines it. A linked id's history, sessions and summary move to the
//!   user: what a visitor did before signing in counts for them.
//! - A person is an identified user, or an anonymous visitor not yet linked.
//!   Every message counts for the person it resolves to when it is read.
//! - Which track events are orders, bookings and reviews is a per-project
//!   mapping ([`CustomerEvents`]), Segment's and seed 003's names by default.
//! - Every count is a sum and every "last" is the latest by event time, so
//!   merging two summaries gives what one would have had from all the events.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::sessions::{DerivedReads, FastMap, FastSet, SessionEvent};
use crate::traits::Traits;

/// Which track events count as orders, bookings and reviews, per project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerEvents {
    pub orders: Vec<EventRule>,
    pub bookings: Vec<EventRule>,
    pub reviews: Vec<EventRule>,
}

/// One event name, and the properties its figures are read from (the first one
/// present wins).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRule {
    pub event: String,
    /// The amount (orders: the order's value; bookings: added to revenue).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amount: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub currency: Vec<String>,
    /// What was booked (bookings: the service's name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub label: Vec<String>,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Default for CustomerEvents {
    /// Segment's e-commerce spec (`Order Completed` with `revenue` or `total`),
    /// seed 003's `booking.completed` with `total_amount`, and the common spellings.
    fn default() -> Self {
        let order = |event: &str| EventRule {
            event: event.into(),
            amount: names(&["revenue", "total", "value", "total_amount", "amount"]),
            currency: names(&["currency"]),
            label: Vec::new(),
        };
        let booking = |event: &str| EventRule {
            event: event.into(),
            amount: names(&["total_amount", "revenue", "total", "value", "amount"]),
            currency: names(&["currency"]),
            label: names(&["service", "service_name", "vehicle_name", "name"]),
        };
        let review = |event: &str| EventRule {
            event: event.into(),
            amount: Vec::new(),
            currency: Vec::new(),
            label: Vec::new(),
        };
        CustomerEvents {
            orders: ["Order Completed", "order.completed", "order_completed"]
                .map(order)
                .to_vec(),
            bookings: [
                "booking.completed",
                "Booking Completed",
                "booking_completed",
            ]
            .map(booking)
            .to_vec(),
            reviews: [
                "Product Reviewed",
                "Review Submitted",
                "review.submitted",
                "review_submitted",
            ]
            .map(review)
            .to_vec(),
        }
    }
}

/// Rules per kind at most, and the longest name.
const MAX_RULES: usize = 50;
const MAX_NAME: usize = 200;

impl CustomerEvents {
    /// The setting a project's mapping is kept under.
    pub fn setting(project_id: i64) -> String {
        format!("customer-events:{project_id}")
    }

    /// A mapping as a sender gave it, checked, with an error that says what to fix.
    pub fn parse(json: &str) -> Result<CustomerEvents, String> {
        let m: CustomerEvents = serde_json::from_str(json).map_err(|e| {
            format!("the mapping must be {{\"orders\": [...], \"bookings\": [...], \"reviews\": [...]}} with rules {{\"event\", \"amount\"?, \"currency\"?, \"label\"?}}: {e}")
        })?;
        for (kind, rules) in [
            ("orders", &m.orders),
            ("bookings", &m.bookings),
            ("reviews", &m.reviews),
        ] {
            if rules.len() > MAX_RULES {
                return Err(format!("`{kind}` has more than {MAX_RULES} rules"));
            }
            for rule in rules {
                let all = std::iter::once(&rule.event)
                    .chain(&rule.amount)
                    .chain(&rule.currency)
                    .chain(&rule.label);
                for name in all {
                    if name.trim().is_empty() || name.len() > MAX_NAME {
                        return Err(format!(
                            "`{kind}`: event and property names must be 1 to {MAX_NAME} characters"
                        ));
                    }
                    if name.chars().any(char::is_control) {
                        return Err(format!(
                            "`{kind}`: event and property names cannot hold control characters (NUL, tabs, line breaks ...); {:?} does",
                            name.chars().take(MAX_NAME).collect::<String>()
                        ));
                    }
                }
            }
        }
        Ok(m)
    }

    /// Every event name the mapping reads properties of.
    pub fn event_names(&self) -> impl Iterator<Item = &str> {
        self.orders
            .iter()
            .chain(&self.bookings)
            .chain(&self.reviews)
            .map(|r| r.event.as_str())
    }

    fn find<'a>(rules: &'a [EventRule], name: &str) -> Option<&'a EventRule> {
        rules.iter().find(|r| r.event == name)
    }
}

/// Sessions per device type, browser and OS: the primary ones are the most
/// frequent (ties go to the first in alphabetical order, so that the result does
/// not depend on the order sessions were counted in).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tallies {
    #[serde(default)]
    pub device_type: Tally,
    #[serde(default)]
    pub browser: Tally,
    #[serde(default)]
    pub os: Tally,
}

/// Counts per value, kept sorted by value and stored as a JSON object. A
/// person has one or two of each; a vector of them takes a tenth of the
/// memory of a B-tree's node, and the sessions processor holds many people.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally(Vec<(String, i64)>);

impl Tally {
    fn add(&mut self, value: &str, n: i64) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(value)) {
            Ok(i) => self.0[i].1 += n,
            Err(i) => self.0.insert(i, (value.to_string(), n)),
        }
    }

    fn contains(&self, value: &str) -> bool {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(value))
            .is_ok()
    }
}

impl Serialize for Tally {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, n)| (k, n)))
    }
}

impl<'de> Deserialize<'de> for Tally {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tally, D::Error> {
        Ok(Tally(
            BTreeMap::<String, i64>::deserialize(d)?
                .into_iter()
                .collect(),
        ))
    }
}

fn most(t: &Tally) -> Option<String> {
    let mut best: Option<(&String, i64)> = None;
    for (k, n) in &t.0 {
        if best.is_none_or(|(_, b)| *n > b) {
            best = Some((k, *n));
        }
    }
    best.map(|(k, _)| k.clone())
}

fn add_all(into: &mut Tally, from: &Tally) {
    for (k, n) in &from.0 {
        into.add(k, *n);
    }
}

/// How many distinct values a tally keeps: a person's devices are few, and a
/// sender that varies them cannot grow the row without bound.
const TALLY_VALUES: usize = 20;

fn tally(t: &mut Tally, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty())
        && (t.0.len() < TALLY_VALUES || t.contains(v))
    {
        t.add(v, 1);
    }
}

/// A person's activity summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Customer {
    #[serde(skip)]
    pub project_id: i64,
    #[serde(skip)]
    pub identified: bool,
    /// The user id (or, for a visitor not yet identified, the anonymous id).
    #[serde(rename = "user_id")]
    pub person: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Event time of the traits above.
    #[serde(skip)]
    pub traits_at: Option<i64>,
    /// The `createdAt` trait, when one was sent.
    #[serde(skip)]
    pub created_trait_at: Option<i64>,
    pub first_seen_at: i64,
    /// The `createdAt` trait, or else first seen.
    pub registered_at: i64,
    pub last_seen_at: i64,
    /// The latest session's start.
    pub last_login_at: Option<i64>,
    pub total_sessions: i64,
    pub total_events: i64,
    pub total_orders: i64,
    pub total_bookings: i64,
    pub total_reviews: i64,
    pub total_revenue: f64,
    pub last_order_at: Option<i64>,
    pub last_order_amount: Option<f64>,
    pub last_order_currency: Option<String>,
    pub last_booking_at: Option<i64>,
    pub last_booking_service: Option<String>,
    pub primary_device_type: Option<String>,
    pub primary_browser: Option<String>,
    pub primary_os: Option<String>,
    #[serde(skip)]
    pub tallies: Tallies,
    /// The traits `identify` calls set, each key's latest (insights filter
    /// people by them); shown as an object of values when there are any.
    #[serde(skip_serializing_if = "Traits::is_empty")]
    #[schema(value_type = Option<Object>)]
    pub properties: Traits,
}

fn later<T: Clone>(at: &mut Option<i64>, value: &mut T, other_at: Option<i64>, other: &T) {
    if other_at.is_some() && (at.is_none() || other_at > *at) {
        *at = other_at;
        *value = other.clone();
    }
}

impl Customer {
    fn new(project_id: i64, identified: bool, person: &str, ts: i64) -> Customer {
        Customer {
            project_id,
            identified,
            person: person.to_string(),
            first_seen_at: ts,
            registered_at: ts,
            last_seen_at: ts,
            ..Customer::default()
        }
    }

    /// Adds another summary of the same person (a linked anonymous id's).
    pub fn absorb(&mut self, o: &Customer) {
        self.properties.absorb(&o.properties);
        let mut traits = (self.email.clone(), self.name.clone());
        later(
            &mut self.traits_at,
            &mut traits,
            o.traits_at,
            &(o.email.clone(), o.name.clone()),
        );
        (self.email, self.name) = traits;
        self.created_trait_at = match (self.created_trait_at, o.created_trait_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.first_seen_at = self.first_seen_at.min(o.first_seen_at);
        self.last_seen_at = self.last_seen_at.max(o.last_seen_at);
        self.last_login_at = self.last_login_at.max(o.last_login_at);
        self.total_sessions += o.total_sessions;
        self.total_events += o.total_events;
        self.total_orders += o.total_orders;
        self.total_bookings += o.total_bookings;
        self.total_reviews += o.total_reviews;
        self.total_revenue += o.total_revenue;
        let mut order = (self.last_order_amount, self.last_order_currency.clone());
        later(
            &mut self.last_order_at,
            &mut order,
            o.last_order_at,
            &(o.last_order_amount, o.last_order_currency.clone()),
        );
        (self.last_order_amount, self.last_order_currency) = order;
        let mut booking = self.last_booking_service.clone();
        later(
            &mut self.last_booking_at,
            &mut booking,
            o.last_booking_at,
            &o.last_booking_service,
        );
        self.last_booking_service = booking;
        add_all(&mut self.tallies.device_type, &o.tallies.device_type);
        add_all(&mut self.tallies.browser, &o.tallies.browser);
        add_all(&mut self.tallies.os, &o.tallies.os);
        self.settle();
    }

    /// Recomputes the fields that follow from others.
    fn settle(&mut self) {
        self.registered_at = self.created_trait_at.unwrap_or(self.first_seen_at);
        self.primary_device_type = most(&self.tallies.device_type);
        self.primary_browser = most(&self.tallies.browser);
        self.primary_os = most(&self.tallies.os);
    }

    fn add_event(&mut self, e: &SessionEvent, starts_session: bool, map: &CustomerEvents) {
        self.total_events += 1;
        self.first_seen_at = self.first_seen_at.min(e.ts);
        self.last_seen_at = self.last_seen_at.max(e.ts);
        if starts_session {
            self.total_sessions += 1;
            self.last_login_at = self.last_login_at.max(Some(e.ts));
            tally(&mut self.tallies.device_type, e.device_type.as_deref());
            tally(&mut self.tallies.browser, e.browser.as_deref());
            tally(&mut self.tallies.os, e.os.as_deref());
        }
        let body = e
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok());
        if e.kind == "identify"
            && let Some(traits) = body.as_ref().map(|b| &b["traits"])
        {
            if let Value::Object(all) = traits {
                self.properties.set_all(all, e.ts);
            }
            let text = |k: &str| {
                traits[k]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.chars().take(320).collect::<String>())
            };
            if self.traits_at.is_none_or(|t| e.ts >= t) {
                self.traits_at = Some(e.ts);
                self.email = text("email").or(self.email.take());
                self.name = text("name")
                    .or_else(|| {
                        let first = text("firstName")?;
                        Some(match text("lastName") {
                            Some(last) => format!("{first} {last}"),
                            None => first,
                        })
                    })
                    .or(self.name.take());
            }
            if let Some(created) = created_at(&traits["createdAt"]) {
                self.created_trait_at =
                    Some(self.created_trait_at.map_or(created, |c| c.min(created)));
            }
        }
        if e.kind == "track"
            && let Some(name) = e.name.as_deref()
        {
            let props = body.as_ref().map(|b| &b["properties"]);
            let first = |keys: &[String], f: &dyn Fn(&Value) -> Option<Value>| {
                keys.iter()
                    .find_map(|k| props.and_then(|p| f(&p[k.as_str()])))
            };
            let amount = |rule: &EventRule| {
                first(&rule.amount, &|v| number(v).map(Value::from)).and_then(|v| v.as_f64())
            };
            let text = |keys: &[String]| {
                first(keys, &|v| {
                    v.as_str()
                        .filter(|s| !s.is_empty())
                        .map(|s| Value::from(s.chars().take(200).collect::<String>()))
                })
                .and_then(|v| v.as_str().map(str::to_string))
            };
            if let Some(rule) = CustomerEvents::find(&map.orders, name) {
                let value = amount(rule);
                self.total_orders += 1;
                self.total_revenue += value.unwrap_or(0.0);
                let mut order = (self.last_order_amount, self.last_order_currency.clone());
                later(
                    &mut self.last_order_at,
                    &mut order,
                    Some(e.ts),
                    &(value, text(&rule.currency)),
                );
                (self.last_order_amount, self.last_order_currency) = order;
            } else if let Some(rule) = CustomerEvents::find(&map.bookings, name) {
                self.total_bookings += 1;
                self.total_revenue += amount(rule).unwrap_or(0.0);
                let mut service = self.last_booking_service.clone();
                later(
                    &mut self.last_booking_at,
                    &mut service,
                    Some(e.ts),
                    &text(&rule.label),
                );
                self.last_booking_service = service;
            } else if CustomerEvents::find(&map.reviews, name).is_some() {
                self.total_reviews += 1;
            }
        }
        self.settle();
    }
}

/// A number, or a string that holds one ("50000", "50,000.00").
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.replace(',', "").trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

/// A `createdAt` trait: an ISO 8601 time, or seconds or milliseconds since the epoch.
fn created_at(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => spoor_core::time::parse_iso(s),
        Value::Number(n) => n.as_f64().map(|x| {
            if x < 1e11 {
                (x * 1000.0) as i64
            } else {
                x as i64
            }
        }),
        _ => None,
    }
}

/// The tallies as stored.
pub fn tallies_json(t: &Tallies) -> String {
    serde_json::to_string(t).unwrap_or_else(|_| "{}".into())
}

pub fn tallies_from(json: &str) -> Tallies {
    // Written by this module; a row that does not parse counts as no tallies
    // rather than stopping the processor.
    serde_json::from_str(json).unwrap_or_default()
}

/// A link from an anonymous or former id to the user it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub project_id: i64,
    pub alias_id: String,
    pub user_id: String,
    pub linked_at: i64,
}

/// What a pass derived about people, written with its sessions.
#[derive(Debug, Default)]
pub struct People {
    /// Whole rows to write.
    pub customers: Vec<Customer>,
    /// Rows (project, identified, person) merged into their user's, to delete.
    pub merged_away: Vec<(i64, bool, String)>,
    /// New links, in the order they were made.
    pub links: Vec<Link>,
    /// The newest erasure the pass knew of: the write is refused when a newer
    /// one committed since (the pass is then read again).
    pub erasure_mark: i64,
}

/// The pass's view of identities and people: the store's rows, read once, with
/// the pass's changes over them.
struct Folding<'a, E> {
    store: &'a dyn DerivedReads<Error = E>,
    /// (project, id) → the user it links to (None: not linked).
    links: FastMap<(i64, String), Option<String>>,
    /// The users some id in `links` leads to.
    linked_to: FastSet<(i64, String)>,
    /// Boxed: the map is given room for the pass at once, and an empty slot
    /// then costs a pointer, not a summary's 450 bytes (with a slot for each
    /// of a pass's events, a pass of 20,000 held 33 MB of them).
    people: FastMap<(i64, bool, String), Option<Box<Customer>>>,
    erased: FastMap<(i64, String), bool>,
    any_erased: bool,
    out: People,
}

impl<E> Folding<'_, E> {
    fn linked(&mut self, project_id: i64, id: &str) -> Result<Option<String>, E> {
        let key = (project_id, id.to_string());
        if let Some(v) = self.links.get(&key) {
            return Ok(v.clone());
        }
        let v = self.store.linked_user(project_id, id)?;
        if let Some(user) = &v {
            self.linked_to.insert((project_id, user.clone()));
        }
        self.links.insert(key, v.clone());
        Ok(v)
    }

    fn erased(&mut self, project_id: i64, id: Option<&str>) -> Result<bool, E> {
        let Some(id) = id else { return Ok(false) };
        if !self.any_erased {
            return Ok(false);
        }
        let key = (project_id, id.to_string());
        if let Some(&v) = self.erased.get(&key) {
            return Ok(v);
        }
        let v = self.store.is_erased(project_id, id)?;
        self.erased.insert(key, v);
        Ok(v)
    }

    fn take(
        &mut self,
        project_id: i64,
        identified: bool,
        person: &str,
    ) -> Result<Option<Box<Customer>>, E> {
        let key = (project_id, identified, person.to_string());
        match self.people.get_mut(&key) {
            Some(slot) => Ok(slot.take()),
            None => {
                let row = self.store.customer(project_id, identified, person)?;
                self.people.insert(key, None);
                Ok(row.map(Box::new))
            }
        }
    }

    fn put(&mut self, c: Box<Customer>) {
        self.people
            .insert((c.project_id, c.identified, c.person.clone()), Some(c));
    }

    /// Notes, while resolving, that `alias` leads to `user`.
    fn note_link(&mut self, project_id: i64, alias: &str, user: &str) {
        self.links
            .insert((project_id, alias.to_string()), Some(user.to_string()));
        self.linked_to.insert((project_id, user.to_string()));
        // Ids already linked to the alias now lead to the user. Looked for only
        // when some id leads to the alias (a former user id, after `alias`):
        // looking every time made a pass quadratic in its links.
        if self.linked_to.contains(&(project_id, alias.to_string())) {
            for ((p, _), v) in self.links.iter_mut() {
                if *p == project_id && v.as_deref() == Some(alias) {
                    *v = Some(user.to_string());
                }
            }
        }
    }

    /// Links `alias` to `user`: the alias's summaries (as an anonymous visitor
    /// and, after `alias`, as a former user) move into the user's.
    fn link(&mut self, project_id: i64, alias: &str, user: &str, ts: i64) -> Result<(), E> {
        self.out.links.push(Link {
            project_id,
            alias_id: alias.to_string(),
            user_id: user.to_string(),
            linked_at: ts,
        });
        for identified in [false, true] {
            if let Some(old) = self.take(project_id, identified, alias)? {
                let mut into = self.take(project_id, true, user)?.unwrap_or_else(|| {
                    Box::new(Customer::new(project_id, true, user, old.first_seen_at))
                });
                into.absorb(&old);
                self.put(into);
                self.out
                    .merged_away
                    .push((project_id, identified, alias.to_string()));
            }
        }
        Ok(())
    }
}

/// Resolves each event's person (setting `person` to the identified user it
/// counts for) and drops known crawlers' events and erased people's. Call
/// before the sessions are folded, and [`fold_people`] after.
pub fn resolve<'a, E>(
    store: &'a dyn DerivedReads<Error = E>,
    events: &mut Vec<SessionEvent>,
) -> Result<Resolved<'a, E>, E> {
    let erasure_mark = store.erasure_mark()?;
    let mut f = Folding {
        store,
        links: FastMap::with_capacity_and_hasher(2 * events.len(), Default::default()),
        linked_to: FastSet::default(),
        people: FastMap::with_capacity_and_hasher(2 * events.len(), Default::default()),
        erased: FastMap::default(),
        any_erased: erasure_mark > 0,
        out: People {
            erasure_mark,
            ..People::default()
        },
    };
    let mut kept = Vec::with_capacity(events.len());
    let mut link_at = Vec::new();
    for mut e in std::mem::take(events) {
        let p = e.project_id;
        if e.is_bot
            || f.erased(p, e.user_id.as_deref())?
            || f.erased(p, e.anonymous_id.as_deref())?
        {
            continue;
        }
        let previous = (e.kind == "alias")
            .then(|| {
                e.body
                    .as_deref()
                    .and_then(|b| serde_json::from_str::<Value>(b).ok())
                    .and_then(|v| v["previousId"].as_str().map(str::to_string))
            })
            .flatten();
        if f.erased(p, previous.as_deref())? {
            continue;
        }
        // Links this event makes, applied (in `fold_people`) before it counts.
        let mut makes = Vec::new();
        if let Some(user) = e.user_id.clone() {
            let user = f.linked(p, &user)?.unwrap_or(user);
            if let Some(anon) = e.anonymous_id.as_deref()
                && anon != user
                && f.linked(p, anon)?.is_none()
            {
                f.note_link(p, anon, &user);
                makes.push((anon.to_string(), user.clone()));
            }
            if let Some(prev) = previous
                && prev != user
            {
                f.note_link(p, &prev, &user);
                makes.push((prev, user.clone()));
            }
            e.person = Some(user);
        } else if let Some(anon) = e.anonymous_id.as_deref() {
            e.person = f.linked(p, anon)?;
        }
        link_at.push(makes);
        kept.push(e);
    }
    *events = kept;
    // The links were only noted while resolving; `fold_people` makes them, in
    // event order.
    Ok(Resolved { f, link_at })
}

/// What [`resolve`] found, to be folded once the sessions are known.
pub struct Resolved<'a, E> {
    f: Folding<'a, E>,
    link_at: Vec<Vec<(String, String)>>,
}

/// Folds the resolved events into people's summaries, making the links in
/// event order. `starts[i]` says whether event `i` started a session.
pub fn fold_people<E>(
    resolved: Resolved<'_, E>,
    events: &[SessionEvent],
    starts: &[bool],
    maps: &HashMap<i64, CustomerEvents>,
) -> Result<People, E> {
    let Resolved { mut f, link_at } = resolved;
    let default_map = CustomerEvents::default();
    for (i, e) in events.iter().enumerate() {
        let p = e.project_id;
        for (alias, user) in &link_at[i] {
            f.link(p, alias, user, e.ts)?;
        }
        let (identified, person) = match (&e.person, &e.anonymous_id) {
            (Some(user), _) => (true, user.as_str()),
            (None, Some(anon)) => (false, anon.as_str()),
            (None, None) => continue,
        };
        let mut c = f
            .take(p, identified, person)?
            .unwrap_or_else(|| Box::new(Customer::new(p, identified, person, e.ts)));
        c.add_event(e, starts[i], maps.get(&p).unwrap_or(&default_map));
        f.put(c);
    }
    let mut out = f.out;
    out.customers = f.people.into_values().flatten().map(|c| *c).collect();
    // A row merged away and then made again in the same pass is kept.
    out.merged_away.retain(|(p, identified, person)| {
        !out.customers
            .iter()
            .any(|c| c.project_id == *p && c.identified == *identified && c.person == *person)
    });
    Ok(out)
}

/// How the metrics API orders people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    Sessions,
    Orders,
    Bookings,
    LastLogin,
    Registered,
}

impl SortBy {
    pub fn parse(s: &str) -> Option<SortBy> {
        Some(match s {
            "sessions" => SortBy::Sessions,
            "orders" => SortBy::Orders,
            "bookings" => SortBy::Bookings,
            "last_login" => SortBy::LastLogin,
            "registered" => SortBy::Registered,
            _ => return None,
        })
    }

    /// The column sorted on (each has an index).
    pub fn column(self) -> &'static str {
        match self {
            SortBy::Sessions => "total_sessions",
            SortBy::Orders => "total_orders",
            SortBy::Bookings => "total_bookings",
            SortBy::LastLogin => "last_login_at",
            SortBy::Registered => "registered_at",
        }
    }
}

/// One page of identified people.
#[derive(Clone, Debug)]
pub struct CustomerQuery {
    pub project_id: i64,
    pub sort_by: SortBy,
    pub descending: bool,
    /// Only people whose latest session started at or after this time.
    pub active_since: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// Seed 004's monitoring queries, over a project's sessions.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Monitoring {
    pub sessions: i64,
    pub ended_sessions: i64,
    pub active_sessions: i64,
    pub end_rate_percent: Option<f64>,
    pub avg_duration_minutes: Option<f64>,
    pub most_active_this_week: Vec<ActiveUser>,
}

impl Monitoring {
    pub fn from_counts(
        sessions: i64,
        ended: i64,
        avg_duration_ms: Option<f64>,
        most_active_this_week: Vec<ActiveUser>,
    ) -> Monitoring {
        let round2 = |x: f64| (x * 100.0).round() / 100.0;
        Monitoring {
            sessions,
            ended_sessions: ended,
            active_sessions: sessions - ended,
            end_rate_percent: (sessions > 0)
                .then(|| round2(100.0 * ended as f64 / sessions as f64)),
            avg_duration_minutes: avg_duration_ms.map(|ms| round2(ms / 60_000.0)),
            most_active_this_week,
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActiveUser {
    pub user_id: String,
    pub email: Option<String>,
    pub session_count: i64,
    pub last_session: i64,
}

/// What an erasure removed.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, ToSchema)]
pub struct Erased {
    /// The erasure's mark (see [`People::erasure_mark`]).
    #[serde(skip)]
    pub mark: i64,
    /// The user and every id linked to them, now refused for ever.
    pub ids: Vec<String>,
    pub events: u64,
    pub sessions: u64,
    pub customers: u64,
    pub identities: u64,
    /// CRM contacts deleted with their timelines, tasks and scores (found by
    /// the ids, and by the emails the person's summary and contacts carried).
    pub contacts: u64,
    /// Rows of the friction and error day tables that named the person.
    pub friction_rows: u64,
    /// When the erased events happened, first and last: exports whose range
    /// covers this span may hold the person and go too.
    #[serde(skip)]
    pub span: Option<(i64, i64)>,
}

impl Erased {
    /// Widens the span to cover an erased event at `ts`.
    pub fn saw(&mut self, ts: i64) {
        self.span = Some(match self.span {
            Some((first, last)) => (first.min(ts), last.max(ts)),
            None => (ts, ts),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, kind: &str, name: Option<&str>, body: &str) -> SessionEvent {
        SessionEvent {
            ts,
            kind: kind.into(),
            name: name.map(Into::into),
            body: Some(body.into()),
            ..Default::default()
        }
    }

    #[test]
    fn orders_bookings_and_traits_follow_the_mapping() {
        let map = CustomerEvents::default();
        let mut c = Customer::new(1, true, "u", 100);
        let order = r#"{"properties":{"total":"50,000","currency":"TZS"}}"#;
        c.add_event(
            &ev(200, "track", Some("Order Completed"), order),
            true,
            &map,
        );
        let older = r#"{"properties":{"revenue":10,"currency":"USD"}}"#;
        c.add_event(
            &ev(150, "track", Some("Order Completed"), older),
            false,
            &map,
        );
        let booking = r#"{"properties":{"service":"Repair Service","total_amount":5}}"#;
        c.add_event(
            &ev(300, "track", Some("booking.completed"), booking),
            false,
            &map,
        );
        let traits =
            r#"{"traits":{"email":"a@b.c","firstName":"Asha","createdAt":"2025-01-06T05:03:00Z"}}"#;
        c.add_event(&ev(50, "identify", None, traits), false, &map);
        assert_eq!((c.total_orders, c.total_bookings), (2, 1));
        assert_eq!(c.last_order_at, Some(200), "the latest by event time");
        assert_eq!(c.last_order_amount, Some(50_000.0));
        assert_eq!(c.last_order_currency.as_deref(), Some("TZS"));
        assert_eq!(c.total_revenue, 50_015.0);
        assert_eq!(c.last_booking_service.as_deref(), Some("Repair Service"));
        assert_eq!(c.email.as_deref(), Some("a@b.c"));
        assert_eq!(c.name.as_deref(), Some("Asha"));
        assert_eq!(c.registered_at, 1_736_139_780_000);
        assert_eq!(
            (c.first_seen_at, c.last_seen_at, c.total_events),
            (50, 300, 4)
        );
    }

    #[test]
    fn absorbing_is_the_same_as_counting_everything_in_one() {
        let map = CustomerEvents::default();
        let events = [
            (ev(10, "page", None, "{}"), true, "Chrome"),
            (
                ev(
                    15,
                    "identify",
                    None,
                    r#"{"traits":{"plan":"free","company":"Acme"}}"#,
                ),
                false,
                "Chrome",
            ),
            (
                ev(
                    20,
                    "track",
                    Some("Order Completed"),
                    r#"{"properties":{"revenue":5}}"#,
                ),
                false,
                "Chrome",
            ),
            (ev(30, "page", None, "{}"), true, "Firefox"),
            (
                ev(40, "track", Some("Product Reviewed"), "{}"),
                false,
                "Firefox",
            ),
            (
                ev(45, "identify", None, r#"{"traits":{"plan":"pro"}}"#),
                false,
                "Firefox",
            ),
            (ev(50, "page", None, "{}"), true, "Firefox"),
        ];
        let mut whole = Customer::new(1, true, "u", 10);
        let mut a = Customer::new(1, false, "a", 10);
        let mut b = Customer::new(1, true, "u", 30);
        for (i, (e, starts, browser)) in events.iter().enumerate() {
            let mut e = e.clone();
            e.browser = Some(browser.to_string());
            whole.add_event(&e, *starts, &map);
            if i < 3 { &mut a } else { &mut b }.add_event(&e, *starts, &map);
        }
        b.absorb(&a);
        b.identified = whole.identified;
        b.person = whole.person.clone();
        assert_eq!(b, whole);
        assert_eq!(whole.primary_browser.as_deref(), Some("Firefox"));
        assert_eq!((whole.total_sessions, whole.last_login_at), (3, Some(50)));
        assert_eq!(whole.properties.get("plan"), Some(&Value::from("pro")));
        assert_eq!(whole.properties.get("company"), Some(&Value::from("Acme")));
    }

    #[test]
    fn a_mapping_is_checked() {
        assert!(CustomerEvents::parse(r#"{"orders":[],"bookings":[],"reviews":[]}"#).is_ok());
        let e = CustomerEvents::parse(r#"{"orders":[{"event":""}],"bookings":[],"reviews":[]}"#);
        assert!(e.unwrap_err().contains("1 to 200"));
        let e = CustomerEvents::parse(r#"{"orders":[{"name":"x"}]}"#);
        assert!(e.unwrap_err().contains("\"orders\""));
        // Control characters are refused in every name; printable ones pass.
        for bad in [
            r#"Order\u0000Completed"#,
            r#"Order\tCompleted"#,
            r#"Order\u007f"#,
        ] {
            let json = format!(r#"{{"orders":[{{"event":"{bad}"}}],"bookings":[],"reviews":[]}}"#);
            let e = CustomerEvents::parse(&json).unwrap_err();
            assert!(e.contains("control characters"), "{bad}: {e}");
            let json = format!(
                r#"{{"orders":[],"bookings":[{{"event":"Booked","amount":["{bad}"]}}],"reviews":[]}}"#
            );
            let e = CustomerEvents::parse(&json).unwrap_err();
            assert!(e.contains("control characters"), "{bad} as a property: {e}");
        }
        assert!(
            CustomerEvents::parse(
                r#"{"orders":[{"event":"Order 'Completed' ✓"}],"bookings":[],"reviews":[]}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn body_names_leave_out_what_no_stored_event_can_be_named() {
        let names = crate::sessions::body_names(
            ["Order Completed", "Bad\0Name", "Order Completed", "A\tB"].into_iter(),
        );
        assert_eq!(
            names,
            vec!["$session_end".to_string(), "Order Completed".to_string()]
        );
    }
}
