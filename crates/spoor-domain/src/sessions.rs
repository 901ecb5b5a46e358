//! Sessions, derived from the event log by the sessions fold of the
//! derivation pipeline (in the server). The rules live here, apart from any backend:
//!
//! - A message's `context.sessionId` names its session. Messages without one
//!   (server-side senders) are grouped per user or anonymous id: a message
//!   within 30 minutes of that identity's latest such session continues it,
//!   any other starts one (named `identity@start`).
//! - A session starts at its earliest message and was last seen at its latest;
//!   its entry and exit pages are its earliest and latest page views; device,
//!   browser, OS, place and address come from its first message.
//! - A `$session_end` message ends it, with the reason in `properties.reason`
//!   (`sign_out`, `user_switch`, `page_unload`, `timeout`, `explicit`; seed
//!   004's `POST /api/analytics/session/end` sends `explicit`). An end is
//!   recorded once: a second end, or a late one, changes nothing, except that
//!   `page_unload` is provisional: the SDK sends it on every page leave, and a
//!   later message in the session (the next page of the same tab) reopens it.
//! - A session still open 30 minutes after its last message ends with reason
//!   `timeout`, at its last message; a later message in it reopens it too.
//! - Known crawlers' messages make no sessions (nor people: see
//!   `crate::customers`).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::customers::{Customer, CustomerEvents, People};

/// The maps the sessions fold works through, with a fast hasher: SipHash
/// was a tenth of a pass.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// What folding a pass reads of the derived state: the store itself, or the
/// sessions fold's working set over it (`spoor-store`'s `working_set`), whose
/// errors are its own.
pub trait DerivedReads {
    type Error;
    fn session(&self, project_id: i64, session_id: &str) -> Result<Option<Session>, Self::Error>;
    /// The identity's latest session derived by inactivity.
    fn latest_derived_session(
        &self,
        project_id: i64,
        identity: &str,
    ) -> Result<Option<Session>, Self::Error>;
    fn linked_user(&self, project_id: i64, id: &str) -> Result<Option<String>, Self::Error>;
    fn customer(
        &self,
        project_id: i64,
        identified: bool,
        person: &str,
    ) -> Result<Option<Customer>, Self::Error>;
    fn is_erased(&self, project_id: i64, id: &str) -> Result<bool, Self::Error>;
    fn erasure_mark(&self) -> Result<i64, Self::Error>;
}

/// The processor that makes sessions, by its cursor's name.
pub const SESSION_PROCESSOR: &str = "sessions";
/// Inactivity that ends a session, and that separates derived sessions.
pub const INACTIVITY_MS: i64 = 30 * 60_000;
pub use spoor_core::event::SESSION_END;

/// What the processor reads of an event.
#[derive(Clone, Debug, Default)]
pub struct SessionEvent {
    pub seq: i64,
    pub project_id: i64,
    pub ts: i64,
    pub received_at: i64,
    pub kind: String,
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub session_id: Option<String>,
    pub url: Option<String>,
    pub ip: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub device_type: Option<String>,
    /// A known crawler's: it makes no session and counts for no one.
    pub is_bot: bool,
    /// The message's JSON, read only where a rule needs it: `$session_end`
    /// (its reason), `identify` (traits), `alias` (previousId) and the events the
    /// project's customer mapping names (see [`body_names`]).
    pub body: Option<String>,
    /// The identified user this message counts for, once its ids are resolved
    /// (`crate::customers::resolve`): its user id, or the user its anonymous id
    /// or former id is linked to.
    pub person: Option<String>,
}

/// The track events whose bodies a sessions pass reads (besides `identify` and
/// `alias`, whose bodies it always reads): most events' bodies are not needed,
/// and reading them would cost the processor a copy and a parse each. `names`
/// are the track events the projects' customer mappings name. The backends bind
/// the list as one parameter, never as SQL text; a name no stored event can
/// carry (one with a control character, which PostgreSQL's text cannot even
/// hold when it is NUL) is left out, so that an old setting cannot make the
/// statement fail for every project.
pub fn body_names<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<&str> = names.filter(|n| !n.chars().any(char::is_control)).collect();
    names.push(SESSION_END);
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(str::to_string).collect()
}

impl SessionEvent {
    /// The identity that groups messages without a session id.
    pub fn identity(&self) -> Option<&str> {
        self.user_id.as_deref().or(self.anonymous_id.as_deref())
    }

    fn is_page(&self) -> bool {
        self.kind == "page"
    }

    /// The reason a `$session_end` gives, `explicit` when it gives none.
    pub fn end_reason(&self) -> Option<String> {
        if self.name.as_deref() != Some(SESSION_END) {
            return None;
        }
        let reason = self
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
            .and_then(|v| v["properties"]["reason"].as_str().map(str::to_string))
            .filter(|r| !r.is_empty() && r.len() <= 64);
        Some(reason.unwrap_or_else(|| "explicit".into()))
    }
}

