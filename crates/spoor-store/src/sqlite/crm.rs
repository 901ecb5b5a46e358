//! The CRM on SQLite: the CRM processor's reads of the log and writes of
//! contacts, timelines, tasks and scores (in the derived file), and the API's
//! reads and changes.

use std::collections::HashMap;

use rusqlite::types::Value as V;
use rusqlite::{CachedStatement, Connection, OptionalExtension, Row, Statement, params};

use super::{SqliteStore, derived_transaction, read_batch};
use crate::crm::{
    Activity, BookingChange, Cond, Contact, ContactQuery, ContactSort, CrmDelta, IdKey, IdKind,
    OpenBooking, ScoreChange, ScoreCrossing, Task, TaskQuery,
};
use crate::sessions::{FastMap, FastSet};
use crate::{StoreError, StoreResult};

const CONTACT_COLUMNS: &str = "id, project_id, user_id, email, first_name, last_name, phone,
    lead_source, lead_status, last_activity, last_action, last_vehicle_viewed,
    last_search_location, estimated_deal_value, total_bookings, total_revenue, website_visits,
    score_norm, created_at, updated_at";

/// Statuses the contacts list reads one by one at most: past this many in a
/// project, it reads the project's contacts as one (and sorts them by score
/// or last activity itself, having no index for that over every status).
const MERGED_STATUSES: usize = 32;

/// A project's lead statuses in order, one seek of the status index each;
/// `None` past [`MERGED_STATUSES`].
fn statuses(conn: &Connection, project_id: i64) -> StoreResult<Option<Vec<String>>> {
    let mut next = conn.prepare_cached(
        "SELECT lead_status FROM crm_contacts WHERE project_id = ?1 AND lead_status > ?2
         ORDER BY lead_status LIMIT 1",
    )?;
    let mut found: Vec<String> = Vec::new();
    // The first has no lower bound: it may be the empty text.
    let mut at = conn
        .prepare_cached(
            "SELECT lead_status FROM crm_contacts WHERE project_id = ?1
             ORDER BY lead_status LIMIT 1",
        )?
        .query_row([project_id], |r| r.get::<_, String>(0))
        .optional()?;
    while let Some(status) = at {
        if found.len() == MERGED_STATUSES {
            return Ok(None);
        }
        at = next
            .query_row(params![project_id, status], |r| r.get(0))
            .optional()?;
        found.push(status);
    }
    Ok(Some(found))
}

/// Whether the list reads a sort status by status when no status is given:
/// the score and the last activity are indexed within a status only.
fn read_by_status(sort: ContactSort) -> bool {
    matches!(sort, ContactSort::Score | ContactSort::LastActivity)
}

/// One status's part of a list query: `what` of the contacts `filter`
/// matches with the status bound at `?{at}`.
fn by_status(filter: &str, at: usize, what: &str) -> String {
    format!("SELECT {what} FROM crm_contacts WHERE {filter} AND lead_status = ?{at}")
}

/// A contacts page's statement, for the filter's `n` values and then, when
/// `merged` counts statuses, one value a status; the limit and the offset
/// follow. The id breaks ties, so pages never overlap; each sort's index
/// holds it after the sorted column, so the page is read in index order.
/// Merged, each status's part is read from its index in order and SQLite's
/// compound ORDER BY merges the parts as it reads them, so a page reads about
/// as many entries as its offset and limit.
fn contacts_page(
    filter: &str,
    n: usize,
    sort: ContactSort,
    descending: bool,
    merged: Option<usize>,
) -> String {
    let order = if descending { "DESC" } else { "ASC" };
    let col = sort.column();
    let page = match merged {
        Some(statuses) => {
            let parts: Vec<String> = (0..statuses)
                .map(|i| by_status(filter, n + 1 + i, &format!("id AS pid, {col} AS pk")))
                .collect();
            format!(
                "({} ORDER BY pk {order}, pid {order} LIMIT ?{} OFFSET ?{}) page
                 JOIN crm_contacts c ON c.id = page.pid
                 ORDER BY page.pk {order}, page.pid {order}",
                parts.join(" UNION ALL "),
                n + statuses + 1,
                n + statuses + 2
            )
        }
        None => format!(
            "crm_contacts c WHERE {filter}
             ORDER BY {col} {order}, id {order} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ),
    };
    format!(
        "SELECT {CONTACT_COLUMNS},
             (SELECT count(*) FROM crm_tasks t WHERE t.contact_id = c.id AND t.status = 'open')
         FROM {page}"
    )
}

fn contact_from_row(r: &Row) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: r.get(0)?,
        project_id: r.get(1)?,
        user_id: r.get(2)?,
        email: r.get(3)?,
        first_name: r.get(4)?,
        last_name: r.get(5)?,
        phone: r.get(6)?,
        lead_source: r.get(7)?,
        lead_status: r.get(8)?,
        last_activity: r.get(9)?,
        last_action: r.get(10)?,
        last_vehicle_viewed: r.get(11)?,
        last_search_location: r.get(12)?,
        estimated_deal_value: r.get(13)?,
        total_bookings: r.get(14)?,
        total_revenue: r.get(15)?,
        website_visits: r.get(16)?,
        score_norm: r.get(17)?,
        created_at: r.get(18)?,
        updated_at: r.get(19)?,
    })
}

