//! What the CRM keeps: identities, contacts, timeline entries, tasks, score
//! changes, open bookings, and an event as the CRM reads it.

use super::*;

/// How a person is known: by user id, email or anonymous id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKind {
    User,
    Email,
    Anon,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::User => "user",
            IdKind::Email => "email",
            IdKind::Anon => "anon",
        }
    }

    pub fn parse(s: &str) -> Option<IdKind> {
        match s {
            "user" => Some(IdKind::User),
            "email" => Some(IdKind::Email),
            "anon" => Some(IdKind::Anon),
            _ => None,
        }
    }
}

/// An identity: (project, kind, value).
pub type IdKey = (i64, IdKind, String);

/// The id a new contact gets: derived from the person's user id (or email),
/// so that seed 003's route can answer a contact id before the processor has
/// read the event, and the processor creates the contact under that id.
pub fn new_contact_id(project_id: i64, user_id: Option<&str>, email: Option<&str>) -> String {
    let (kind, value) = match (user_id, email) {
        (Some(u), _) => (IdKind::User, u),
        (None, Some(e)) => (IdKind::Email, e),
        (None, None) => (IdKind::Anon, ""),
    };
    let digest =
        spoor_core::secret::hash(&format!("{project_id}\u{1f}{}\u{1f}{value}", kind.as_str()));
    format!("contact_{}", &digest[..24])
}

/// How contacts are matched by email; defined beside the CRM route's
/// translation, which needs it too.
pub use spoor_core::seed::crm::normal_email;

/// A contact, as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contact {
    pub id: String,
    pub project_id: i64,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub lead_source: String,
    pub lead_status: String,
    pub last_activity: Option<i64>,
    pub last_action: Option<String>,
    pub last_vehicle_viewed: Option<String>,
    pub last_search_location: Option<String>,
    pub estimated_deal_value: Option<f64>,
    pub total_bookings: i64,
    pub total_revenue: f64,
    pub website_visits: i64,
    /// The score scaled to [`SCORE_EPOCH_MS`] (see the module's notes).
    pub score_norm: f64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Contact {
    /// A new contact under `config`'s lead source and first status, made at `at`.
    pub fn new(id: String, project_id: i64, config: &CrmConfig, at: i64) -> Contact {
        Contact {
            id,
            project_id,
            user_id: None,
            email: None,
            first_name: None,
            last_name: None,
            phone: None,
            lead_source: config.lead_source.clone(),
            lead_status: config.initial_status.clone(),
            last_activity: None,
            last_action: None,
            last_vehicle_viewed: None,
            last_search_location: None,
            estimated_deal_value: None,
            total_bookings: 0,
            total_revenue: 0.0,
            website_visits: 0,
            score_norm: 0.0,
            created_at: at,
            updated_at: at,
        }
    }

    /// The full name, from the parts there are.
    pub fn name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The score at `now`.
    pub fn score(&self, config: &CrmConfig, now: i64) -> f64 {
        self.score_norm / config.scale(now)
    }

    /// What contacts are searched by: name, email, phone and user id,
    /// lowercase. `changed_columns` works it out only when one of those
    /// changed: a field added here goes into its check too.
    pub fn search_text(&self) -> String {
        [
            self.name().unwrap_or_default(),
            self.email.clone().unwrap_or_default(),
            self.phone.clone().unwrap_or_default(),
            self.user_id.clone().unwrap_or_default(),
        ]
        .join(" ")
        .to_lowercase()
    }

    fn set_name(&mut self, name: &str) {
        let name = name.trim();
        match name.split_once(char::is_whitespace) {
            Some((first, last)) => {
                self.first_name = Some(first.to_string());
                self.last_name = Some(last.trim().to_string());
            }
            None if !name.is_empty() => {
                self.first_name = Some(name.to_string());
                self.last_name = None;
            }
            None => {}
        }
    }

    pub(super) fn set(&mut self, field: Field, v: &Value) {
        let t = text(v);
        match field {
            Field::FirstName => self.first_name = t.or(self.first_name.take()),
            Field::LastName => self.last_name = t.or(self.last_name.take()),
            Field::Name => {
                if let Some(n) = t {
                    self.set_name(&n);
                }
            }
            Field::Phone => self.phone = t.or(self.phone.take()),
            Field::LeadSource => {
                if let Some(s) = t {
                    self.lead_source = s;
                }
            }
            Field::LastVehicleViewed => {
                self.last_vehicle_viewed = t.or(self.last_vehicle_viewed.take())
            }
            Field::LastSearchLocation => {
                self.last_search_location = t.or(self.last_search_location.take())
            }
            Field::EstimatedDealValue => {
                if let Some(n) = number(v) {
                    self.estimated_deal_value = Some(n);
                }
            }
        }
    }

    /// Traits from `identify` (or a track's context): name, email, phone.
    pub(super) fn apply_traits(&mut self, traits: &Map<String, Value>) {
        let get = |names: &[&str]| names.iter().find_map(|n| traits.get(*n).and_then(text));
        if let Some(first) = get(&["first_name", "firstName"]) {
            self.first_name = Some(first);
            if let Some(last) = get(&["last_name", "lastName"]) {
                self.last_name = Some(last);
            }
        } else if let Some(name) = get(&["name"]) {
            self.set_name(&name);
        }
        if let Some(phone) = get(&["phone"]) {
            self.phone = Some(phone);
        }
        if self.email.is_none() {
            self.email = get(&["email"]).and_then(|e| normal_email(&e));
        }
    }
}

