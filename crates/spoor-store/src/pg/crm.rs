//! The CRM on PostgreSQL: the CRM processor's reads of the log and writes of
//! contacts, timelines, tasks and scores, and the API's reads and changes. A
//! pass reads what its events touch and writes what it changed in a few
//! statements over arrays (`unnest`), not a round trip per row.

use postgres::Transaction;
use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use super::PgStore;
use crate::crm::{
    Activity, Cond, Contact, ContactQuery, CrmDelta, IdKey, IdKind, OpenBooking, ScoreChange,
    ScoreCrossing, Task, TaskQuery, sort_name,
};
use crate::sessions::{FastMap, FastSet};
use crate::{StoreError, StoreResult};

const CONTACT_COLUMNS: &str = "id, project_id, user_id, email, first_name, last_name, phone,
    lead_source, lead_status, last_activity, last_action, last_vehicle_viewed,
    last_search_location, estimated_deal_value, total_bookings, total_revenue, website_visits,
    score_norm, created_at, updated_at";

fn contact_at(r: &Row, at: usize) -> Contact {
    Contact {
        id: r.get(at),
        project_id: r.get(at + 1),
        user_id: r.get(at + 2),
        email: r.get(at + 3),
        first_name: r.get(at + 4),
        last_name: r.get(at + 5),
        phone: r.get(at + 6),
        lead_source: r.get(at + 7),
        lead_status: r.get(at + 8),
        last_activity: r.get(at + 9),
        last_action: r.get(at + 10),
        last_vehicle_viewed: r.get(at + 11),
        last_search_location: r.get(at + 12),
        estimated_deal_value: r.get(at + 13),
        total_bookings: r.get(at + 14),
        total_revenue: r.get(at + 15),
        website_visits: r.get(at + 16),
        score_norm: r.get(at + 17),
        created_at: r.get(at + 18),
        updated_at: r.get(at + 19),
    }
}

const TASK_COLUMNS: &str = "id, project_id, contact_id, title, description, priority, status,
    assignee, due_at, created_at, completed_at, source_key, source_event";

fn task_from_row(r: &Row) -> Task {
    Task {
        id: r.get(0),
        project_id: r.get(1),
        contact_id: r.get(2),
        title: r.get(3),
        description: r.get(4),
        priority: r.get(5),
        status: r.get(6),
        assignee: r.get(7),
        due_at: r.get(8),
        created_at: r.get(9),
        completed_at: r.get(10),
        source_key: r.get(11),
        source_event: r.get(12),
    }
}

type Param = Box<dyn ToSql + Sync>;

fn refs(values: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v.as_ref()).collect()
}

/// A list query's WHERE clause (`prefix` qualifies the columns) and its
/// values, the project's first.
fn filter(prefix: &str, project_id: i64, conds: &[Cond]) -> (String, Vec<Param>) {
    let mut sql = format!("{prefix}project_id = $1");
    let mut values: Vec<Param> = vec![Box::new(project_id)];
    for c in conds {
        let n = values.len() + 1;
        let (clause, value): (String, Param) = match c {
            Cond::Status(s) if prefix.is_empty() => {
                (format!("lead_status = ${n}"), Box::new(s.clone()))
            }
            Cond::Status(s) => (format!("{prefix}status = ${n}"), Box::new(s.clone())),
            Cond::NormAtLeast(x) => (format!("score_norm >= ${n}"), Box::new(*x)),
            Cond::NormAtMost(x) => (format!("score_norm <= ${n}"), Box::new(*x)),
            Cond::Contains(t) => (format!("strpos(search, ${n}) > 0"), Box::new(t.clone())),
            Cond::DueFrom(t) => (format!("{prefix}due_at >= ${n}"), Box::new(*t)),
            Cond::DueBefore(t) => (format!("{prefix}due_at < ${n}"), Box::new(*t)),
            Cond::Contact(id) => (format!("{prefix}contact_id = ${n}"), Box::new(id.clone())),
        };
        sql.push_str(" AND ");
        sql.push_str(&clause);
        values.push(value);
    }
    (sql, values)
}

fn booking_from_row(r: &Row) -> OpenBooking {
    OpenBooking {
        project_id: r.get(0),
        contact_id: r.get(1),
        started_at: r.get(2),
        message_id: r.get(3),
        properties: r.get(4),
    }
}