const TASK_COLUMNS: &str = "id, project_id, contact_id, title, description, priority, status,
    assignee, due_at, created_at, completed_at, source_key, source_event";

fn task_from_row(r: &Row) -> rusqlite::Result<Task> {
    Ok(Task {
        id: r.get(0)?,
        project_id: r.get(1)?,
        contact_id: r.get(2)?,
        title: r.get(3)?,
        description: r.get(4)?,
        priority: r.get(5)?,
        status: r.get(6)?,
        assignee: r.get(7)?,
        due_at: r.get(8)?,
        created_at: r.get(9)?,
        completed_at: r.get(10)?,
        source_key: r.get(11)?,
        source_event: r.get(12)?,
    })
}

const PUT_CONTACT: &str = "INSERT OR REPLACE INTO crm_contacts (id, project_id, user_id, email,
        first_name, last_name, phone, lead_source, lead_status, last_activity, last_action,
        last_vehicle_viewed, last_search_location, estimated_deal_value, total_bookings,
        total_revenue, website_visits, score_norm, created_at, updated_at, sort_name, search)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
        ?19, ?20, ?21, ?22)";

fn put_contact(conn: &Connection, c: &Contact) -> rusqlite::Result<()> {
    add_contact(&mut *conn.prepare_cached(PUT_CONTACT)?, c)
}

/// Runs [`PUT_CONTACT`], prepared by the caller (a pass prepares it once).
fn add_contact(put: &mut Statement<'_>, c: &Contact) -> rusqlite::Result<()> {
    put.execute(params![
        c.id,
        c.project_id,
        c.user_id,
        c.email,
        c.first_name,
        c.last_name,
        c.phone,
        c.lead_source,
        c.lead_status,
        c.last_activity,
        c.last_action,
        c.last_vehicle_viewed,
        c.last_search_location,
        c.estimated_deal_value,
        c.total_bookings,
        c.total_revenue,
        c.website_visits,
        c.score_norm,
        c.created_at,
        c.updated_at,
        crate::crm::sort_name(c),
        c.search_text()
    ])?;
    Ok(())
}

const INSERT_ACTIVITY: &str = "INSERT OR IGNORE INTO crm_activities (project_id, contact_id,
        at, kind, event, summary, details, message_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

fn insert_activity(conn: &Connection, a: &Activity) -> rusqlite::Result<()> {
    add_activity(&mut *conn.prepare_cached(INSERT_ACTIVITY)?, a)
}

/// Runs [`INSERT_ACTIVITY`], prepared by the caller (a pass prepares it once).
fn add_activity(insert: &mut Statement<'_>, a: &Activity) -> rusqlite::Result<()> {
    insert.execute(params![
        a.project_id,
        a.contact_id,
        a.at,
        a.kind,
        a.event,
        a.summary,
        a.details.to_string(),
        a.message_id
    ])?;
    Ok(())
}

fn merges(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT merges FROM crm_state WHERE id = 1", [], |r| {
        r.get(0)
    })
}

/// A list query's WHERE clause (`prefix` qualifies the columns) and its
/// values, the project's first.
fn filter(prefix: &str, project_id: i64, conds: &[Cond]) -> (String, Vec<V>) {
    let mut sql = format!("{prefix}project_id = ?1");
    let mut values = vec![V::Integer(project_id)];
    for c in conds {
        let n = values.len() + 1;
        let (clause, value) = match c {
            Cond::Status(s) if prefix.is_empty() => {
                (format!("lead_status = ?{n}"), V::Text(s.clone()))
            }
            Cond::Status(s) => (format!("{prefix}status = ?{n}"), V::Text(s.clone())),
            Cond::NormAtLeast(x) => (format!("score_norm >= ?{n}"), V::Real(*x)),
            Cond::NormAtMost(x) => (format!("score_norm <= ?{n}"), V::Real(*x)),
            Cond::Contains(t) => (format!("instr(search, ?{n}) > 0"), V::Text(t.clone())),
            Cond::DueFrom(t) => (format!("{prefix}due_at >= ?{n}"), V::Integer(*t)),
            Cond::DueBefore(t) => (format!("{prefix}due_at < ?{n}"), V::Integer(*t)),
            Cond::Contact(id) => (format!("{prefix}contact_id = ?{n}"), V::Text(id.clone())),
        };
        sql.push_str(" AND ");
        sql.push_str(&clause);
        values.push(value);
    }
    (sql, values)
}

fn booking_from_row(r: &Row) -> rusqlite::Result<OpenBooking> {
    Ok(OpenBooking {
        project_id: r.get(0)?,
        contact_id: r.get(1)?,
        started_at: r.get(2)?,
        message_id: r.get(3)?,
        properties: r.get(4)?,
    })
}

/// The UPDATE statements of one pass, by the columns they set: a pass's
/// contacts change one of a few sets of columns, so each set's statement is
/// written and looked up in the connection's cache once a pass, not once a
/// contact.
type Updates<'c> = FastMap<Vec<&'static str>, CachedStatement<'c>>;

/// Sets of columns whose statements a pass keeps at most: a held statement
/// is out of the connection's cache until the pass ends, and events can
/// change many sets of columns (traits, bookings, payments), so past this a
/// set's statement goes back to the cache after its contact.
const HELD_UPDATES: usize = 16;

