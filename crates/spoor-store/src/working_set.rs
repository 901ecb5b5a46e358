//! The sessions processor's working set: the sessions, people and identity
//! links it has read or derived lately, kept in memory, and what it derived
//! since it last wrote, written in one transaction when a flush is due.
//!
//! Why: folding a message reads its session, its person and its ids' links,
//! and writes the session and the person back. Done against the store, that is
//! four statements a message, and every pass's commit rewrites pages all over
//! the two tables; measured on SQLite, about 50 µs a message. Here passes
//! read and change memory only, and a flush writes each changed row once,
//! however many messages changed it since the last flush.
//!
//! The store stays the truth for everything else. The processor is the only
//! writer of these tables, but not of every row change:
//!
//! - A link (anonymous id → user) moves the alias's stored sessions to the user
//!   (in SQL, at the flush); the same change is made to the sessions held here.
//! - The inactivity timeout ends idle sessions in SQL after a flush, and here.
//! - An erasure deletes rows: the flush that follows it is refused (the erasure
//!   mark moved), and the processor drops everything held and reads its stored
//!   cursor again, so nothing it held is written back.
//! - A rebuild, or the lease moving to another node and back, also drops it all.
//!
//! Unflushed work is never lost: the cursor moves only with the flush, so after
//! a crash the messages since the last flush are read and folded again.

use std::cell::RefCell;

use crate::analytics::Cursor;
use crate::customers::{Customer, Link, People};
use crate::sessions::{FastMap, FastSet, Session, Write};
use crate::{Store, StoreError, StoreResult};

pub use crate::sessions::DerivedReads;

impl DerivedReads for Store {
    type Error = StoreError;

    fn session(&self, project_id: i64, session_id: &str) -> StoreResult<Option<Session>> {
        crate::backend::SessionStore::session(&**self, project_id, session_id)
    }
    fn latest_derived_session(
        &self,
        project_id: i64,
        identity: &str,
    ) -> StoreResult<Option<Session>> {
        crate::backend::SessionStore::latest_derived_session(&**self, project_id, identity)
    }
    fn linked_user(&self, project_id: i64, id: &str) -> StoreResult<Option<String>> {
        crate::backend::CustomerStore::linked_user(&**self, project_id, id)
    }
    fn customer(
        &self,
        project_id: i64,
        identified: bool,
        person: &str,
    ) -> StoreResult<Option<Customer>> {
        crate::backend::CustomerStore::customer(&**self, project_id, identified, person)
    }
    fn is_erased(&self, project_id: i64, id: &str) -> StoreResult<bool> {
        crate::backend::CustomerStore::is_erased(&**self, project_id, id)
    }
    fn erasure_mark(&self) -> StoreResult<i64> {
        crate::backend::CustomerStore::erasure_mark(&**self)
    }
}

pub type SessionKey = (i64, String);
pub type PersonKey = (i64, bool, String);

/// People held by default (see [`WorkingSet::new`]): with their sessions,
/// links and index entries, about 5 KB each as measured (RSS), so 50 MB.
pub const DEFAULT_PEOPLE: usize = 10_000;

/// Rows are boxed: a map keeps the slots it grew to (up to twice its
/// entries), and an empty slot then costs a pointer, not a row's 450 bytes.
#[derive(Default)]
struct Held {
    /// Sessions as the processor last left them (None: known not to exist).
    sessions: FastMap<SessionKey, Option<Box<Session>>>,
    /// The latest derived session of each (project, identity), by session id.
    latest_derived: FastMap<SessionKey, Option<String>>,
    /// Held sessions by their anonymous id and by their user id, for links.
    by_id: FastMap<SessionKey, Vec<String>>,
    links: FastMap<SessionKey, Option<String>>,
    /// The users some held link leads to.
    linked_to: FastSet<SessionKey>,
    people: FastMap<PersonKey, Option<Box<Customer>>>,
}

