//! What a CRM pass reads before it folds its events: the stored contacts,
//! identities and visitors' scores the events touch, and which events were
//! applied already. Each backend answers the lookups in batches
//! ([`CrmReads`]); [`read_world`] asks only for what the processor's
//! [`CrmCache`] does not hold.
//!
//! The cache is what makes a steady stream cheap: a site's active customers
//! send events pass after pass, and their contacts and identities would
//! otherwise be read again each time. It is exact, not a guess: nothing but
//! the CRM processor writes those rows, except merges, erasures and score
//! rescales, which bump the store's change count; the cache is emptied when
//! that count moves, when a pass fails, and it is told each pass's writes.

use crate::StoreResult;
use crate::crm::{Configs, Contact, CrmDelta, CrmEvent, CrmWorld, IdKey, IdKind, new_contact_id};
use crate::sessions::{FastMap, FastSet};

/// The lookups a pass's world is made of.
pub trait CrmReads {
    /// The count of merges, erasures and rescales so far.
    fn crm_changes(&self) -> StoreResult<i64>;
    /// Which of these (project, message id) were applied already.
    fn crm_seen(&self, keys: &[(i64, String)]) -> StoreResult<FastSet<(i64, String)>>;
    /// The contact each identity found belongs to.
    fn crm_identities(&self, keys: &[IdKey]) -> StoreResult<FastMap<IdKey, String>>;
    /// The stored scores of the anonymous visitors found.
    fn crm_visitor_scores(
        &self,
        keys: &[(i64, String)],
    ) -> StoreResult<FastMap<(i64, String), f64>>;
    /// The contacts these ids were merged into, for those merged.
    fn crm_merged_into(&self, ids: &[String]) -> StoreResult<FastMap<String, String>>;
    /// The contacts found with these ids.
    fn crm_contacts_by_id(&self, ids: &[String]) -> StoreResult<Vec<Contact>>;
}

/// Entries one generation of the cache holds before it becomes the older
/// one (and the older one is dropped). A person takes about five (their
/// contact, identities and visitor score), so a generation holds some 30,000
/// people, more than a busy site's customers active within a few passes; both
/// generations together take up to about 60 MB.
const GENERATION: usize = 150_000;

/// The CRM processor's memory of stored rows between passes. `None` values
/// record that nothing is stored, which is as worth knowing (an anonymous
/// visitor who is no contact is looked up at each of their events).
#[derive(Debug)]
pub struct CrmCache {
    /// The change count the entries were read under.
    changes: Option<i64>,
    recent: Generation,
    older: Generation,
    /// Entries a generation takes before it becomes the older one.
    generation: usize,
}

impl Default for CrmCache {
    fn default() -> CrmCache {
        CrmCache::with_generation(GENERATION)
    }
}

#[derive(Debug, Default)]
struct Generation {
    /// Boxed: a map's empty slots (up to half of them after it grows) cost
    /// a pointer each instead of a contact's 350 bytes.
    contacts: FastMap<String, Option<Box<Contact>>>,
    identities: FastMap<IdKey, Option<String>>,
    visitors: FastMap<(i64, String), Option<f64>>,
    merged: FastMap<String, Option<String>>,
}

impl Generation {
    fn len(&self) -> usize {
        self.contacts.len() + self.identities.len() + self.visitors.len() + self.merged.len()
    }
}

/// Looks a key up in the recent generation, then the older one, moving what
/// it finds there to the recent one.
macro_rules! lookup {
    ($cache:expr, $map:ident, $key:expr) => {{
        match $cache.recent.$map.get($key) {
            Some(v) => Some(v.clone()),
            None => match $cache.older.$map.remove($key) {
                Some(v) => {
                    $cache.recent.$map.insert($key.clone(), v.clone());
                    Some(v)
                }
                None => None,
            },
        }
    }};
}

impl CrmCache {
    /// A cache whose generations take `generation` entries each (two are
    /// kept; see [`GENERATION`] for what an entry costs).
    pub fn with_generation(generation: usize) -> CrmCache {
        CrmCache {
            changes: None,
            recent: Generation::default(),
            older: Generation::default(),
            generation: generation.max(1),
        }
    }

    /// Forgets everything (a pass failed, or rows changed under it).
    pub fn clear(&mut self) {
        *self = CrmCache::with_generation(self.generation);
    }