/// Updates a stored contact's changed columns only: SQLite rewrites an
/// index's entry when a column it holds is set, changed or not, and most
/// events change one or two of the columns the list sorts by.
fn update_contact<'c>(
    conn: &'c Connection,
    updates: &mut Updates<'c>,
    c: &Contact,
    stored: &Contact,
) -> rusqlite::Result<()> {
    let cols = crate::crm::changed_columns(stored, c);
    if cols.is_empty() {
        return Ok(());
    }
    let text = |s: &Option<String>| s.clone().map_or(V::Null, V::Text);
    let mut values = vec![V::Text(c.id.clone())];
    for col in &cols {
        values.push(match *col {
            "user_id" => text(&c.user_id),
            "email" => text(&c.email),
            "first_name" => text(&c.first_name),
            "last_name" => text(&c.last_name),
            "phone" => text(&c.phone),
            "lead_source" => V::Text(c.lead_source.clone()),
            "lead_status" => V::Text(c.lead_status.clone()),
            "last_activity" => c.last_activity.map_or(V::Null, V::Integer),
            "last_action" => text(&c.last_action),
            "last_vehicle_viewed" => text(&c.last_vehicle_viewed),
            "last_search_location" => text(&c.last_search_location),
            "estimated_deal_value" => c.estimated_deal_value.map_or(V::Null, V::Real),
            "total_bookings" => V::Integer(c.total_bookings),
            "total_revenue" => V::Real(c.total_revenue),
            "website_visits" => V::Integer(c.website_visits),
            "score_norm" => V::Real(c.score_norm),
            "created_at" => V::Integer(c.created_at),
            "updated_at" => V::Integer(c.updated_at),
            "sort_name" => V::Text(crate::crm::sort_name(c)),
            _ => V::Text(c.search_text()),
        });
    }
    let values = rusqlite::params_from_iter(values);
    if let Some(update) = updates.get_mut(&cols) {
        update.execute(values)?;
        return Ok(());
    }
    let set: Vec<String> = cols
        .iter()
        .enumerate()
        .map(|(i, col)| format!("{col} = ?{}", i + 2))
        .collect();
    let mut update = conn.prepare_cached(&format!(
        "UPDATE crm_contacts SET {} WHERE id = ?1",
        set.join(", ")
    ))?;
    update.execute(values)?;
    if updates.len() < HELD_UPDATES {
        updates.insert(cols, update);
    }
    Ok(())
}

/// Writes a CRM pass in the pipeline's transaction; `Conflict` when contacts
/// were merged or erased since its world was read.
pub(super) fn write_crm(tx: &Connection, d: &CrmDelta) -> StoreResult<()> {
    if merges(tx)? != d.merges {
        return Err(StoreError::Conflict(
            "contacts were merged or erased while the CRM pass read them; it reads them again"
                .into(),
        ));
    }
    write_delta(tx, d)
}