/// The stored rows a pass will look up, to read them all at once
/// ([`WorkingSet::prefetch`]).
#[derive(Debug, Default)]
pub struct Keys {
    pub sessions: Vec<SessionKey>,
    /// Ids whose link to a user is looked up.
    pub links: Vec<SessionKey>,
    pub people: Vec<PersonKey>,
}

/// What the store holds of [`Keys`]: the rows that exist.
#[derive(Debug, Default)]
pub struct Rows {
    pub sessions: Vec<Session>,
    /// (project, id) and the user it is linked to.
    pub links: Vec<(SessionKey, String)>,
    pub people: Vec<Customer>,
}

#[derive(Default)]
struct Pending {
    /// Sessions changed since the flush, and whether any column other than
    /// the activity ones changed.
    sessions: FastMap<SessionKey, bool>,
    people: FastSet<PersonKey>,
    merged_away: Vec<(i64, bool, String)>,
    links: Vec<Link>,
    /// Where the next pass starts; set while there is unflushed work.
    cursor: Option<Cursor>,
}

/// The working set. Reads go through [`WorkingSet::reads`].
pub struct WorkingSet {
    held: RefCell<Held>,
    pending: Pending,
    /// The erasure mark the held rows, and the unflushed work, were read under.
    mark: Option<i64>,
    /// People held at most once flushed; sessions and links in proportion.
    people: usize,
}

impl WorkingSet {
    /// A set that holds about `people` people, with their sessions and links,
    /// between flushes; a flush is due once that many people changed. What
    /// does not fit is read from the store when needed: a set smaller than the
    /// people active at once costs the processor reads, not correctness.
    pub fn new(people: usize) -> WorkingSet {
        WorkingSet {
            held: RefCell::default(),
            pending: Pending::default(),
            mark: None,
            people: people.max(1),
        }
    }

    /// Reads the stored rows a pass's events will look up and that are not
    /// held, in a few statements (`Store::derived_rows`), and holds them (or
    /// that they do not exist): on PostgreSQL a pass then makes a round trip
    /// per table instead of one per row. Returns the erasure mark read before
    /// the rows: a pass whose fold saw another mark must not be kept (an
    /// erasure may have come between the read and the fold).
    ///
    /// Two reads: the ids' links and the sessions first, then the people the
    /// links say the fold takes. A visitor already linked to a user
    /// has no row of their own (the link merged it away), and a returning
    /// event's visitor is linked: looking their row up for every event was a
    /// B-tree search in five that found nothing.
    pub fn prefetch(
        &mut self,
        store: &Store,
        events: &[crate::sessions::SessionEvent],
    ) -> StoreResult<i64> {
        let mark = store.erasure_mark()?;
        let mut keys = Keys::default();
        {
            let held = self.held.get_mut();
            let mut seen_links: FastSet<SessionKey> = FastSet::default();
            let mut seen_sessions: FastSet<SessionKey> = FastSet::default();
            for e in events {
                let p = e.project_id;
                for id in [&e.anonymous_id, &e.user_id].into_iter().flatten() {
                    let key = (p, id.clone());
                    if !held.links.contains_key(&key) && seen_links.insert(key.clone()) {
                        keys.links.push(key);
                    }
                }
                if let Some(sid) = &e.session_id {
                    let key = (p, sid.clone());
                    if !held.sessions.contains_key(&key) && seen_sessions.insert(key.clone()) {
                        keys.sessions.push(key);
                    }
                }
            }
        }
        self.hold(store, keys)?;
        // What `customers::resolve` and `fold_people` take, by the links now
        // held: the user an id leads to, and a visitor's own rows only while
        // no link leads them elsewhere (as a visitor, and as a former user id
        // when the event links them).
        let mut keys = Keys::default();
        {
            let held = self.held.get_mut();
            let mut seen_people: FastSet<PersonKey> = FastSet::default();
            for e in events {
                let p = e.project_id;
                let linked = |id: &String| -> Option<String> {
                    held.links.get(&(p, id.clone())).cloned().flatten()
                };
                let mut want = |key: PersonKey| {
                    if !held.people.contains_key(&key) && seen_people.insert(key.clone()) {
                        keys.people.push(key);
                    }
                };
                match (&e.user_id, &e.anonymous_id) {
                    (Some(user), anon) => {
                        let user = linked(user).unwrap_or_else(|| user.clone());
                        if let Some(anon) = anon.as_ref().filter(|a| **a != user)
                            && linked(anon).is_none()
                        {
                            want((p, false, anon.clone()));
                            want((p, true, anon.clone()));
                        }
                        want((p, true, user));
                    }
                    (None, Some(anon)) => match linked(anon) {
                        Some(user) => want((p, true, user)),
                        None => want((p, false, anon.clone())),
                    },
                    (None, None) => {}
                }
            }
        }
        self.hold(store, keys)?;
        Ok(mark)
    }