/// The stored columns whose values differ between two versions of a contact
/// (`sort_name` and `search` follow the name, email, phone and user id), so
/// that an update rewrites only the index entries that changed.
pub fn changed_columns(old: &Contact, new: &Contact) -> Vec<&'static str> {
    let mut cols = Vec::new();
    let mut check = |changed: bool, col: &'static str| {
        if changed {
            cols.push(col);
        }
    };
    check(old.user_id != new.user_id, "user_id");
    check(old.email != new.email, "email");
    check(old.first_name != new.first_name, "first_name");
    check(old.last_name != new.last_name, "last_name");
    check(old.phone != new.phone, "phone");
    check(old.lead_source != new.lead_source, "lead_source");
    check(old.lead_status != new.lead_status, "lead_status");
    check(old.last_activity != new.last_activity, "last_activity");
    check(old.last_action != new.last_action, "last_action");
    check(
        old.last_vehicle_viewed != new.last_vehicle_viewed,
        "last_vehicle_viewed",
    );
    check(
        old.last_search_location != new.last_search_location,
        "last_search_location",
    );
    check(
        old.estimated_deal_value != new.estimated_deal_value,
        "estimated_deal_value",
    );
    check(old.total_bookings != new.total_bookings, "total_bookings");
    check(old.total_revenue != new.total_revenue, "total_revenue");
    check(old.website_visits != new.website_visits, "website_visits");
    check(old.score_norm != new.score_norm, "score_norm");
    check(old.created_at != new.created_at, "created_at");
    check(old.updated_at != new.updated_at, "updated_at");
    // The two derived columns follow from these; each is worked out (two
    // strings built and lowercased) only when one it is made of moved.
    let named = old.first_name != new.first_name
        || old.last_name != new.last_name
        || old.email != new.email;
    check(named && sort_name(old) != sort_name(new), "sort_name");
    let found = named || old.phone != new.phone || old.user_id != new.user_id;
    check(found && old.search_text() != new.search_text(), "search");
    cols
}

/// A timeline entry.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[schema(as = TimelineEntry)]
pub struct Activity {
    pub id: i64,
    #[serde(skip)]
    pub project_id: i64,
    #[serde(skip)]
    pub contact_id: String,
    pub at: i64,
    /// `event`, `status`, `task`, `score` or `merge`.
    pub kind: String,
    pub event: Option<String>,
    pub summary: String,
    pub details: Value,
    #[serde(skip)]
    pub message_id: Option<String>,
}