fn write_delta(tx: &Connection, d: &CrmDelta) -> StoreResult<()> {
    {
        let mut updates = Updates::default();
        let mut put = tx.prepare_cached(PUT_CONTACT)?;
        for (c, stored) in &d.contacts {
            match stored {
                Some(stored) => update_contact(tx, &mut updates, c, stored)?,
                None => add_contact(&mut put, c)?,
            }
        }
    }
    {
        let mut put = tx.prepare_cached(
            "INSERT OR IGNORE INTO crm_identities (project_id, kind, value, contact_id)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for ((p, kind, value), id) in &d.identities {
            put.execute(params![p, kind.as_str(), value, id])?;
        }
    }
    {
        let mut insert = tx.prepare_cached(INSERT_ACTIVITY)?;
        for a in &d.activities {
            add_activity(&mut insert, a)?;
        }
    }
    {
        let mut put = tx.prepare_cached(
            "INSERT OR IGNORE INTO crm_applied (project_id, message_id, at) VALUES (?1, ?2, ?3)",
        )?;
        for (p, message_id, at) in &d.applied {
            put.execute(params![p, message_id, at])?;
        }
    }
    {
        let mut put = tx.prepare_cached(&format!(
            "INSERT OR IGNORE INTO crm_tasks ({TASK_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ))?;
        for t in &d.tasks {
            put.execute(params![
                t.id,
                t.project_id,
                t.contact_id,
                t.title,
                t.description,
                t.priority,
                t.status,
                t.assignee,
                t.due_at,
                t.created_at,
                t.completed_at,
                t.source_key,
                t.source_event
            ])?;
        }
    }
    {
        let mut put = tx.prepare_cached(
            "INSERT INTO crm_scores (project_id, contact_id, at, delta, score, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for s in &d.scores {
            put.execute(params![
                s.project_id,
                s.contact_id,
                s.at,
                s.delta,
                s.score,
                s.reason
            ])?;
        }
    }
    {
        let mut put = tx.prepare_cached(
            "INSERT OR IGNORE INTO crm_reached (project_id, contact_id, status, at) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (p, id, status, at) in &d.reached {
            put.execute(params![p, id, status, at])?;
        }
    }
    {
        let mut open = tx.prepare_cached(
            "INSERT OR REPLACE INTO crm_bookings (project_id, contact_id, started_at, message_id, properties)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut close = tx
            .prepare_cached("DELETE FROM crm_bookings WHERE project_id = ?1 AND contact_id = ?2")?;
        // In event order: a booking opened and closed in one pass ends closed.
        for change in &d.bookings {
            match change {
                BookingChange::Open(b) => open.execute(params![
                    b.project_id,
                    b.contact_id,
                    b.started_at,
                    b.message_id,
                    b.properties
                ])?,
                BookingChange::Close(p, id) => close.execute(params![p, id])?,
            };
        }
    }
    {
        let mut put = tx.prepare_cached(
            "INSERT OR REPLACE INTO crm_visitors (project_id, anonymous_id, score_norm, updated_at)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut gone = tx.prepare_cached(
            "DELETE FROM crm_visitors WHERE project_id = ?1 AND anonymous_id = ?2",
        )?;
        for ((p, anon), norm, at) in &d.visitors {
            match norm {
                Some(n) => put.execute(params![p, anon, n, at])?,
                None => gone.execute(params![p, anon])?,
            };
        }
    }
    Ok(())
}

/// Deletes the contact known by `id` (a user id or an anonymous id) and all
/// the CRM keeps about them: identities, timeline, tasks, scores, bookings,
/// the ids merged into it, and an anonymous visitor's score. Counts as a
/// change people made, so a CRM pass that read the contact before reads again
/// (and finds the person's events gone) instead of writing it back.
/// Deletes the contacts known by user or anonymous id `id`, or by one of
/// `emails` (lowercase), with everything kept about them.
pub(super) fn erase_contact(
    tx: &Connection,
    project_id: i64,
    id: &str,
    emails: &[String],
) -> rusqlite::Result<u64> {
    let emails = serde_json::to_string(emails).expect("strings serialise");
    let contacts: Vec<String> = tx
        .prepare_cached(
            "SELECT DISTINCT coalesce(m.into_id, i.contact_id) FROM crm_identities i
             LEFT JOIN crm_merged m ON m.from_id = i.contact_id
             WHERE i.project_id = ?1
               AND ((i.kind IN ('user', 'anon') AND i.value = ?2)
                    OR (i.kind = 'email' AND i.value IN (SELECT value FROM json_each(?3))))",
        )?
        .query_map(params![project_id, id, emails], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let visitor = tx.execute(
        "DELETE FROM crm_visitors WHERE project_id = ?1 AND anonymous_id = ?2",
        params![project_id, id],
    )?;
    for contact in &contacts {
        for sql in [
            "DELETE FROM crm_identities WHERE contact_id = ?2",
            "DELETE FROM crm_activities WHERE project_id = ?1 AND contact_id = ?2",
            "DELETE FROM crm_tasks WHERE project_id = ?1 AND contact_id = ?2",
            "DELETE FROM crm_scores WHERE project_id = ?1 AND contact_id = ?2",
            "DELETE FROM crm_bookings WHERE project_id = ?1 AND contact_id = ?2",
            "DELETE FROM crm_reached WHERE project_id = ?1 AND contact_id = ?2",
            "DELETE FROM crm_merged WHERE project_id = ?1 AND into_id = ?2",
            "DELETE FROM crm_contacts WHERE project_id = ?1 AND id = ?2",
        ] {
            tx.execute(sql, params![project_id, contact])?;
        }
    }
    if !contacts.is_empty() || visitor > 0 {
        tx.execute("UPDATE crm_state SET merges = merges + 1 WHERE id = 1", [])?;
    }
    Ok(contacts.len() as u64)
}

impl crate::backend::CrmStore for SqliteStore {
    /// Gives back the CRM connection's page cache (the processor is idle).
    fn crm_release_memory(&self) -> StoreResult<()> {
        self.pipeline_conn()?
            .execute_batch("PRAGMA shrink_memory")?;
        Ok(())
    }

    fn crm_contact_for(
        &self,
        project_id: i64,
        user_id: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<String> {
        let conn = self.conn()?;
        let mut identity = conn.prepare_cached(
            "SELECT coalesce(m.into_id, i.contact_id) FROM crm_identities i
             LEFT JOIN crm_merged m ON m.from_id = i.contact_id
             WHERE i.project_id = ?1 AND i.kind = ?2 AND i.value = ?3",
        )?;
        for (kind, value) in [(IdKind::User, user_id), (IdKind::Email, email)] {
            if let Some(v) = value
                && let Some(id) = identity
                    .query_row(params![project_id, kind.as_str(), v], |r| {
                        r.get::<_, String>(0)
                    })
                    .optional()?
            {
                return Ok(id);
            }
        }
        Ok(crate::crm::new_contact_id(project_id, user_id, email))
    }

    /// A page of contacts with their open tasks, and how many match.
    ///
    /// Without a status, each status's contacts are counted from its own
    /// index, and sorted by score or last activity they are read from it
    /// too: those two sorts have indexes within a status only, because an
    /// event moves a contact in them (`derived/0014_crm_contacts_sorts.sql`).
    fn crm_contacts(&self, q: &ContactQuery) -> StoreResult<(Vec<(Contact, i64)>, i64)> {
        let conn = self.conn()?;
        let (filter, mut values) = filter("", q.project_id, &q.conditions());
        let n = values.len();
        let statuses = match q.status {
            None => statuses(&conn, q.project_id)?,
            Some(_) => None,
        };
        let total: i64 = match &statuses {
            None => conn
                .prepare_cached(&format!("SELECT count(*) FROM crm_contacts WHERE {filter}"))?
                .query_row(rusqlite::params_from_iter(&values), |r| r.get(0))?,
            Some(statuses) if statuses.is_empty() => return Ok((Vec::new(), 0)),
            Some(statuses) => {
                let counts: Vec<String> = (0..statuses.len())
                    .map(|i| format!("({})", by_status(&filter, n + 1 + i, "count(*)")))
                    .collect();
                let mut counted = values.clone();
                counted.extend(statuses.iter().map(|s| V::Text(s.clone())));
                conn.prepare_cached(&format!("SELECT {}", counts.join(" + ")))?
                    .query_row(rusqlite::params_from_iter(&counted), |r| r.get(0))?
            }
        };
        let merged = statuses.filter(|_| read_by_status(q.sort));
        let sql = contacts_page(
            &filter,
            n,
            q.sort,
            q.descending,
            merged.as_ref().map(Vec::len),
        );
        values.extend(merged.into_iter().flatten().map(V::Text));
        values.push(V::Integer(q.limit));
        values.push(V::Integer(q.offset));
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(&values), |r| {
            Ok((contact_from_row(r)?, r.get(20)?))
        })?;
        Ok((rows.collect::<Result<_, _>>()?, total))
    }

    /// A contact by id, or the contact it was merged into.
    fn crm_contact(&self, project_id: i64, id: &str) -> StoreResult<Option<Contact>> {
        let conn = self.conn()?;
        let id: String = conn
            .query_row(
                "SELECT into_id FROM crm_merged WHERE from_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_else(|| id.to_string());
        Ok(conn
            .prepare_cached(&format!(
                "SELECT {CONTACT_COLUMNS} FROM crm_contacts WHERE id = ?1 AND project_id = ?2"
            ))?
            .query_row(params![id, project_id], contact_from_row)
            .optional()?)
    }

    /// A contact's timeline, newest first, before an entry id.
    fn crm_timeline(
        &self,
        contact_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Activity>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, project_id, contact_id, at, kind, event, summary, details, message_id
             FROM crm_activities WHERE contact_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![contact_id, before.unwrap_or(i64::MAX), limit],
            |r| {
                let details: String = r.get(7)?;
                Ok(Activity {
                    id: r.get(0)?,
                    project_id: r.get(1)?,
                    contact_id: r.get(2)?,
                    at: r.get(3)?,
                    kind: r.get(4)?,
                    event: r.get(5)?,
                    summary: r.get(6)?,
                    details: serde_json::from_str(&details).unwrap_or_default(),
                    message_id: r.get(8)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A contact's newest score changes, oldest first.
    fn crm_score_history(&self, contact_id: &str, limit: i64) -> StoreResult<Vec<ScoreChange>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT project_id, contact_id, at, delta, score, reason FROM (
                 SELECT * FROM crm_scores WHERE contact_id = ?1 ORDER BY id DESC LIMIT ?2)
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![contact_id, limit], |r| {
            Ok(ScoreChange {
                project_id: r.get(0)?,
                contact_id: r.get(1)?,
                at: r.get(2)?,
                delta: r.get(3)?,
                score: r.get(4)?,
                reason: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Tasks with their contact's name parts and email, and how many match.
    fn crm_tasks(&self, q: &TaskQuery) -> StoreResult<(Vec<(Task, Contact)>, i64)> {
        let conn = self.conn()?;
        let (filter, mut values) = filter("t.", q.project_id, &q.conditions());
        let total: i64 = conn
            .prepare_cached(&format!("SELECT count(*) FROM crm_tasks t WHERE {filter}"))?
            .query_row(rusqlite::params_from_iter(&values), |r| r.get(0))?;
        let n = values.len();
        values.push(V::Integer(q.limit));
        values.push(V::Integer(q.offset));
        let task_cols = TASK_COLUMNS
            .split(',')
            .map(|c| format!("t.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let contact_cols = CONTACT_COLUMNS
            .split(',')
            .map(|c| format!("c.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {task_cols}, {contact_cols} FROM crm_tasks t
             JOIN crm_contacts c ON c.id = t.contact_id WHERE {filter}
             ORDER BY t.due_at IS NULL, t.due_at, t.created_at, t.id LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(&values), |r| {
            let task = task_from_row(r)?;
            let contact = Contact {
                id: r.get(13)?,
                project_id: r.get(14)?,
                user_id: r.get(15)?,
                email: r.get(16)?,
                first_name: r.get(17)?,
                last_name: r.get(18)?,
                phone: r.get(19)?,
                lead_source: r.get(20)?,
                lead_status: r.get(21)?,
                last_activity: r.get(22)?,
                last_action: r.get(23)?,
                last_vehicle_viewed: r.get(24)?,
                last_search_location: r.get(25)?,
                estimated_deal_value: r.get(26)?,
                total_bookings: r.get(27)?,
                total_revenue: r.get(28)?,
                website_visits: r.get(29)?,
                score_norm: r.get(30)?,
                created_at: r.get(31)?,
                updated_at: r.get(32)?,
            };
            Ok((task, contact))
        })?;
        Ok((rows.collect::<Result<_, _>>()?, total))
    }

    fn crm_task(&self, project_id: i64, id: &str) -> StoreResult<Option<Task>> {
        Ok(self
            .conn()?
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM crm_tasks WHERE id = ?1 AND project_id = ?2"
            ))?
            .query_row(params![id, project_id], task_from_row)
            .optional()?)
    }

    /// Writes a task's changeable fields, with a timeline entry.
    fn crm_update_task(&self, t: &Task, entry: &Activity) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = derived_transaction(
            &mut conn,
            "UPDATE crm_tasks SET title = ?2, priority = ?3, status = ?4, assignee = ?5,
                 due_at = ?6, completed_at = ?7 WHERE id = ?1",
            params![
                t.id,
                t.title,
                t.priority,
                t.status,
                t.assignee,
                t.due_at,
                t.completed_at
            ],
        )?;
        insert_activity(&tx, entry)?;
        tx.commit()?;
        Ok(())
    }

    /// Merges `from` into `into` (written as `merged`): identities, timeline,
    /// tasks, scores, reached statuses and an open booking move over, and the
    /// old id leads to the contact from now on.
    fn crm_merge(&self, merged: &Contact, from: &Contact, entry: &Activity) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = derived_transaction(
            &mut conn,
            "UPDATE crm_state SET merges = merges + 1 WHERE id = 1",
            [],
        )?;
        let (into, old) = (&merged.id, &from.id);
        for sql in [
            "UPDATE OR IGNORE crm_identities SET contact_id = ?1 WHERE contact_id = ?2",
            "DELETE FROM crm_identities WHERE contact_id = ?2",
            "UPDATE crm_activities SET contact_id = ?1 WHERE contact_id = ?2",
            "UPDATE crm_tasks SET contact_id = ?1 WHERE contact_id = ?2",
            "UPDATE crm_scores SET contact_id = ?1 WHERE contact_id = ?2",
            "UPDATE OR IGNORE crm_reached SET contact_id = ?1 WHERE contact_id = ?2",
            "DELETE FROM crm_reached WHERE contact_id = ?2",
            "UPDATE OR IGNORE crm_bookings SET contact_id = ?1 WHERE contact_id = ?2",
            "DELETE FROM crm_bookings WHERE contact_id = ?2",
            "UPDATE crm_merged SET into_id = ?1 WHERE into_id = ?2",
            "DELETE FROM crm_contacts WHERE id = ?2",
        ] {
            tx.execute(sql, params![into, old])?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO crm_merged (from_id, project_id, into_id, at) VALUES (?1, ?2, ?3, ?4)",
            params![old, merged.project_id, into, merged.updated_at],
        )?;
        put_contact(&tx, merged)?;
        insert_activity(&tx, entry)?;
        tx.commit()?;
        Ok(())
    }

    /// Per status: contacts that reached it, and contacts in it now.
    fn crm_funnel_counts(
        &self,
        project_id: i64,
    ) -> StoreResult<(HashMap<String, i64>, HashMap<String, i64>)> {
        let conn = self.conn()?;
        let count = |sql: &str| -> StoreResult<HashMap<String, i64>> {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map([project_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        Ok((
            count(
                "SELECT status, count(*) FROM crm_reached WHERE project_id = ?1 GROUP BY status",
            )?,
            count(
                "SELECT lead_status, count(*) FROM crm_contacts WHERE project_id = ?1 GROUP BY lead_status",
            )?,
        ))
    }

    /// Score changes after `after` that took a contact to `threshold` or
    /// over it from below, oldest first.
    fn crm_score_crossings(
        &self,
        project_id: i64,
        threshold: f64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ScoreCrossing>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT s.id, s.contact_id, c.email,
                 trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')),
                 s.at, s.score, s.reason
             FROM crm_scores s JOIN crm_contacts c ON c.id = s.contact_id
             WHERE s.id > ?1 AND s.project_id = ?2 AND s.score >= ?3 AND s.score - s.delta < ?3
             ORDER BY s.id LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![after, project_id, threshold, limit], |r| {
            Ok(ScoreCrossing {
                id: r.get(0)?,
                contact_id: r.get(1)?,
                email: r.get(2)?,
                name: r.get(3)?,
                at: r.get(4)?,
                score: r.get(5)?,
                reason: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest score change's id: a new lead-score alert starts after it.
    fn crm_last_score_id(&self) -> StoreResult<i64> {
        let conn = self.conn()?;
        Ok(
            conn.query_row("SELECT coalesce(max(id), 0) FROM crm_scores", [], |r| {
                r.get(0)
            })?,
        )
    }

    fn crm_stale_bookings(&self, started_before: i64, limit: i64) -> StoreResult<Vec<OpenBooking>> {
        // The pipeline's connection: the bookings its held passes opened and
        // closed are the ones to see.
        read_batch(&*self.pipeline_conn()?, |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT project_id, contact_id, started_at, message_id, properties
                 FROM crm_bookings WHERE started_at < ?1 ORDER BY started_at LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![started_before, limit], booking_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Multiplies a project's stored scores (a new half-life rescales them).
    fn crm_rescale(&self, project_id: i64, factor: f64) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = derived_transaction(
            &mut conn,
            "UPDATE crm_contacts SET score_norm = score_norm * ?2 WHERE project_id = ?1",
            params![project_id, factor],
        )?;
        tx.execute(
            "UPDATE crm_visitors SET score_norm = score_norm * ?2 WHERE project_id = ?1",
            params![project_id, factor],
        )?;
        // A pass that read scores before writes them on the old scale: it
        // is read again.
        tx.execute("UPDATE crm_state SET merges = merges + 1 WHERE id = 1", [])?;
        tx.commit()?;
        Ok(())
    }
}

impl crate::crm_world::CrmReads for SqliteStore {
    /// The count of merges, erasures and rescales so far.
    fn crm_changes(&self) -> StoreResult<i64> {
        Ok(merges(&*self.pipeline_conn()?)?)
    }

    /// Which of these (project, message id) the timeline has.
    fn crm_seen(&self, keys: &[(i64, String)]) -> StoreResult<FastSet<(i64, String)>> {
        read_batch(&*self.pipeline_conn()?, |conn| {
            let mut seen = conn.prepare_cached(
                "SELECT 1 FROM crm_activities WHERE project_id = ?1 AND message_id = ?2",
            )?;
            let mut applied = conn.prepare_cached(
                "SELECT 1 FROM crm_applied WHERE project_id = ?1 AND message_id = ?2",
            )?;
            let mut out = FastSet::default();
            for (p, m) in keys {
                if seen.exists(params![p, m])? || applied.exists(params![p, m])? {
                    out.insert((*p, m.clone()));
                }
            }
            Ok(out)
        })
    }

    fn crm_identities(&self, keys: &[IdKey]) -> StoreResult<FastMap<IdKey, String>> {
        read_batch(&*self.pipeline_conn()?, |conn| {
            let mut identity = conn.prepare_cached(
                "SELECT contact_id FROM crm_identities WHERE project_id = ?1 AND kind = ?2 AND value = ?3",
            )?;
            let mut out = FastMap::default();
            for key in keys {
                if let Some(id) = identity
                    .query_row(params![key.0, key.1.as_str(), key.2], |r| r.get(0))
                    .optional()?
                {
                    out.insert(key.clone(), id);
                }
            }
            Ok(out)
        })
    }

    fn crm_visitor_scores(
        &self,
        keys: &[(i64, String)],
    ) -> StoreResult<FastMap<(i64, String), f64>> {
        read_batch(&*self.pipeline_conn()?, |conn| {
            let mut visitor = conn.prepare_cached(
                "SELECT score_norm FROM crm_visitors WHERE project_id = ?1 AND anonymous_id = ?2",
            )?;
            let mut out = FastMap::default();
            for (p, anon) in keys {
                if let Some(norm) = visitor
                    .query_row(params![p, anon], |r| r.get(0))
                    .optional()?
                {
                    out.insert((*p, anon.clone()), norm);
                }
            }
            Ok(out)
        })
    }

    fn crm_merged_into(&self, ids: &[String]) -> StoreResult<FastMap<String, String>> {
        read_batch(&*self.pipeline_conn()?, |conn| {
            let mut merged =
                conn.prepare_cached("SELECT into_id FROM crm_merged WHERE from_id = ?1")?;
            let mut out = FastMap::default();
            for id in ids {
                if let Some(into) = merged.query_row([id], |r| r.get(0)).optional()? {
                    out.insert(id.clone(), into);
                }
            }
            Ok(out)
        })
    }

    fn crm_contacts_by_id(&self, ids: &[String]) -> StoreResult<Vec<Contact>> {
        read_batch(&*self.pipeline_conn()?, |conn| {
            let mut contact = conn.prepare_cached(&format!(
                "SELECT {CONTACT_COLUMNS} FROM crm_contacts WHERE id = ?1"
            ))?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.extend(contact.query_row([id], contact_from_row).optional()?);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::CrmStore;
    use crate::crm::CrmConfig;

    /// A store with `statuses` lead statuses (the empty one among them), four
    /// contacts each, whose scores and activities tie across statuses and
    /// within them, some with no activity.
    fn stored(statuses: usize) -> (tempfile::TempDir, SqliteStore) {
        let (dir, s) = migrated();
        let config = CrmConfig::default();
        let contacts = (0..statuses * 4)
            .map(|n| {
                let mut c = Contact::new(format!("contact-{n:03}"), 1, &config, 1_000);
                c.lead_status = if n % statuses == 0 {
                    String::new()
                } else {
                    format!("Status {}", n % statuses)
                };
                c.first_name = Some(format!("Name {}", n % 7));
                c.last_activity = (n % 5 != 0).then_some(2_000 + (n % 6) as i64);
                c.score_norm = (n % 4) as f64;
                c.total_revenue = (n % 3) as f64;
                (c, None)
            })
            .collect();
        let delta = CrmDelta {
            contacts,
            ..CrmDelta::default()
        };
        s.apply_crm(None, &delta).unwrap();
        // Another project's contacts are never listed.
        let mut other = Contact::new("elsewhere".into(), 2, &config, 1_000);
        other.last_activity = Some(2_003);
        s.apply_crm(
            None,
            &CrmDelta {
                contacts: vec![(other, None)],
                ..CrmDelta::default()
            },
        )
        .unwrap();
        (dir, s)
    }

    fn migrated() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        crate::Store::open(&crate::StoreConfig::sqlite(dir.path())).unwrap();
        let s = SqliteStore::open(dir.path()).unwrap();
        (dir, s)
    }

    /// Every contact a query matches, in the order one sort of them all
    /// gives: what the list's pages, read by status or not, must add up to.
    fn sorted_at_once(s: &SqliteStore, q: &ContactQuery) -> Vec<String> {
        let (filter, values) = filter("", q.project_id, &q.conditions());
        let order = if q.descending { "DESC" } else { "ASC" };
        let conn = s.conn().unwrap();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id FROM crm_contacts NOT INDEXED WHERE {filter}
                 ORDER BY {} {order}, id {order}",
                q.sort.column()
            ))
            .unwrap();
        stmt.query_map(rusqlite::params_from_iter(&values), |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn every_status_pages_in_the_order_of_one_sort_of_all_the_contacts() {
        // Read by status (5 and the most merged), and as one past them.
        for statuses in [5, MERGED_STATUSES, MERGED_STATUSES + 1] {
            let (_dir, s) = stored(statuses);
            let found = super::statuses(&s.conn().unwrap(), 1).unwrap();
            if statuses <= MERGED_STATUSES {
                let found = found.unwrap();
                assert_eq!(found.len(), statuses);
                assert_eq!(found[0], "");
                assert!(found.windows(2).all(|w| w[0] < w[1]), "{found:?}");
            } else {
                assert_eq!(found, None);
            }
            let sorts = [
                ContactSort::Score,
                ContactSort::LastActivity,
                ContactSort::Created,
                ContactSort::Name,
                ContactSort::Revenue,
            ];
            let filters: [(Option<&str>, Option<f64>, Option<f64>); 4] = [
                (None, None, None),
                (Some("name 3"), None, None),
                (None, Some(1.0), Some(2.0)),
                (Some("name"), Some(2.0), None),
            ];
            for sort in sorts {
                for descending in [false, true] {
                    for (search, min_norm, max_norm) in filters {
                        let mut q = ContactQuery {
                            project_id: 1,
                            search: search.map(str::to_string),
                            status: None,
                            min_norm,
                            max_norm,
                            sort,
                            descending,
                            limit: 7,
                            offset: 0,
                        };
                        let all = sorted_at_once(&s, &q);
                        assert!(!all.is_empty());
                        let mut paged = Vec::new();
                        loop {
                            let (rows, total) = s.crm_contacts(&q).unwrap();
                            assert_eq!(total as usize, all.len(), "{q:?}");
                            if rows.is_empty() {
                                break;
                            }
                            paged.extend(rows.into_iter().map(|(c, _)| c.id));
                            q.offset += q.limit;
                        }
                        assert_eq!(paged, all, "{q:?}");
                    }
                }
            }
            // A status given reads that status only.
            let q = ContactQuery {
                project_id: 1,
                search: None,
                status: Some("Status 1".into()),
                min_norm: None,
                max_norm: None,
                sort: ContactSort::LastActivity,
                descending: true,
                limit: 100,
                offset: 0,
            };
            let (rows, total) = s.crm_contacts(&q).unwrap();
            assert_eq!((rows.len(), total), (4, 4));
            assert_eq!(
                rows.iter().map(|(c, _)| c.id.clone()).collect::<Vec<_>>(),
                sorted_at_once(&s, &q)
            );
        }
        // No contacts: nothing, counted as nothing.
        let (_dir, s) = migrated();
        let q = ContactQuery {
            project_id: 1,
            search: None,
            status: None,
            min_norm: None,
            max_norm: None,
            sort: ContactSort::Score,
            descending: true,
            limit: 10,
            offset: 0,
        };
        assert_eq!(s.crm_contacts(&q).unwrap(), (Vec::new(), 0));
    }

    /// Read by status, each part is read from its status's index in the
    /// order asked for, merged as read, and nothing is sorted: not the parts,
    /// not the page they make.
    #[test]
    fn every_status_reads_each_status_index_in_order() {
        let (_dir, s) = stored(3);
        let conn = s.conn().unwrap();
        for (sort, index) in [
            (ContactSort::Score, "crm_contacts_status_score"),
            (ContactSort::LastActivity, "crm_contacts_status_activity"),
        ] {
            for descending in [false, true] {
                let (filter, _) = filter("", 1, &[]);
                let sql = contacts_page(&filter, 1, sort, descending, Some(3));
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                let plan: Vec<String> = stmt
                    .query_map(params![1, "", "Status 1", "Status 2", 10, 0], |r| r.get(3))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let reads = plan.iter().filter(|l| l.contains(index)).count();
                assert_eq!(reads, 3, "{plan:#?}");
                let sorts = plan.iter().filter(|l| l.contains("TEMP B-TREE")).count();
                assert_eq!(sorts, 0, "{plan:#?}");
                assert!(plan.iter().any(|l| l.contains("MERGE")), "{plan:#?}");
            }
        }
    }
}