    /// Reads `keys` from the store and holds what it found, and that the rest
    /// does not exist.
    fn hold(&mut self, store: &Store, keys: Keys) -> StoreResult<()> {
        if keys.sessions.is_empty() && keys.links.is_empty() && keys.people.is_empty() {
            return Ok(());
        }
        let rows = store.derived_rows(&keys)?;
        let held = self.held.get_mut();
        let mut links: FastMap<SessionKey, Option<String>> =
            keys.links.into_iter().map(|k| (k, None)).collect();
        for (key, user) in rows.links {
            links.insert(key, Some(user));
        }
        held.links.extend(links);
        let mut people: FastMap<PersonKey, Option<Box<Customer>>> =
            keys.people.into_iter().map(|k| (k, None)).collect();
        for c in rows.people {
            people.insert(
                (c.project_id, c.identified, c.person.clone()),
                Some(Box::new(c)),
            );
        }
        held.people.extend(people);
        let mut sessions: FastMap<SessionKey, Option<Box<Session>>> =
            keys.sessions.into_iter().map(|k| (k, None)).collect();
        for mut s in rows.sessions {
            // As a session read one at a time is (see `Reads::session`).
            follow_links(&held.links, &mut s);
            index_ids(&mut held.by_id, &s);
            sessions.insert((s.project_id, s.session_id.clone()), Some(Box::new(s)));
        }
        held.sessions.extend(sessions);
        Ok(())
    }

    /// Reads over this set and `store`: what is held answers, the rest is read
    /// from the store and held.
    pub fn reads<'a>(&'a self, store: &'a Store) -> Reads<'a> {
        Reads { set: self, store }
    }

    /// Where the next pass starts: after the unflushed work, or (None) at the
    /// store's cursor.
    pub fn cursor(&self) -> Option<Cursor> {
        self.pending.cursor
    }

    /// Whether there is folded work not yet written.
    pub fn has_unflushed(&self) -> bool {
        self.pending.cursor.is_some()
    }

    /// Forgets everything, unflushed work included (its messages are read
    /// again from the stored cursor).
    pub fn clear(&mut self) {
        *self = WorkingSet::new(self.people);
    }

    /// Whether enough people changed that a flush is due, to keep the set
    /// within its size.
    pub fn full(&self) -> bool {
        self.pending.people.len() >= self.people
    }