/// Writes contacts whole (insert or replace).
fn put_contacts(tx: &mut impl GenericClient, cs: &[&Contact]) -> Result<(), postgres::Error> {
    if cs.is_empty() {
        return Ok(());
    }
    let s = |f: fn(&Contact) -> &str| cs.iter().map(|c| f(c)).collect::<Vec<&str>>();
    let o =
        |f: fn(&Contact) -> Option<&str>| cs.iter().map(|c| f(c)).collect::<Vec<Option<&str>>>();
    let i = |f: fn(&Contact) -> i64| cs.iter().map(|c| f(c)).collect::<Vec<i64>>();
    let names: Vec<String> = cs.iter().map(|c| sort_name(c)).collect();
    let search: Vec<String> = cs.iter().map(|c| c.search_text()).collect();
    tx.execute(
        "INSERT INTO crm_contacts (id, project_id, user_id, email, first_name, last_name, phone,
             lead_source, lead_status, last_activity, last_action, last_vehicle_viewed,
             last_search_location, estimated_deal_value, total_bookings, total_revenue,
             website_visits, score_norm, created_at, updated_at, sort_name, search)
         SELECT * FROM unnest($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[],
             $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::TEXT[],
             $12::TEXT[], $13::TEXT[], $14::DOUBLE PRECISION[], $15::BIGINT[],
             $16::DOUBLE PRECISION[], $17::BIGINT[], $18::DOUBLE PRECISION[], $19::BIGINT[],
             $20::BIGINT[], $21::TEXT[], $22::TEXT[])
         ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, email = EXCLUDED.email,
             first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
             phone = EXCLUDED.phone, lead_source = EXCLUDED.lead_source,
             lead_status = EXCLUDED.lead_status, last_activity = EXCLUDED.last_activity,
             last_action = EXCLUDED.last_action, last_vehicle_viewed = EXCLUDED.last_vehicle_viewed,
             last_search_location = EXCLUDED.last_search_location,
             estimated_deal_value = EXCLUDED.estimated_deal_value,
             total_bookings = EXCLUDED.total_bookings, total_revenue = EXCLUDED.total_revenue,
             website_visits = EXCLUDED.website_visits, score_norm = EXCLUDED.score_norm,
             created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
             sort_name = EXCLUDED.sort_name, search = EXCLUDED.search",
        &[
            &s(|c| &c.id),
            &i(|c| c.project_id),
            &o(|c| c.user_id.as_deref()),
            &o(|c| c.email.as_deref()),
            &o(|c| c.first_name.as_deref()),
            &o(|c| c.last_name.as_deref()),
            &o(|c| c.phone.as_deref()),
            &s(|c| &c.lead_source),
            &s(|c| &c.lead_status),
            &cs.iter().map(|c| c.last_activity).collect::<Vec<_>>(),
            &o(|c| c.last_action.as_deref()),
            &o(|c| c.last_vehicle_viewed.as_deref()),
            &o(|c| c.last_search_location.as_deref()),
            &cs.iter()
                .map(|c| c.estimated_deal_value)
                .collect::<Vec<_>>(),
            &i(|c| c.total_bookings),
            &cs.iter().map(|c| c.total_revenue).collect::<Vec<_>>(),
            &i(|c| c.website_visits),
            &cs.iter().map(|c| c.score_norm).collect::<Vec<_>>(),
            &i(|c| c.created_at),
            &i(|c| c.updated_at),
            &names,
            &search,
        ],
    )?;
    Ok(())
}