/// How a pass writes a session back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Write {
    /// Every column: a new session, or one whose start, people or device changed.
    #[default]
    Whole,
    /// Only what a later message changes (last seen, end, pages, counts). An
    /// update that names fewer columns rewrites fewer of the table's indexes, and
    /// on SQLite each is a page written per message.
    Activity,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Session {
    #[serde(skip)]
    pub write: Write,
    pub project_id: i64,
    pub session_id: String,
    /// For sessions derived by inactivity: the user or anonymous id they group.
    pub identity: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
    pub entry_url: Option<String>,
    pub exit_url: Option<String>,
    pub pageviews: i64,
    pub events: i64,
    pub device_type: Option<String>,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub ip: Option<String>,
}

/// Whether an end reason stands. `page_unload` does not (the SDK sends it on
/// every page leave), nor `timeout` (Spoor's own conclusion from silence, which a
/// message that turns up later, within the session, disproves).
pub fn end_is_final(reason: &str) -> bool {
    reason != "page_unload" && reason != "timeout"
}

impl Session {
    /// A session that starts with this event.
    pub fn start(session_id: String, identity: Option<String>, e: &SessionEvent) -> Session {
        Session {
            project_id: e.project_id,
            session_id,
            identity,
            started_at: e.ts,
            last_seen_at: e.ts,
            device_type: e.device_type.clone(),
            browser: e.browser.clone(),
            browser_version: e.browser_version.clone(),
            os: e.os.clone(),
            os_version: e.os_version.clone(),
            country: e.country.clone(),
            region: e.region.clone(),
            city: e.city.clone(),
            ip: e.ip.clone(),
            ..Session::default()
        }
    }

    /// Adds one event, by the rules in this module's documentation.
    pub fn add(&mut self, e: &SessionEvent) {
        if e.ts < self.started_at {
            // A late first message: the device is the first message's.
            self.started_at = e.ts;
            self.device_type = e.device_type.clone().or(self.device_type.take());
            self.browser = e.browser.clone().or(self.browser.take());
            self.browser_version = e.browser_version.clone().or(self.browser_version.take());
            self.os = e.os.clone().or(self.os.take());
            self.os_version = e.os_version.clone().or(self.os_version.take());
            self.country = e.country.clone().or(self.country.take());
            self.region = e.region.clone().or(self.region.take());
            self.city = e.city.clone().or(self.city.take());
            self.ip = e.ip.clone().or(self.ip.take());
        }
        let latest = e.ts >= self.last_seen_at;
        self.last_seen_at = self.last_seen_at.max(e.ts);
        self.events += 1;
        if e.person.is_some() && (latest || self.user_id.is_none()) {
            self.user_id = e.person.clone();
        }
        if e.anonymous_id.is_some() && self.anonymous_id.is_none() {
            self.anonymous_id = e.anonymous_id.clone();
        }
        if e.is_page() {
            self.pageviews += 1;
            if e.url.is_some() {
                if self.entry_url.is_none() || e.ts <= self.started_at {
                    self.entry_url = e.url.clone();
                }
                if latest || self.exit_url.is_none() {
                    self.exit_url = e.url.clone();
                }
            }
        }
        match e.end_reason() {
            Some(reason) => {
                let replaces = match (&self.end_reason, self.ended_at) {
                    (Some(old), Some(_)) => !end_is_final(old) && (end_is_final(&reason) || latest),
                    _ => true,
                };
                if replaces {
                    self.ended_at = Some(e.ts);
                    self.end_reason = Some(reason);
                }
            }
            None => {
                // The next page of the same tab continues a page_unload end.
                let provisional = self.end_reason.as_deref().is_some_and(|r| !end_is_final(r));
                if provisional && self.ended_at.is_some_and(|t| e.ts > t) {
                    self.ended_at = None;
                    self.end_reason = None;
                }
            }
        }
    }

    /// Whether a message at `ts` without a session id continues this derived
    /// session.
    pub fn continues(&self, ts: i64) -> bool {
        ts >= self.started_at - INACTIVITY_MS && ts <= self.last_seen_at + INACTIVITY_MS
    }

    /// A digest of the columns a [`Write::Activity`] leaves alone: a session
    /// whose digest is unchanged needs only the activity columns written.
    fn fixed_digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            &self.identity,
            &self.user_id,
            &self.anonymous_id,
            self.started_at,
            &self.device_type,
            &self.browser,
            &self.os,
            &self.browser_version,
            &self.os_version,
        )
            .hash(&mut h);
        (&self.country, &self.region, &self.city, &self.ip).hash(&mut h);
        h.finish()
    }

    /// Duration in ms, once ended.
    pub fn duration_ms(&self) -> Option<i64> {
        self.ended_at.map(|end| end - self.started_at)
    }
}

/// What a pass folded: the sessions it touched, to be written whole, and for
/// each event whether it started a session.
pub struct Folded {
    pub sessions: Vec<Session>,
    pub starts: Vec<bool>,
}