    /// Takes a pass's result: its sessions and people become what is held, and
    /// are written at the next flush with the cursor `next`.
    /// Refused (`Conflict`) when a person was erased since the unflushed work
    /// was folded; the caller then clears the set.
    pub fn keep(
        &mut self,
        next: Cursor,
        sessions: Vec<Session>,
        people: People,
    ) -> StoreResult<()> {
        let held = self.held.get_mut();
        let pending = &mut self.pending;
        if self.mark.replace(people.erasure_mark) != Some(people.erasure_mark) {
            if pending.cursor.is_some() {
                return Err(StoreError::Conflict(
                    "a person was erased while the working set held unwritten work".into(),
                ));
            }
            // An erasure since the set last took a pass: what it holds (all of it
            // written) may be an erased person's, and is not kept in memory
            // either. This pass's rows stay.
            *held = Held::default();
        }
        pending.cursor = Some(next);
        for s in sessions {
            let key = (s.project_id, s.session_id.clone());
            let whole = s.write == Write::Whole;
            *pending.sessions.entry(key.clone()).or_default() |= whole;
            if let Some(identity) = &s.identity {
                let latest = held
                    .latest_derived
                    .entry((s.project_id, identity.clone()))
                    .or_default();
                let newer = match latest.as_ref().and_then(|id| {
                    held.sessions
                        .get(&(s.project_id, id.clone()))
                        .and_then(Option::as_ref)
                }) {
                    Some(other) => {
                        other.session_id == s.session_id || s.last_seen_at >= other.last_seen_at
                    }
                    None => true,
                };
                if newer {
                    *latest = Some(s.session_id.clone());
                }
            }
            if whole {
                index_ids(&mut held.by_id, &s);
            }
            held.sessions.insert(key, Some(Box::new(s)));
        }
        for c in people.customers {
            let key = (c.project_id, c.identified, c.person.clone());
            pending.people.insert(key.clone());
            held.people.insert(key, Some(Box::new(c)));
        }
        for key in people.merged_away {
            pending.people.remove(&key);
            held.people.insert(key.clone(), None);
            pending.merged_away.push(key);
        }
        for link in people.links {
            link_held(held, &link);
            pending.links.push(link);
        }
        Ok(())
    }

    /// Writes the unflushed work and the cursor in one transaction. Refused
    /// (`Conflict`) when a person was erased since it was folded; the caller
    /// then clears the set.
    pub fn flush(&mut self, store: &Store, name: &str) -> StoreResult<()> {
        let Some(cursor) = self.pending.cursor else {
            return Ok(());
        };
        self.flush_with(|held| match held {
            Some((sessions, people)) => store.put_sessions(name, cursor, sessions, people),
            None => Ok(()),
        })
    }