fn insert_activities(tx: &mut impl GenericClient, a: &[Activity]) -> Result<(), postgres::Error> {
    if a.is_empty() {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO crm_activities (project_id, contact_id, at, kind, event, summary, details,
             message_id)
         SELECT p, c, a, k, e, s, d, m FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[],
             $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[])
             WITH ORDINALITY AS u(p, c, a, k, e, s, d, m, n)
         ORDER BY n
         ON CONFLICT (project_id, message_id) WHERE message_id IS NOT NULL DO NOTHING",
        &[
            &a.iter().map(|x| x.project_id).collect::<Vec<_>>(),
            &a.iter().map(|x| x.contact_id.as_str()).collect::<Vec<_>>(),
            &a.iter().map(|x| x.at).collect::<Vec<_>>(),
            &a.iter().map(|x| x.kind.as_str()).collect::<Vec<_>>(),
            &a.iter().map(|x| x.event.as_deref()).collect::<Vec<_>>(),
            &a.iter().map(|x| x.summary.as_str()).collect::<Vec<_>>(),
            &a.iter().map(|x| x.details.to_string()).collect::<Vec<_>>(),
            &a.iter()
                .map(|x| x.message_id.as_deref())
                .collect::<Vec<_>>(),
        ],
    )?;
    Ok(())
}

fn merges(c: &mut impl GenericClient) -> Result<i64, postgres::Error> {
    Ok(
        c.query_one("SELECT merges FROM crm_state WHERE id = 1", &[])?
            .get(0),
    )
}

