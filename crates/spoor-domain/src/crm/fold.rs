//! How a pass's events change contacts, timelines, tasks, scores and open
//! bookings (`fold`), and the event an abandoned booking stands for.

use super::*;

/// What a pass starts from: the stored state of everything its events touch.
#[derive(Clone, Debug, Default)]
pub struct CrmWorld {
    pub contacts: FastMap<String, Contact>,
    pub identities: FastMap<IdKey, String>,
    /// Anonymous visitors' stored scores.
    pub visitors: FastMap<(i64, String), f64>,
    /// Bookings opened in this pass.
    pub bookings: FastMap<String, OpenBooking>,
    /// Events already applied (project, message id).
    pub seen: FastSet<(i64, String)>,
    /// Statuses contacts reached in this pass (the store ignores one
    /// recorded twice, so earlier ones are not read).
    pub reached: FastSet<(String, String)>,
    /// Merged contacts and the contacts they were merged into.
    pub merged: FastMap<String, String>,
    /// The store's count of merges and erasures when this was read: a pass
    /// that finds it changed is read again (rows moved or went under it).
    pub merges: i64,
}

impl CrmWorld {
    /// The contact this world holds for an event: the one it names, or else
    /// the one its user id, its email or its anonymous id (the first of them
    /// known) leads to, after merges. None when that contact is not held: the
    /// fold then makes the person's contact, under [`new_contact_id`].
    pub fn existing_contact(&self, e: &CrmEvent, email: Option<&str>) -> Option<String> {
        let p = e.project_id;
        let lookup = |kind, v: &str| self.identities.get(&(p, kind, v.to_string())).cloned();
        e.contact_id
            .clone()
            .or_else(|| e.user_id.as_deref().and_then(|u| lookup(IdKind::User, u)))
            .or_else(|| email.and_then(|m| lookup(IdKind::Email, m)))
            .or_else(|| {
                e.anonymous_id
                    .as_deref()
                    .and_then(|a| lookup(IdKind::Anon, a))
            })
            .map(|id| self.merged.get(&id).cloned().unwrap_or(id))
            .filter(|id| self.contacts.contains_key(id))
    }
}

/// What a pass writes.
#[derive(Clone, Debug, Default)]
pub struct CrmDelta {
    /// Contacts to write, each with what is stored of it (none: a new one).
    pub contacts: Vec<(Contact, Option<Contact>)>,
    pub identities: Vec<(IdKey, String)>,
    pub activities: Vec<Activity>,
    pub tasks: Vec<Task>,
    pub scores: Vec<ScoreChange>,
    pub reached: Vec<(i64, String, String, i64)>,
    /// Bookings opened and closed, in event order.
    pub bookings: Vec<BookingChange>,
    /// Visitors' stored scores to write (`None`: the visitor became a contact).
    pub visitors: Vec<((i64, String), Option<f64>, i64)>,
    /// Messages applied that leave no timeline entry to say so: (project,
    /// message id, event time). See [`remembered`].
    pub applied: Vec<(i64, String, i64)>,
    /// The merge count the pass read, checked when it writes.
    pub merges: i64,
}

impl CrmDelta {
    /// Each booking the pass changed, as its last change left it: those open
    /// and those closed. The changes replace a whole row or remove it, so the
    /// last one per contact is the pass's effect, and a backend may write each
    /// kind in one statement instead of one statement per change in order.
    pub fn bookings_after(&self) -> (Vec<&OpenBooking>, Vec<(i64, &str)>) {
        let mut done: FastSet<(i64, &str)> = FastSet::default();
        let (mut open, mut closed) = (Vec::new(), Vec::new());
        for change in self.bookings.iter().rev() {
            match change {
                BookingChange::Open(b) => {
                    if done.insert((b.project_id, b.contact_id.as_str())) {
                        open.push(b);
                    }
                }
                BookingChange::Close(p, id) => {
                    if done.insert((*p, id.as_str())) {
                        closed.push((*p, id.as_str()));
                    }
                }
            }
        }
        (open, closed)
    }

    /// Each visitor's stored score as the pass's last change left it: scores
    /// to write (with their time), and visitors whose score goes (they became
    /// contacts). As with [`CrmDelta::bookings_after`], the last change per
    /// visitor is the pass's effect.
    #[allow(clippy::type_complexity)]
    pub fn visitors_after(&self) -> (Vec<(&(i64, String), f64, i64)>, Vec<&(i64, String)>) {
        let mut done: FastSet<&(i64, String)> = FastSet::default();
        let (mut scored, mut gone) = (Vec::new(), Vec::new());
        for (key, norm, at) in self.visitors.iter().rev() {
            if !done.insert(key) {
                continue;
            }
            match norm {
                Some(n) => scored.push((key, *n, *at)),
                None => gone.push(key),
            }
        }
        (scored, gone)
    }
}