    /// Hands the unflushed work (`None` when there is none) to `write`, which
    /// writes it in its transaction (the pipeline's, with every other fold's
    /// work); once that succeeded, the set counts it as written.
    pub fn flush_with<T>(
        &mut self,
        write: impl FnOnce(Option<(&[Session], &People)>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        if self.pending.cursor.is_none() {
            return write(None);
        }
        let held = self.held.get_mut();
        let pending = std::mem::take(&mut self.pending);
        // The rows are moved out of the set for the write and back after it:
        // copying them cost the flush as much as the statements did.
        let mut sessions = Vec::with_capacity(pending.sessions.len());
        for (key, whole) in pending.sessions {
            if let Some(Some(mut s)) = held.sessions.remove(&key) {
                s.write = if whole { Write::Whole } else { Write::Activity };
                sessions.push(*s);
            }
        }
        let customers: Vec<Customer> = pending
            .people
            .iter()
            .filter_map(|key| held.people.remove(key).flatten().map(|c| *c))
            .collect();
        let kept: FastSet<(i64, bool, &str)> = customers
            .iter()
            .map(|c| (c.project_id, c.identified, c.person.as_str()))
            .collect();
        // A row merged away and made again since is kept (its row is written
        // before the deletes run).
        let merged_away = pending
            .merged_away
            .into_iter()
            .filter(|(p, identified, person)| !kept.contains(&(*p, *identified, person.as_str())))
            .collect();
        drop(kept);
        let people = People {
            customers,
            merged_away,
            links: pending.links,
            erasure_mark: self.mark.unwrap_or_default(),
        };
        let written = write(Some((&sessions, &people)));
        for s in sessions {
            held.sessions
                .insert((s.project_id, s.session_id.clone()), Some(Box::new(s)));
        }
        for c in people.customers {
            held.people.insert(
                (c.project_id, c.identified, c.person.clone()),
                Some(Box::new(c)),
            );
        }
        let written = written?;
        // Everything held is now in the store: the set can forget what does not
        // fit (any of it; the rest is read again when needed), and the people
        // it knew to be gone, whose rows the flush deleted.
        held.people.retain(|_, c| c.is_some());
        let cap = self.people;
        shrink(&mut held.people, cap);
        shrink(&mut held.sessions, cap);
        shrink(&mut held.latest_derived, cap);
        shrink(&mut held.links, 2 * cap);
        shrink(&mut held.by_id, 2 * cap);
        if held.linked_to.len() > 2 * cap {
            // Any superset of the held links' users will do: made again from them.
            held.linked_to = held
                .links
                .iter()
                .filter_map(|((p, _), user)| user.as_ref().map(|u| (*p, u.clone())))
                .collect();
        }
        Ok(written)
    }

    /// What the inactivity timeout did in the store, done to the sessions held.
    pub fn end_idle(&mut self, last_seen_before: i64) {
        for s in self.held.get_mut().sessions.values_mut().flatten() {
            if s.ended_at.is_none() && s.last_seen_at < last_seen_before {
                s.ended_at = Some(s.last_seen_at);
                s.end_reason = Some("timeout".into());
            }
        }
    }
}

/// Drops entries (whichever come first in the map's order, which its random
/// hasher makes arbitrary) until at most `cap` are left.
fn shrink<K, V>(map: &mut FastMap<K, V>, cap: usize) {
    if map.len() > cap {
        let mut kept = 0;
        map.retain(|_, _| {
            kept += 1;
            kept <= cap
        });
    }
}

fn index_ids(by_id: &mut FastMap<SessionKey, Vec<String>>, s: &Session) {
    for id in [&s.anonymous_id, &s.user_id].into_iter().flatten() {
        let list = by_id.entry((s.project_id, id.clone())).or_default();
        if !list.contains(&s.session_id) {
            list.push(s.session_id.clone());
        }
    }
}

/// A link made: held ids that led to the alias lead to the user, and the
/// alias's held sessions are the user's (what the flush does in the store).
fn link_held(held: &mut Held, link: &Link) {
    let p = link.project_id;
    held.links
        .insert((p, link.alias_id.clone()), Some(link.user_id.clone()));
    // Only when some held id leads to the alias (a former user id, after
    // `alias`): looking at every link for each made flushes quadratic.
    if held.linked_to.contains(&(p, link.alias_id.clone())) {
        for (key, v) in held.links.iter_mut() {
            if key.0 == p && v.as_deref() == Some(link.alias_id.as_str()) {
                *v = Some(link.user_id.clone());
            }
        }
    }
    held.linked_to.insert((p, link.user_id.clone()));
    let ids = held
        .by_id
        .get(&(p, link.alias_id.clone()))
        .cloned()
        .unwrap_or_default();
    for session_id in ids {
        if let Some(Some(s)) = held.sessions.get_mut(&(p, session_id)) {
            // Not made pending: the flush's link statements make the same change
            // in the store.
            if follow_links(&held.links, s) {
                let s = s.clone();
                index_ids(&mut held.by_id, &s);
            }
        }
    }
}

/// Gives a session the user its ids are linked to, as the link statements do
/// in the store: an anonymous session's anonymous id, or its user id (a former
/// one, after `alias`). Applied to sessions read from the store too, which may
/// predate a link not flushed yet. Says whether it changed the session.
fn follow_links(links: &FastMap<SessionKey, Option<String>>, s: &mut Session) -> bool {
    let via = match (&s.user_id, &s.anonymous_id) {
        (Some(user), _) => user,
        (None, Some(anon)) => anon,
        (None, None) => return false,
    };
    match links.get(&(s.project_id, via.clone())) {
        Some(Some(user)) if s.user_id.as_ref() != Some(user) => {
            s.user_id = Some(user.clone());
            true
        }
        _ => false,
    }
}

/// Reads through a [`WorkingSet`].
pub struct Reads<'a> {
    set: &'a WorkingSet,
    store: &'a Store,
}