/// Writes a CRM pass in the pipeline's transaction; `Conflict` when contacts
/// were merged or erased since its world was read.
pub(super) fn write_crm(tx: &mut Transaction<'_>, d: &CrmDelta) -> StoreResult<()> {
    // The lock orders this pass after any merge in progress.
    let now: i64 = tx
        .query_one("SELECT merges FROM crm_state WHERE id = 1 FOR UPDATE", &[])?
        .get(0);
    if now != d.merges {
        return Err(StoreError::Conflict(
            "contacts were merged or erased while the CRM pass read them; it reads them again"
                .into(),
        ));
    }
    let contacts: Vec<&Contact> = d.contacts.iter().map(|(c, _)| c).collect();
    put_contacts(tx, &contacts)?;
    if !d.identities.is_empty() {
        let ids = &d.identities;
        tx.execute(
            "INSERT INTO crm_identities (project_id, kind, value, contact_id)
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[])
             ON CONFLICT DO NOTHING",
            &[
                &ids.iter().map(|((p, _, _), _)| *p).collect::<Vec<_>>(),
                &ids.iter()
                    .map(|((_, k, _), _)| k.as_str())
                    .collect::<Vec<_>>(),
                &ids.iter()
                    .map(|((_, _, v), _)| v.as_str())
                    .collect::<Vec<_>>(),
                &ids.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(),
            ],
        )?;
    }
    insert_activities(tx, &d.activities)?;
    if !d.tasks.is_empty() {
        let t = &d.tasks;
        tx.execute(
            &format!(
                "INSERT INTO crm_tasks ({TASK_COLUMNS})
                 SELECT * FROM unnest($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[],
                     $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::BIGINT[],
                     $10::BIGINT[], $11::BIGINT[], $12::TEXT[], $13::TEXT[])
                 ON CONFLICT DO NOTHING"
            ),
            &[
                &t.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
                &t.iter().map(|x| x.project_id).collect::<Vec<_>>(),
                &t.iter().map(|x| x.contact_id.as_str()).collect::<Vec<_>>(),
                &t.iter().map(|x| x.title.as_str()).collect::<Vec<_>>(),
                &t.iter()
                    .map(|x| x.description.as_deref())
                    .collect::<Vec<_>>(),
                &t.iter().map(|x| x.priority.as_str()).collect::<Vec<_>>(),
                &t.iter().map(|x| x.status.as_str()).collect::<Vec<_>>(),
                &t.iter().map(|x| x.assignee.as_deref()).collect::<Vec<_>>(),
                &t.iter().map(|x| x.due_at).collect::<Vec<_>>(),
                &t.iter().map(|x| x.created_at).collect::<Vec<_>>(),
                &t.iter().map(|x| x.completed_at).collect::<Vec<_>>(),
                &t.iter().map(|x| x.source_key.as_str()).collect::<Vec<_>>(),
                &t.iter()
                    .map(|x| x.source_event.as_deref())
                    .collect::<Vec<_>>(),
            ],
        )?;
    }
    if !d.scores.is_empty() {
        let s = &d.scores;
        tx.execute(
            "INSERT INTO crm_scores (project_id, contact_id, at, delta, score, reason)
             SELECT p, c, a, d, s, r FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[],
                 $4::DOUBLE PRECISION[], $5::DOUBLE PRECISION[], $6::TEXT[])
                 WITH ORDINALITY AS u(p, c, a, d, s, r, n) ORDER BY n",
            &[
                &s.iter().map(|x| x.project_id).collect::<Vec<_>>(),
                &s.iter().map(|x| x.contact_id.as_str()).collect::<Vec<_>>(),
                &s.iter().map(|x| x.at).collect::<Vec<_>>(),
                &s.iter().map(|x| x.delta).collect::<Vec<_>>(),
                &s.iter().map(|x| x.score).collect::<Vec<_>>(),
                &s.iter().map(|x| x.reason.as_str()).collect::<Vec<_>>(),
            ],
        )?;
    }
    if !d.reached.is_empty() {
        let r = &d.reached;
        tx.execute(
            "INSERT INTO crm_reached (project_id, contact_id, status, at)
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[])
             ON CONFLICT DO NOTHING",
            &[
                &r.iter().map(|x| x.0).collect::<Vec<_>>(),
                &r.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
                &r.iter().map(|x| x.2.as_str()).collect::<Vec<_>>(),
                &r.iter().map(|x| x.3).collect::<Vec<_>>(),
            ],
        )?;
    }
    // A booking's last change in the pass is its effect: one statement for
    // those that end closed and one for those that end open, where a statement
    // per change cost two round trips each (hundreds a pass under seed 003's
    // load).
    let (open, closed) = d.bookings_after();
    if !closed.is_empty() {
        tx.execute(
            "DELETE FROM crm_bookings b USING unnest($1::BIGINT[], $2::TEXT[]) AS k(p, c)
             WHERE b.project_id = k.p AND b.contact_id = k.c",
            &[
                &closed.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
                &closed.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
            ],
        )?;
    }
    if !open.is_empty() {
        tx.execute(
            "INSERT INTO crm_bookings (project_id, contact_id, started_at, message_id, properties)
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[])
             ON CONFLICT (project_id, contact_id) DO UPDATE SET started_at = EXCLUDED.started_at,
                 message_id = EXCLUDED.message_id, properties = EXCLUDED.properties",
            &[
                &open.iter().map(|b| b.project_id).collect::<Vec<_>>(),
                &open
                    .iter()
                    .map(|b| b.contact_id.as_str())
                    .collect::<Vec<_>>(),
                &open.iter().map(|b| b.started_at).collect::<Vec<_>>(),
                &open
                    .iter()
                    .map(|b| b.message_id.as_str())
                    .collect::<Vec<_>>(),
                &open
                    .iter()
                    .map(|b| b.properties.as_str())
                    .collect::<Vec<_>>(),
            ],
        )?;
    }
    if !d.applied.is_empty() {
        let (p, m, at): (Vec<i64>, Vec<&str>, Vec<i64>) =
            d.applied
                .iter()
                .fold(Default::default(), |mut v, (p, m, at)| {
                    v.0.push(*p);
                    v.1.push(m.as_str());
                    v.2.push(*at);
                    v
                });
        tx.execute(
            "INSERT INTO crm_applied (project_id, message_id, at)
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[])
             ON CONFLICT DO NOTHING",
            &[&p, &m, &at],
        )?;
    }
    let (scored, gone) = d.visitors_after();
    if !gone.is_empty() {
        tx.execute(
            "DELETE FROM crm_visitors v USING unnest($1::BIGINT[], $2::TEXT[]) AS k(p, a)
             WHERE v.project_id = k.p AND v.anonymous_id = k.a",
            &[
                &gone.iter().map(|k| k.0).collect::<Vec<_>>(),
                &gone.iter().map(|k| k.1.as_str()).collect::<Vec<_>>(),
            ],
        )?;
    }
    if !scored.is_empty() {
        tx.execute(
            "INSERT INTO crm_visitors (project_id, anonymous_id, score_norm, updated_at)
             SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::DOUBLE PRECISION[], $4::BIGINT[])
             ON CONFLICT (project_id, anonymous_id)
             DO UPDATE SET score_norm = EXCLUDED.score_norm, updated_at = EXCLUDED.updated_at",
            &[
                &scored.iter().map(|(k, _, _)| k.0).collect::<Vec<_>>(),
                &scored
                    .iter()
                    .map(|(k, _, _)| k.1.as_str())
                    .collect::<Vec<_>>(),
                &scored.iter().map(|(_, n, _)| *n).collect::<Vec<_>>(),
                &scored.iter().map(|(_, _, at)| *at).collect::<Vec<_>>(),
            ],
        )?;
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
    tx: &mut postgres::Transaction,
    project_id: i64,
    id: &str,
    emails: &[String],
) -> Result<u64, postgres::Error> {
    let contacts: Vec<String> = tx
        .query(
            "SELECT DISTINCT coalesce(m.into_id, i.contact_id) FROM crm_identities i
             LEFT JOIN crm_merged m ON m.from_id = i.contact_id
             WHERE i.project_id = $1
               AND ((i.kind IN ('user', 'anon') AND i.value = $2)
                    OR (i.kind = 'email' AND i.value = ANY($3)))",
            &[&project_id, &id, &emails],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let visitor = tx.execute(
        "DELETE FROM crm_visitors WHERE project_id = $1 AND anonymous_id = $2",
        &[&project_id, &id],
    )?;
    if contacts.is_empty() && visitor == 0 {
        return Ok(0);
    }
    tx.execute("UPDATE crm_state SET merges = merges + 1 WHERE id = 1", &[])?;
    for sql in [
        "DELETE FROM crm_identities WHERE project_id = $1 AND contact_id = ANY($2)",
        "DELETE FROM crm_activities WHERE project_id = $1 AND contact_id = ANY($2)",
        "DELETE FROM crm_tasks WHERE project_id = $1 AND contact_id = ANY($2)",
        "DELETE FROM crm_scores WHERE project_id = $1 AND contact_id = ANY($2)",
        "DELETE FROM crm_bookings WHERE project_id = $1 AND contact_id = ANY($2)",
        "DELETE FROM crm_reached WHERE project_id = $1 AND contact_id = ANY($2)",
        "DELETE FROM crm_merged WHERE project_id = $1 AND into_id = ANY($2)",
        "DELETE FROM crm_contacts WHERE project_id = $1 AND id = ANY($2)",
    ] {
        tx.execute(sql, &[&project_id, &contacts])?;
    }
    Ok(contacts.len() as u64)
}

impl crate::backend::CrmStore for PgStore {
    /// Nothing to give back: PostgreSQL's caches are the server's.
    fn crm_release_memory(&self) -> StoreResult<()> {
        Ok(())
    }

    fn crm_contact_for(
        &self,
        project_id: i64,
        user_id: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<String> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(
            "SELECT coalesce(m.into_id, i.contact_id) FROM crm_identities i
             LEFT JOIN crm_merged m ON m.from_id = i.contact_id
             WHERE i.project_id = $1 AND i.kind = $2 AND i.value = $3",
        )?;
        for (kind, value) in [(IdKind::User, user_id), (IdKind::Email, email)] {
            if let Some(v) = value
                && let Some(r) = conn.query_opt(&statement, &[&project_id, &kind.as_str(), &v])?
            {
                return Ok(r.get(0));
            }
        }
        Ok(crate::crm::new_contact_id(project_id, user_id, email))
    }

    fn crm_contacts(&self, q: &ContactQuery) -> StoreResult<(Vec<(Contact, i64)>, i64)> {
        let mut conn = self.conn()?;
        let (filter, mut values) = filter("", q.project_id, &q.conditions());
        let total: i64 = conn
            .query_one(
                &format!("SELECT count(*) FROM crm_contacts WHERE {filter}"),
                &refs(&values),
            )?
            .get(0);
        let order = if q.descending { "DESC" } else { "ASC" };
        let col = q.sort.column();
        let n = values.len();
        values.push(Box::new(q.limit));
        values.push(Box::new(q.offset));
        let statement = conn.prepared(&format!(
            "SELECT {CONTACT_COLUMNS}, (SELECT count(*) FROM crm_tasks t
                 WHERE t.contact_id = c.id AND t.status = 'open')
             FROM crm_contacts c WHERE {filter}
             ORDER BY {col} {order}, id {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        ))?;
        let rows = conn.query(&statement, &refs(&values))?;
        Ok((
            rows.iter().map(|r| (contact_at(r, 0), r.get(20))).collect(),
            total,
        ))
    }

    fn crm_contact(&self, project_id: i64, id: &str) -> StoreResult<Option<Contact>> {
        let mut conn = self.conn()?;
        let id: String = conn
            .query_opt("SELECT into_id FROM crm_merged WHERE from_id = $1", &[&id])?
            .map_or_else(|| id.to_string(), |r| r.get(0));
        let statement = conn.prepared(&format!(
            "SELECT {CONTACT_COLUMNS} FROM crm_contacts WHERE id = $1 AND project_id = $2"
        ))?;
        Ok(conn
            .query_opt(&statement, &[&id, &project_id])?
            .map(|r| contact_at(&r, 0)))
    }

    fn crm_timeline(
        &self,
        contact_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Activity>> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(
            "SELECT id, project_id, contact_id, at, kind, event, summary, details, message_id
             FROM crm_activities WHERE contact_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )?;
        let rows = conn.query(
            &statement,
            &[&contact_id, &before.unwrap_or(i64::MAX), &limit],
        )?;
        Ok(rows
            .iter()
            .map(|r| Activity {
                id: r.get(0),
                project_id: r.get(1),
                contact_id: r.get(2),
                at: r.get(3),
                kind: r.get(4),
                event: r.get(5),
                summary: r.get(6),
                details: serde_json::from_str(r.get(7)).unwrap_or_default(),
                message_id: r.get(8),
            })
            .collect())
    }

    fn crm_score_history(&self, contact_id: &str, limit: i64) -> StoreResult<Vec<ScoreChange>> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(
            "SELECT project_id, contact_id, at, delta, score, reason FROM (
                 SELECT * FROM crm_scores WHERE contact_id = $1 ORDER BY id DESC LIMIT $2) s
             ORDER BY id",
        )?;
        Ok(conn
            .query(&statement, &[&contact_id, &limit])?
            .iter()
            .map(|r| ScoreChange {
                project_id: r.get(0),
                contact_id: r.get(1),
                at: r.get(2),
                delta: r.get(3),
                score: r.get(4),
                reason: r.get(5),
            })
            .collect())
    }

    fn crm_tasks(&self, q: &TaskQuery) -> StoreResult<(Vec<(Task, Contact)>, i64)> {
        let mut conn = self.conn()?;
        let (filter, mut values) = filter("t.", q.project_id, &q.conditions());
        let total: i64 = conn
            .query_one(
                &format!("SELECT count(*) FROM crm_tasks t WHERE {filter}"),
                &refs(&values),
            )?
            .get(0);
        let cols = |prefix: &str, list: &str| {
            list.split(',')
                .map(|c| format!("{prefix}.{}", c.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let n = values.len();
        values.push(Box::new(q.limit));
        values.push(Box::new(q.offset));
        let statement = conn.prepared(&format!(
            "SELECT {}, {} FROM crm_tasks t JOIN crm_contacts c ON c.id = t.contact_id
             WHERE {filter} ORDER BY t.due_at IS NULL, t.due_at, t.created_at, t.id
             LIMIT ${} OFFSET ${}",
            cols("t", TASK_COLUMNS),
            cols("c", CONTACT_COLUMNS),
            n + 1,
            n + 2
        ))?;
        let rows = conn.query(&statement, &refs(&values))?;
        Ok((
            rows.iter()
                .map(|r| (task_from_row(r), contact_at(r, 13)))
                .collect(),
            total,
        ))
    }

    fn crm_task(&self, project_id: i64, id: &str) -> StoreResult<Option<Task>> {
        let mut conn = self.conn()?;
        let statement = conn.prepared(&format!(
            "SELECT {TASK_COLUMNS} FROM crm_tasks WHERE id = $1 AND project_id = $2"
        ))?;
        Ok(conn
            .query_opt(&statement, &[&id, &project_id])?
            .map(|r| task_from_row(&r)))
    }

    fn crm_update_task(&self, t: &Task, entry: &Activity) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "UPDATE crm_tasks SET title = $2, priority = $3, status = $4, assignee = $5,
                 due_at = $6, completed_at = $7 WHERE id = $1",
            &[
                &t.id,
                &t.title,
                &t.priority,
                &t.status,
                &t.assignee,
                &t.due_at,
                &t.completed_at,
            ],
        )?;
        insert_activities(&mut tx, std::slice::from_ref(entry))?;
        tx.commit()?;
        Ok(())
    }

    fn crm_merge(&self, merged: &Contact, from: &Contact, entry: &Activity) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute("UPDATE crm_state SET merges = merges + 1 WHERE id = 1", &[])?;
        let (into, old) = (&merged.id, &from.id);
        for sql in [
            "UPDATE crm_identities SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE crm_activities SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE crm_tasks SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE crm_scores SET contact_id = $1 WHERE contact_id = $2",
            "INSERT INTO crm_reached (project_id, contact_id, status, at)
                 SELECT project_id, $1, status, at FROM crm_reached WHERE contact_id = $2
                 ON CONFLICT DO NOTHING",
            "INSERT INTO crm_bookings (project_id, contact_id, started_at, message_id, properties)
                 SELECT project_id, $1, started_at, message_id, properties FROM crm_bookings
                 WHERE contact_id = $2 ON CONFLICT DO NOTHING",
            "UPDATE crm_merged SET into_id = $1 WHERE into_id = $2",
        ] {
            tx.execute(sql, &[into, old])?;
        }
        for sql in [
            "DELETE FROM crm_reached WHERE contact_id = $1",
            "DELETE FROM crm_bookings WHERE contact_id = $1",
            "DELETE FROM crm_contacts WHERE id = $1",
        ] {
            tx.execute(sql, &[old])?;
        }
        tx.execute(
            "INSERT INTO crm_merged (from_id, project_id, into_id, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (from_id) DO UPDATE SET into_id = EXCLUDED.into_id, at = EXCLUDED.at",
            &[old, &merged.project_id, into, &merged.updated_at],
        )?;
        put_contacts(&mut tx, &[merged])?;
        insert_activities(&mut tx, std::slice::from_ref(entry))?;
        tx.commit()?;
        Ok(())
    }

    fn crm_funnel_counts(
        &self,
        project_id: i64,
    ) -> StoreResult<(HashMap<String, i64>, HashMap<String, i64>)> {
        let mut conn = self.conn()?;
        let mut count = |sql: &str| -> StoreResult<HashMap<String, i64>> {
            Ok(conn
                .query(sql, &[&project_id])?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect())
        };
        Ok((
            count(
                "SELECT status, count(*) FROM crm_reached WHERE project_id = $1 GROUP BY status",
            )?,
            count(
                "SELECT lead_status, count(*) FROM crm_contacts WHERE project_id = $1 GROUP BY lead_status",
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
        let mut conn = self.conn()?;
        Ok(conn
            .query(
                "SELECT s.id, s.contact_id, c.email,
                     trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')),
                     s.at, s.score, s.reason
                 FROM crm_scores s JOIN crm_contacts c ON c.id = s.contact_id
                 WHERE s.id > $1 AND s.project_id = $2 AND s.score >= $3
                     AND s.score - s.delta < $3
                 ORDER BY s.id LIMIT $4",
                &[&after, &project_id, &threshold, &limit],
            )?
            .iter()
            .map(|r| ScoreCrossing {
                id: r.get(0),
                contact_id: r.get(1),
                email: r.get(2),
                name: r.get(3),
                at: r.get(4),
                score: r.get(5),
                reason: r.get(6),
            })
            .collect())
    }

    /// The newest score change's id: a new lead-score alert starts after it.
    fn crm_last_score_id(&self) -> StoreResult<i64> {
        Ok(self
            .conn()?
            .query_one("SELECT coalesce(max(id), 0)::bigint FROM crm_scores", &[])?
            .get(0))
    }

    fn crm_stale_bookings(&self, started_before: i64, limit: i64) -> StoreResult<Vec<OpenBooking>> {
        let mut conn = self.conn()?;
        Ok(conn
            .query(
                "SELECT project_id, contact_id, started_at, message_id, properties
                 FROM crm_bookings WHERE started_at < $1 ORDER BY started_at LIMIT $2",
                &[&started_before, &limit],
            )?
            .iter()
            .map(booking_from_row)
            .collect())
    }

    fn crm_rescale(&self, project_id: i64, factor: f64) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // A pass that read scores before would write them on the old scale:
        // it is read again (and the lock orders this after a pass writing).
        tx.execute("UPDATE crm_state SET merges = merges + 1 WHERE id = 1", &[])?;
        tx.execute(
            "UPDATE crm_contacts SET score_norm = score_norm * $2 WHERE project_id = $1",
            &[&project_id, &factor],
        )?;
        tx.execute(
            "UPDATE crm_visitors SET score_norm = score_norm * $2 WHERE project_id = $1",
            &[&project_id, &factor],
        )?;
        tx.commit()?;
        Ok(())
    }
}

impl crate::crm_world::CrmReads for PgStore {
    /// The count of merges, erasures and rescales so far.
    fn crm_changes(&self) -> StoreResult<i64> {
        Ok(merges(&mut **self.conn()?)?)
    }

    /// Which of these (project, message id) the timeline has.
    fn crm_seen(&self, keys: &[(i64, String)]) -> StoreResult<FastSet<(i64, String)>> {
        let (p, m): (Vec<i64>, Vec<&str>) = keys.iter().map(|(p, m)| (*p, m.as_str())).unzip();
        Ok(self
            .conn()?
            .query(
                // Probes, not a join (see the module `pg`).
                "SELECT k.p, k.m FROM unnest($1::BIGINT[], $2::TEXT[]) AS k(p, m)
                 WHERE EXISTS (SELECT 1 FROM crm_activities a
                                WHERE a.project_id = k.p AND a.message_id = k.m LIMIT 1)
                    OR EXISTS (SELECT 1 FROM crm_applied a
                                WHERE a.project_id = k.p AND a.message_id = k.m LIMIT 1)",
                &[&p, &m],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn crm_identities(&self, keys: &[IdKey]) -> StoreResult<FastMap<IdKey, String>> {
        let p: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let kind: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
        let value: Vec<&str> = keys.iter().map(|k| k.2.as_str()).collect();
        let mut out = FastMap::default();
        for r in self.conn()?.query(
            // Probes, not a join (see the module `pg`).
            "SELECT k.p, k.kd, k.v, i.contact_id
             FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[]) AS k(p, kd, v)
             CROSS JOIN LATERAL (SELECT i.contact_id FROM crm_identities i
                 WHERE i.project_id = k.p AND i.kind = k.kd AND i.value = k.v LIMIT 1) i",
            &[&p, &kind, &value],
        )? {
            if let Some(kind) = IdKind::parse(r.get(1)) {
                out.insert((r.get(0), kind, r.get(2)), r.get(3));
            }
        }
        Ok(out)
    }

    fn crm_visitor_scores(
        &self,
        keys: &[(i64, String)],
    ) -> StoreResult<FastMap<(i64, String), f64>> {
        let (p, a): (Vec<i64>, Vec<&str>) = keys.iter().map(|(p, a)| (*p, a.as_str())).unzip();
        Ok(self
            .conn()?
            .query(
                // Probes, not a join (see the module `pg`).
                "SELECT k.p, k.a, v.score_norm FROM unnest($1::BIGINT[], $2::TEXT[]) AS k(p, a)
                 CROSS JOIN LATERAL (SELECT v.score_norm FROM crm_visitors v
                     WHERE v.project_id = k.p AND v.anonymous_id = k.a LIMIT 1) v",
                &[&p, &a],
            )?
            .iter()
            .map(|r| ((r.get(0), r.get(1)), r.get(2)))
            .collect())
    }

    fn crm_merged_into(&self, ids: &[String]) -> StoreResult<FastMap<String, String>> {
        Ok(self
            .conn()?
            .query(
                "SELECT from_id, into_id FROM crm_merged WHERE from_id = ANY($1)",
                &[&ids],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn crm_contacts_by_id(&self, ids: &[String]) -> StoreResult<Vec<Contact>> {
        Ok(self
            .conn()?
            .query(
                &format!("SELECT {CONTACT_COLUMNS} FROM crm_contacts WHERE id = ANY($1)"),
                &[&ids],
            )?
            .iter()
            .map(|r| contact_at(r, 0))
            .collect())
    }
}