/// Whether a pass looks up if this event was applied before, and remembers
/// it once applied: a message id can come again at any distance in the log
/// (resent with another timestamp), in a later pass than the first, and an
/// event applied twice must change nothing the second time. Events a rule or
/// a weight acts on are remembered by their timeline entry (or, for an
/// anonymous visitor's points, in `applied`); an event that sets a contact's
/// traits (a name, a phone) is remembered in `applied`, or its resending after
/// a later change would bring the old traits back. Any other event only moves
/// a contact's last activity to the later time, which is the same however
/// often it is applied.
pub fn remembered(config: &CrmConfig, e: &CrmEvent) -> bool {
    config.acts_on(e.event_name()) || !e.traits.is_empty()
}

/// The rules a pass applies, per project.
pub type Configs = HashMap<i64, CrmConfig>;

/// Folds a pass's events, in seq order, into the world, and returns what to
/// write. `now` stamps tasks' and contacts' update times. The contacts the
/// pass changed move from the world into the delta: the world is the pass's
/// (`crm_world` reads it for each), and the delta then holds them once.
pub fn fold(events: &[CrmEvent], configs: &Configs, world: &mut CrmWorld, now: i64) -> CrmDelta {
    let mut f = Folder {
        world,
        configs,
        now,
        touched: Vec::new(),
        touched_set: FastSet::default(),
        stored: FastMap::default(),
        created: FastSet::default(),
        delta: CrmDelta::default(),
    };
    for e in events {
        f.event(e);
    }
    f.finish()
}

struct Folder<'a> {
    world: &'a mut CrmWorld,
    configs: &'a Configs,
    now: i64,
    /// Contacts the pass changed, in the order first touched.
    touched: Vec<String>,
    touched_set: FastSet<String>,
    /// The stored rows of the contacts touched, as they were.
    stored: FastMap<String, Contact>,
    created: FastSet<String>,
    delta: CrmDelta,
}