impl DerivedReads for Reads<'_> {
    type Error = StoreError;

    /// Moves a held session out rather than copying it: a pass gives every
    /// session it read back to [`WorkingSet::keep`], and a pass that fails
    /// clears the set.
    fn session(&self, project_id: i64, session_id: &str) -> StoreResult<Option<Session>> {
        let key = (project_id, session_id.to_string());
        if let Some(s) = self.set.held.borrow_mut().sessions.remove(&key) {
            return Ok(s.map(|s| *s));
        }
        let mut s = self.store.session(project_id, session_id)?;
        let mut held = self.set.held.borrow_mut();
        if let Some(s) = &mut s {
            follow_links(&held.links, s);
            index_ids(&mut held.by_id, s);
        }
        Ok(s)
    }

    fn latest_derived_session(
        &self,
        project_id: i64,
        identity: &str,
    ) -> StoreResult<Option<Session>> {
        let key = (project_id, identity.to_string());
        let known = self.set.held.borrow().latest_derived.get(&key).cloned();
        match known {
            Some(None) => Ok(None),
            Some(Some(id)) => {
                let held = self.set.held.borrow();
                match held.sessions.get(&(project_id, id.clone())) {
                    Some(s) => Ok(s.as_deref().cloned()),
                    None => {
                        drop(held);
                        self.session(project_id, &id).inspect(|s| {
                            // Read, not taken: hold it for the `session` call
                            // that follows.
                            if let Some(s) = s {
                                self.set
                                    .held
                                    .borrow_mut()
                                    .sessions
                                    .insert((project_id, id.clone()), Some(Box::new(s.clone())));
                            }
                        })
                    }
                }
            }
            None => {
                let mut s = self.store.latest_derived_session(project_id, identity)?;
                let mut held = self.set.held.borrow_mut();
                if let Some(s) = &mut s {
                    follow_links(&held.links, s);
                }
                held.latest_derived
                    .insert(key, s.as_ref().map(|s| s.session_id.clone()));
                let Some(s) = s else { return Ok(None) };
                let session_key = (project_id, s.session_id.clone());
                match held.sessions.get(&session_key) {
                    // Held already: what is held is newer than the store's.
                    Some(found) => Ok(found.as_deref().cloned()),
                    None => {
                        index_ids(&mut held.by_id, &s);
                        held.sessions.insert(session_key, Some(Box::new(s.clone())));
                        Ok(Some(s))
                    }
                }
            }
        }
    }

    fn linked_user(&self, project_id: i64, id: &str) -> StoreResult<Option<String>> {
        let key = (project_id, id.to_string());
        if let Some(v) = self.set.held.borrow().links.get(&key) {
            return Ok(v.clone());
        }
        let v = self.store.linked_user(project_id, id)?;
        self.set.held.borrow_mut().links.insert(key, v.clone());
        Ok(v)
    }

    fn customer(
        &self,
        project_id: i64,
        identified: bool,
        person: &str,
    ) -> StoreResult<Option<Customer>> {
        // Moved out, as sessions are (see `session`).
        let key = (project_id, identified, person.to_string());
        if let Some(c) = self.set.held.borrow_mut().people.remove(&key) {
            return Ok(c.map(|c| *c));
        }
        self.store.customer(project_id, identified, person)
    }

    fn is_erased(&self, project_id: i64, id: &str) -> StoreResult<bool> {
        self.store.is_erased(project_id, id)
    }

    fn erasure_mark(&self) -> StoreResult<i64> {
        self.store.erasure_mark()
    }
}