    /// Keeps the entries only if they were read under this change count.
    fn hold_for(&mut self, changes: i64) {
        if self.changes != Some(changes) {
            self.clear();
            self.changes = Some(changes);
        }
    }

    fn rotate_if_full(&mut self) {
        if self.recent.len() >= self.generation {
            self.older = std::mem::take(&mut self.recent);
        }
    }

    /// Records what a pass wrote, once it is committed.
    pub fn wrote(&mut self, d: &CrmDelta) {
        if self.changes != Some(d.merges) {
            return;
        }
        for (c, _) in &d.contacts {
            self.older.contacts.remove(&c.id);
            self.recent
                .contacts
                .insert(c.id.clone(), Some(Box::new(c.clone())));
        }
        for (key, id) in &d.identities {
            self.older.identities.remove(key);
            self.recent.identities.insert(key.clone(), Some(id.clone()));
        }
        for (key, norm, _) in &d.visitors {
            self.older.visitors.remove(key);
            self.recent.visitors.insert(key.clone(), *norm);
        }
        self.rotate_if_full();
    }

    /// Entries held (for the tests).
    pub fn len(&self) -> usize {
        self.recent.len() + self.older.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The stored state these events touch: from the cache where it holds it,
/// from the store otherwise (and then kept in the cache).
pub fn read_world(
    db: &(impl CrmReads + ?Sized),
    events: &[CrmEvent],
    configs: &Configs,
    cache: &mut CrmCache,
) -> StoreResult<CrmWorld> {
    let changes = db.crm_changes()?;
    cache.hold_for(changes);
    let mut w = CrmWorld {
        merges: changes,
        ..CrmWorld::default()
    };
    let mut applied = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut want_identities: Vec<IdKey> = Vec::new();
    let mut want_visitors: Vec<(i64, String)> = Vec::new();
    for e in events {
        if configs
            .get(&e.project_id)
            .is_some_and(|c| crate::crm::remembered(c, e))
        {
            applied.push((e.project_id, e.message_id.clone()));
        }
        ids.extend(e.contact_id.clone());
        for key in e.identities_with(e.email()) {
            if key.1 == IdKind::Anon {
                let visitor = (key.0, key.2.clone());
                match lookup!(cache, visitors, &visitor) {
                    Some(Some(norm)) => {
                        w.visitors.insert(visitor, norm);
                    }
                    Some(None) => {}
                    None => want_visitors.push(visitor),
                }
            }
            match lookup!(cache, identities, &key) {
                Some(Some(id)) => {
                    ids.push(id.clone());
                    w.identities.insert(key, id);
                }
                Some(None) => {}
                None => want_identities.push(key),
            }
        }
    }
    // Applied events are never cached: the same message id can come again
    // at any distance in the log (with another timestamp).
    applied.sort();
    applied.dedup();
    w.seen = db.crm_seen(&applied)?;

    want_identities.sort();
    want_identities.dedup();
    let found = db.crm_identities(&want_identities)?;
    for key in want_identities {
        let id = found.get(&key).cloned();
        if let Some(id) = &id {
            ids.push(id.clone());
            w.identities.insert(key.clone(), id.clone());
        }
        cache.recent.identities.insert(key, id);
    }
    want_visitors.sort();
    want_visitors.dedup();
    let found = db.crm_visitor_scores(&want_visitors)?;
    for key in want_visitors {
        let norm = found.get(&key).copied();
        if let Some(n) = norm {
            w.visitors.insert(key.clone(), n);
        }
        cache.recent.visitors.insert(key, norm);
    }

    load_contacts(db, cache, &mut w, ids, changes)?;
    // A new person's contact may exist already under the id it would get (the
    // identity it was made with was merged away), so that id is read too; only
    // for the events whose contact is not found otherwise: it is a SHA-256
    // hash, about a sixtieth of the pipeline's instructions when made for
    // every event.
    let mut new_ids = Vec::new();
    for e in events {
        let email = e.email();
        if (e.user_id.is_some() || email.is_some())
            && w.existing_contact(e, email.as_deref()).is_none()
        {
            let id = new_contact_id(e.project_id, e.user_id.as_deref(), email.as_deref());
            if !w.contacts.contains_key(&id) {
                new_ids.push(id);
            }
        }
    }
    if !new_ids.is_empty() {
        load_contacts(db, cache, &mut w, new_ids, changes)?;
    }
    cache.rotate_if_full();
    Ok(w)
}

/// Reads the contacts `ids` lead to (after merges, when there were any) into
/// `w`, from the cache where it holds them.
fn load_contacts(
    db: &(impl CrmReads + ?Sized),
    cache: &mut CrmCache,
    w: &mut CrmWorld,
    mut ids: Vec<String>,
    changes: i64,
) -> StoreResult<()> {
    ids.sort();
    ids.dedup();
    // Without a merge ever, no id leads elsewhere.
    if changes > 0 {
        let mut want = Vec::new();
        for id in &ids {
            match lookup!(cache, merged, id) {
                Some(Some(into)) => {
                    w.merged.insert(id.clone(), into);
                }
                Some(None) => {}
                None => want.push(id.clone()),
            }
        }
        let found = db.crm_merged_into(&want)?;
        for id in want {
            let into = found.get(&id).cloned();
            if let Some(into) = &into {
                w.merged.insert(id.clone(), into.clone());
            }
            cache.recent.merged.insert(id, into);
        }
        ids = ids
            .into_iter()
            .map(|id| w.merged.get(&id).cloned().unwrap_or(id))
            .collect();
        ids.sort();
        ids.dedup();
    }

    let mut want = Vec::new();
    for id in ids {
        match lookup!(cache, contacts, &id) {
            Some(Some(c)) => {
                w.contacts.insert(id, *c);
            }
            Some(None) => {}
            None => want.push(id),
        }
    }
    let mut found: FastMap<String, Contact> = db
        .crm_contacts_by_id(&want)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    for id in want {
        let c = found.remove(&id);
        if let Some(c) = &c {
            w.contacts.insert(id.clone(), c.clone());
        }
        cache.recent.contacts.insert(id, c.map(Box::new));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::crm::{CrmConfig, SCORE_EPOCH_MS, fold};

    /// A store in memory that counts the rows it is asked for.
    #[derive(Default)]
    struct Fake {
        changes: Cell<i64>,
        contacts: RefCell<FastMap<String, Contact>>,
        identities: RefCell<FastMap<IdKey, String>>,
        asked: Cell<usize>,
    }

    impl Fake {
        fn ask(&self, n: usize) {
            self.asked.set(self.asked.get() + n);
        }

        fn apply(&self, d: &CrmDelta) {
            for (c, _) in &d.contacts {
                self.contacts.borrow_mut().insert(c.id.clone(), c.clone());
            }
            for (k, id) in &d.identities {
                self.identities.borrow_mut().insert(k.clone(), id.clone());
            }
        }
    }

    impl CrmReads for Fake {
        fn crm_changes(&self) -> StoreResult<i64> {
            Ok(self.changes.get())
        }
        fn crm_seen(&self, _: &[(i64, String)]) -> StoreResult<FastSet<(i64, String)>> {
            Ok(FastSet::default())
        }
        fn crm_identities(&self, keys: &[IdKey]) -> StoreResult<FastMap<IdKey, String>> {
            self.ask(keys.len());
            let stored = self.identities.borrow();
            Ok(keys
                .iter()
                .filter_map(|k| Some((k.clone(), stored.get(k)?.clone())))
                .collect())
        }
        fn crm_visitor_scores(
            &self,
            keys: &[(i64, String)],
        ) -> StoreResult<FastMap<(i64, String), f64>> {
            self.ask(keys.len());
            Ok(FastMap::default())
        }
        fn crm_merged_into(&self, ids: &[String]) -> StoreResult<FastMap<String, String>> {
            self.ask(ids.len());
            Ok(FastMap::default())
        }
        fn crm_contacts_by_id(&self, ids: &[String]) -> StoreResult<Vec<Contact>> {
            self.ask(ids.len());
            let stored = self.contacts.borrow();
            Ok(ids
                .iter()
                .filter_map(|id| stored.get(id).cloned())
                .collect())
        }
    }

    fn login(message: &str) -> CrmEvent {
        CrmEvent {
            project_id: 1,
            ts: SCORE_EPOCH_MS,
            kind: "track".into(),
            name: Some("customer.login".into()),
            message_id: message.into(),
            user_id: Some("u1".into()),
            anonymous_id: Some("a1".into()),
            ..CrmEvent::default()
        }
    }

    /// One pass over the fake store: read, fold, write, tell the cache.
    fn pass(db: &Fake, cache: &mut CrmCache, e: CrmEvent) -> CrmWorld {
        let configs: Configs = [(1, CrmConfig::default())].into();
        let events = [e];
        let mut w = read_world(db, &events, &configs, cache).unwrap();
        let read = w.clone();
        let d = fold(&events, &configs, &mut w, SCORE_EPOCH_MS);
        db.apply(&d);
        cache.wrote(&d);
        read
    }

    #[test]
    fn a_contact_is_read_once_across_passes_and_again_after_a_change() {
        let db = Fake::default();
        let mut cache = CrmCache::default();
        let first = pass(&db, &mut cache, login("m1"));
        assert!(first.contacts.is_empty(), "a new person");
        assert!(db.asked.get() > 0);

        // The next pass finds the contact and its identities in the cache,
        // as the first pass wrote them, and asks the store for nothing.
        db.asked.set(0);
        let id = new_contact_id(1, Some("u1"), None);
        let stored = db.contacts.borrow()[&id].clone();
        let second = pass(&db, &mut cache, login("m2"));
        assert_eq!(db.asked.get(), 0);
        assert_eq!(second.contacts[&id], stored);
        assert_eq!(second.contacts[&id].website_visits, 1);
        assert_eq!(second.identities[&(1, IdKind::Anon, "a1".into())], id);

        // A merge, erasure or rescale elsewhere: everything is read again.
        db.changes.set(1);
        let third = pass(&db, &mut cache, login("m3"));
        assert!(db.asked.get() > 0);
        assert_eq!(third.contacts[&id].website_visits, 2);
        assert_eq!(third.merges, 1);

        // A failed pass empties it.
        cache.clear();
        assert!(cache.is_empty());
    }

    /// A contact stored under the id a new person would get, though no identity
    /// leads to it, is read for the person's event; the id is not read for an
    /// event whose identity finds its contact.
    #[test]
    fn the_id_a_new_person_would_get_is_read_only_when_nothing_else_finds_them() {
        let db = Fake::default();
        let configs: Configs = [(1, CrmConfig::default())].into();
        let fresh = || CrmCache::default();
        pass(&db, &mut fresh(), login("m1"));
        let would_be = new_contact_id(1, Some("u1"), None);
        let stored = db.contacts.borrow()[&would_be].clone();
        // Its identities gone (merged away): only the id leads to it.
        db.identities.borrow_mut().clear();
        let w = read_world(&db, &[login("m2")], &configs, &mut fresh()).unwrap();
        assert_eq!(w.contacts.get(&would_be), Some(&stored));
        assert_eq!(w.existing_contact(&login("m2"), None), None);

        // The user id leads to another contact: that one alone is read.
        let mut other = login("m3");
        other.user_id = Some("u2".into());
        other.anonymous_id = None;
        pass(&db, &mut fresh(), other);
        let other_id = new_contact_id(1, Some("u2"), None);
        db.identities
            .borrow_mut()
            .insert((1, IdKind::User, "u1".into()), other_id.clone());
        let w = read_world(&db, &[login("m4")], &configs, &mut fresh()).unwrap();
        assert_eq!(
            w.contacts.keys().collect::<Vec<_>>(),
            [&other_id],
            "the id u1 would get is not read"
        );
        assert_eq!(w.existing_contact(&login("m4"), None), Some(other_id));
    }

    #[test]
    fn generations_bound_the_cache() {
        let mut cache = CrmCache::default();
        cache.hold_for(0);
        for i in 0..GENERATION * 3 {
            cache.recent.merged.insert(format!("c{i}"), None);
            cache.rotate_if_full();
        }
        assert!(cache.len() <= 2 * GENERATION, "{}", cache.len());
        // What the recent generation had is found, and what is looked up in
        // the older one moves to the recent one.
        let last = format!("c{}", GENERATION * 3 - 1);
        assert_eq!(lookup!(cache, merged, &last), Some(None));
        let older = cache.older.merged.keys().next().cloned().unwrap();
        assert_eq!(lookup!(cache, merged, &older), Some(None));
        assert!(cache.recent.merged.contains_key(&older));
        assert!(!cache.older.merged.contains_key(&older));
    }
}