/// A follow-up task.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Task {
    pub id: String,
    #[serde(skip)]
    pub project_id: i64,
    pub contact_id: String,
    pub title: String,
    pub description: Option<String>,
    pub priority: String,
    pub status: String,
    pub assignee: Option<String>,
    pub due_at: Option<i64>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    /// What created it, so that the same cause never creates it twice.
    #[serde(skip)]
    pub source_key: String,
    pub source_event: Option<String>,
}

/// A change of a contact's score.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ScoreChange {
    #[serde(skip)]
    pub project_id: i64,
    #[serde(skip)]
    pub contact_id: String,
    pub at: i64,
    pub delta: f64,
    /// The score just after, at `at`.
    pub score: f64,
    pub reason: String,
}

/// A score change that took a contact's score to a lead-score alert's
/// threshold or over it, from below.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreCrossing {
    /// The change's place in the score history (a rule's watermark).
    #[serde(skip)]
    pub id: i64,
    pub contact_id: String,
    pub email: Option<String>,
    pub name: String,
    pub at: i64,
    pub score: f64,
    pub reason: String,
}

/// A booking that started and has not ended.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenBooking {
    pub project_id: i64,
    pub contact_id: String,
    pub started_at: i64,
    pub message_id: String,
    pub properties: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BookingChange {
    Open(OpenBooking),
    /// (project, contact)
    Close(i64, String),
}

/// An event as the CRM processor reads it.
#[derive(Clone, Debug, Default)]
pub struct CrmEvent {
    pub seq: i64,
    pub project_id: i64,
    pub received_at: i64,
    pub ts: i64,
    /// `track`, `page` or `identify`.
    pub kind: String,
    pub name: Option<String>,
    pub message_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub properties: Map<String, Value>,
    /// `identify`'s traits or a track's `context.traits`.
    pub traits: Map<String, Value>,
    /// Set for the events the processor makes itself (abandonment), which
    /// belong to a known contact.
    pub contact_id: Option<String>,
}

impl CrmEvent {
    /// The name rules and weights match: a track's name, `page.viewed` for a
    /// page view, `identify` for an identify.
    pub fn event_name(&self) -> &str {
        match self.kind.as_str() {
            "page" => "page.viewed",
            "identify" => "identify",
            _ => self.name.as_deref().unwrap_or(""),
        }
    }

    /// Takes the properties and traits from a stored message's body: one
    /// parse, which skips the rest of the body without keeping it.
    pub fn read_body(&mut self, body: &str) {
        self.read_value(&serde_json::from_str(body).unwrap_or(Value::Null));
    }

    /// Takes properties and traits from the decoded body.
    pub fn read_value(&mut self, body: &Value) {
        let object = |v: Option<&Value>| match v {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        self.properties = object(body.get("properties"));
        self.traits = object(if self.kind == "identify" {
            body.get("traits")
        } else {
            body.get("context").and_then(|c| c.get("traits"))
        });
    }

    pub(super) fn object(json: &str) -> Map<String, Value> {
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    pub fn email(&self) -> Option<String> {
        self.traits
            .get("email")
            .and_then(Value::as_str)
            .and_then(normal_email)
    }

    /// The identities the fold looks up for this event, given its email
    /// (read once from the traits by the caller).
    pub fn identities_with(&self, email: Option<String>) -> Vec<IdKey> {
        let mut keys = Vec::new();
        if let Some(u) = &self.user_id {
            keys.push((self.project_id, IdKind::User, u.clone()));
        }
        if let Some(e) = email {
            keys.push((self.project_id, IdKind::Email, e));
        }
        if let Some(a) = &self.anonymous_id {
            keys.push((self.project_id, IdKind::Anon, a.clone()));
        }
        keys
    }
}