/// Folds a pass's events into the sessions they touch, read from the store
/// or started.
pub fn fold<E>(store: &dyn DerivedReads<Error = E>, events: &[SessionEvent]) -> Result<Folded, E> {
    let mut starts = vec![false; events.len()];
    // Boxed, as the people are (`customers::resolve`): a slot for each event,
    // most of them empty, costs a pointer instead of a session's 450 bytes.
    let mut touched: FastMap<(i64, String), Box<Session>> =
        FastMap::with_capacity_and_hasher(events.len(), Default::default());
    // The fixed columns of each session read, to write back only what changed.
    let mut stored: FastMap<(i64, String), u64> =
        FastMap::with_capacity_and_hasher(events.len(), Default::default());
    // The latest derived session of each identity, as this pass leaves it.
    let mut derived: FastMap<(i64, String), String> = FastMap::default();
    for (i, e) in events.iter().enumerate() {
        let (session_id, identity) = match (&e.session_id, e.identity()) {
            (Some(id), _) => (id.clone(), None),
            (None, Some(identity)) => {
                let key = (e.project_id, identity.to_string());
                let latest = match derived.get(&key) {
                    Some(id) => touched
                        .get(&(e.project_id, id.clone()))
                        .map(|s| Session::clone(s)),
                    None => store.latest_derived_session(e.project_id, identity)?,
                };
                let id = match latest {
                    Some(s) if s.continues(e.ts) => s.session_id,
                    _ => format!("{identity}@{}", e.ts),
                };
                derived.insert(key, id.clone());
                (id, Some(identity.to_string()))
            }
            // Neither a session nor anyone to group by: no session.
            (None, None) => continue,
        };
        let key = (e.project_id, session_id.clone());
        if !touched.contains_key(&key) {
            let existing = store.session(e.project_id, &session_id)?;
            starts[i] = existing.is_none();
            if let Some(s) = &existing {
                stored.insert(key.clone(), s.fixed_digest());
            }
            let session = existing.unwrap_or_else(|| Session::start(session_id, identity, e));
            touched.insert(key.clone(), Box::new(session));
        }
        if let Some(session) = touched.get_mut(&key) {
            session.add(e);
        }
    }
    let sessions = touched
        .into_iter()
        .map(|(key, mut s)| {
            if stored
                .get(&key)
                .is_some_and(|&before| s.fixed_digest() == before)
            {
                s.write = Write::Activity;
            }
            *s
        })
        .collect();
    Ok(Folded { sessions, starts })
}

/// A whole pass: who each event counts for (events of erased people are
/// dropped), the sessions the events touch, then people's summaries (which need
/// to know what started a session). `maps` are the projects' customer-event
/// mappings (the default for a project without one).
pub fn fold_pass<E>(
    store: &dyn DerivedReads<Error = E>,
    mut events: Vec<SessionEvent>,
    maps: &HashMap<i64, CustomerEvents>,
) -> Result<(Vec<Session>, People), E> {
    let resolved = crate::customers::resolve(store, &mut events)?;
    let folded = fold(store, &events)?;
    let people = crate::customers::fold_people(resolved, &events, &folded.starts, maps)?;
    Ok((folded.sessions, people))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, kind: &str, name: Option<&str>, reason: Option<&str>) -> SessionEvent {
        SessionEvent {
            ts,
            kind: kind.into(),
            name: name.map(Into::into),
            url: Some(format!("https://a.example/{ts}")),
            body: reason.map(|r| format!(r#"{{"properties":{{"reason":"{r}"}}}}"#)),
            ..Default::default()
        }
    }

    #[test]
    fn ends_are_recorded_once_and_page_unload_is_provisional() {
        let mut s = Session::start("s".into(), None, &ev(100, "page", None, None));
        s.add(&ev(100, "page", None, None));
        s.add(&ev(200, "track", Some(SESSION_END), Some("page_unload")));
        assert_eq!(
            (s.ended_at, s.end_reason.as_deref()),
            (Some(200), Some("page_unload"))
        );
        s.add(&ev(300, "page", None, None));
        assert_eq!(s.ended_at, None, "the next page reopens it");
        s.add(&ev(400, "track", Some(SESSION_END), Some("sign_out")));
        s.add(&ev(500, "track", Some(SESSION_END), Some("explicit")));
        s.add(&ev(350, "track", Some(SESSION_END), None));
        assert_eq!(
            (s.ended_at, s.end_reason.as_deref()),
            (Some(400), Some("sign_out"))
        );
        assert_eq!(
            (s.pageviews, s.entry_url.as_deref()),
            (2, Some("https://a.example/100"))
        );
        assert_eq!(s.exit_url.as_deref(), Some("https://a.example/300"));
        assert_eq!(s.duration_ms(), Some(300));

        let mut t = Session::start("t".into(), None, &ev(100, "page", None, None));
        t.add(&ev(100, "page", None, None));
        t.ended_at = Some(100);
        t.end_reason = Some("timeout".into());
        t.add(&ev(150, "track", None, None));
        assert_eq!(t.ended_at, None, "a message after a timeout reopens it");
    }
}