impl Folder<'_> {
    fn event(&mut self, e: &CrmEvent) {
        let Some(config) = self.configs.get(&e.project_id) else {
            return;
        };
        if !self.world.seen.insert((e.project_id, e.message_id.clone())) {
            return;
        }
        let name = e.event_name();
        let props = &e.properties;
        let traits = &e.traits;
        let points: Vec<&Weight> = config
            .scoring
            .weights
            .iter()
            .filter(|w| w.event.has(name) && w.when.iter().all(|(p, c)| c.holds(props.get(p))))
            .collect();
        let Some(id) = self.contact_for(e, config) else {
            // An anonymous visitor: only a score.
            if let Some(anon) = &e.anonymous_id {
                let total: f64 = points.iter().map(|w| w.points).sum();
                if total != 0.0 {
                    let key = (e.project_id, anon.clone());
                    let stored = self.world.visitors.entry(key.clone()).or_insert(0.0);
                    *stored += total * config.scale(e.ts);
                    self.delta.visitors.push((key, Some(*stored), e.ts));
                    self.delta
                        .applied
                        .push((e.project_id, e.message_id.clone(), e.ts));
                }
            }
            return;
        };
        let contact = self
            .world
            .contacts
            .get_mut(&id)
            .expect("resolved contacts are loaded");
        contact.apply_traits(traits);
        contact.last_activity = Some(contact.last_activity.map_or(e.ts, |t| t.max(e.ts)));
        let rules: Vec<(usize, &Rule)> = config
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.event.has(name))
            .collect();
        if rules.is_empty() && points.is_empty() {
            if !traits.is_empty() {
                self.delta
                    .applied
                    .push((e.project_id, e.message_id.clone(), e.ts));
            }
            return;
        }
        let mut summary = None;
        let mut status_changes = Vec::new();
        let mut tasks = Vec::new();
        for (index, rule) in &rules {
            let text = rule
                .summary
                .as_deref()
                .map(|t| render(t, props))
                .unwrap_or_else(|| name.to_string());
            for (field, from) in &rule.set {
                if let Some(v) = from.first(props) {
                    contact.set(*field, v);
                }
            }
            for counter in &rule.increment {
                match counter {
                    Counter::TotalBookings => contact.total_bookings += 1,
                    Counter::WebsiteVisits => contact.website_visits += 1,
                }
            }
            if let Some(n) = rule
                .add_revenue
                .as_ref()
                .and_then(|p| p.first(props))
                .and_then(number)
            {
                contact.total_revenue += n;
            }
            if let Some(to) = &rule.set_status
                && config.allows(&contact.lead_status, to)
            {
                status_changes.push((
                    std::mem::replace(&mut contact.lead_status, to.clone()),
                    to.clone(),
                ));
            }
            if let Some(t) = &rule.task {
                tasks.push((format!("{}:rule:{index}", e.message_id), t));
            }
            summary = Some(text);
        }
        let mut score_note = Value::Null;
        let mut crossings = Vec::new();
        if !points.is_empty() {
            let total: f64 = points.iter().map(|w| w.points).sum();
            let scale = config.scale(e.ts);
            let before = contact.score_norm / scale;
            contact.score_norm += total * scale;
            let after = contact.score_norm / scale;
            let reason = points
                .iter()
                .map(|w| {
                    w.label
                        .clone()
                        .unwrap_or_else(|| w.event.names().join(" / "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            score_note =
                serde_json::json!({ "points": total, "score": (after * 100.0).round() / 100.0 });
            self.delta.scores.push(ScoreChange {
                project_id: e.project_id,
                contact_id: id.clone(),
                at: e.ts,
                delta: total,
                score: after,
                reason: reason.clone(),
            });
            if summary.is_none() {
                summary = Some(reason);
            }
            for t in &config.scoring.thresholds {
                if before < t.score && after >= t.score {
                    crossings.push((t, after));
                }
            }
        }
        let summary = summary.unwrap_or_else(|| name.to_string());
        contact.last_action = Some(summary.clone());
        let mut details = Value::Object(props.clone());
        if !score_note.is_null() {
            details["lead_score"] = score_note;
        }
        let mut entry = activity(e, &id, "event", summary, details);
        entry.message_id = Some(e.message_id.clone());
        self.delta.activities.push(entry);
        for (t, after) in crossings {
            self.delta.activities.push(activity(
                e,
                &id,
                "score",
                format!("Lead score reached {}", t.score),
                serde_json::json!({ "threshold": t.score, "score": after }),
            ));
            if let Some(task) = &t.task {
                tasks.push((format!("{}:score:{}", e.message_id, t.score), task));
            }
        }
        for (from, to) in status_changes {
            self.status_changed(e, &id, &from, &to);
        }
        for (key, t) in tasks {
            self.task(e, &id, key, t);
        }
        self.booking(e, &id, config, name, props);
    }

    /// The contact an event belongs to, created when the person is new and
    /// identified; the identities it carries are linked to it.
    fn contact_for(&mut self, e: &CrmEvent, config: &CrmConfig) -> Option<String> {
        let p = e.project_id;
        let email = e.email();
        let found = self.world.existing_contact(e, email.as_deref());
        let id = match found {
            Some(id) => id,
            None if e.user_id.is_some() || email.is_some() => {
                let id = new_contact_id(p, e.user_id.as_deref(), email.as_deref());
                let contact = Contact::new(id.clone(), p, config, e.ts);
                self.world.contacts.insert(id.clone(), contact);
                self.created.insert(id.clone());
                self.reach(p, &id, &config.initial_status, e.ts);
                id
            }
            None => return None,
        };
        self.touch(&id);
        let contact = self.world.contacts.get_mut(&id).expect("just found");
        if contact.user_id.is_none() {
            contact.user_id.clone_from(&e.user_id);
        }
        // Each identity goes to the first contact it was seen with: an email
        // another contact holds is a merge to make, not a link to move.
        for key in e.identities_with(email) {
            if !self.world.identities.contains_key(&key) {
                self.world.identities.insert(key.clone(), id.clone());
                if key.1 == IdKind::Anon {
                    self.adopt_visitor(&key, &id, e.ts);
                }
                self.delta.identities.push((key, id.clone()));
            }
        }
        Some(id)
    }

    /// An anonymous visitor who turned out to be a contact brings their score.
    fn adopt_visitor(&mut self, key: &IdKey, id: &str, at: i64) {
        let visitor = (key.0, key.2.clone());
        if let Some(stored) = self.world.visitors.remove(&visitor) {
            if let Some(c) = self.world.contacts.get_mut(id) {
                c.score_norm += stored;
            }
            self.delta.visitors.push((visitor, None, at));
        }
    }

    /// Notes a contact as changed by the pass, before its first change.
    fn touch(&mut self, id: &str) {
        if self.touched_set.insert(id.to_string()) {
            self.touched.push(id.to_string());
            if !self.created.contains(id)
                && let Some(c) = self.world.contacts.get(id)
            {
                self.stored.insert(id.to_string(), c.clone());
            }
        }
    }

    fn reach(&mut self, project_id: i64, id: &str, status: &str, at: i64) {
        if self
            .world
            .reached
            .insert((id.to_string(), status.to_string()))
        {
            self.delta
                .reached
                .push((project_id, id.to_string(), status.to_string(), at));
        }
    }

    fn status_changed(&mut self, e: &CrmEvent, id: &str, from: &str, to: &str) {
        self.reach(e.project_id, id, to, e.ts);
        let cause = e.event_name();
        self.delta.activities.push(activity(
            e,
            id,
            "status",
            format!("Lead status: {from} → {to} ({cause})"),
            serde_json::json!({ "from": from, "to": to, "cause": cause }),
        ));
    }

    fn task(&mut self, e: &CrmEvent, id: &str, source_key: String, t: &TaskTemplate) {
        let task = Task {
            id: format!(
                "task_{}",
                &spoor_core::secret::hash(&format!("{}\u{1f}{source_key}", e.project_id))[..24]
            ),
            project_id: e.project_id,
            contact_id: id.to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            priority: t.priority.as_str().into(),
            status: "open".into(),
            assignee: t.assignee.clone(),
            due_at: t.due_minutes.map(|m| e.ts + (m * 60_000.0) as i64),
            created_at: self.now,
            completed_at: None,
            source_key,
            source_event: Some(e.event_name().to_string()),
        };
        self.delta.activities.push(activity(
            e,
            id,
            "task",
            format!("Task created: {}", t.title),
            serde_json::json!({ "task_id": task.id, "priority": task.priority, "due_at": task.due_at }),
        ));
        self.delta.tasks.push(task);
    }

    fn booking(
        &mut self,
        e: &CrmEvent,
        id: &str,
        config: &CrmConfig,
        name: &str,
        props: &Map<String, Value>,
    ) {
        let a = &config.abandonment;
        if name == a.started {
            let b = OpenBooking {
                project_id: e.project_id,
                contact_id: id.to_string(),
                started_at: e.ts,
                message_id: e.message_id.clone(),
                properties: Value::Object(props.clone()).to_string(),
            };
            self.world.bookings.insert(id.to_string(), b.clone());
            self.delta.bookings.push(BookingChange::Open(b));
        } else if a.ends.iter().any(|n| n == name) {
            // Closed whether or not one is open: closing none changes nothing,
            // and the pass need not read which are.
            self.world.bookings.remove(id);
            self.delta
                .bookings
                .push(BookingChange::Close(e.project_id, id.to_string()));
        }
    }

    fn finish(mut self) -> CrmDelta {
        // Sized once: a contact and its stored row are the largest part of a
        // pass's memory, and a vector grown by doubling holds up to twice them.
        self.delta.contacts.reserve_exact(self.touched.len());
        // Moved out of the world, which goes with the fold: a copy held a
        // third contact for each one the pass changed until the write.
        for id in &self.touched {
            if let Some(mut c) = self.world.contacts.remove(id) {
                c.updated_at = self.now;
                self.delta.contacts.push((c, self.stored.remove(id)));
            }
        }
        self.delta.merges = self.world.merges;
        self.delta
    }
}

fn activity(e: &CrmEvent, id: &str, kind: &str, summary: String, details: Value) -> Activity {
    Activity {
        id: 0,
        project_id: e.project_id,
        contact_id: id.to_string(),
        at: e.ts,
        kind: kind.into(),
        event: Some(e.event_name().to_string()),
        summary,
        details,
        message_id: None,
    }
}

/// The event a booking left open too long stands for: the abandonment
/// rule's, on the booking's contact, with the booking's properties.
pub fn abandonment_event(b: &OpenBooking, config: &CrmConfig, now: i64) -> CrmEvent {
    let mut props = CrmEvent::object(&b.properties);
    props.insert(
        "reason".into(),
        Value::String(format!(
            "no completion within {} minutes",
            config.abandonment.after_minutes
        )),
    );
    props.insert("detected".into(), Value::String("timeout".into()));
    CrmEvent {
        project_id: b.project_id,
        received_at: now,
        ts: now,
        kind: "track".into(),
        name: Some(config.abandonment.apply.clone()),
        message_id: format!("abandoned:{}", b.message_id),
        properties: props,
        contact_id: Some(b.contact_id.clone()),
        ..CrmEvent::default()
    }
}
