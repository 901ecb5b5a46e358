//! People on SQLite: identities, activity summaries, the metrics API's reads,
//! and erasure.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::StoreResult;
use crate::customers::{
    ActiveUser, CUSTOMER_COLUMNS, Customer, CustomerQuery, Erased, Link, Monitoring, People,
    tallies_from, tallies_json,
};
use crate::sessions::Session;
use crate::traits::Traits;

fn customer_from_row(r: &Row) -> rusqlite::Result<Customer> {
    let tallies: String = r.get(25)?;
    Ok(Customer {
        project_id: r.get(0)?,
        identified: r.get(1)?,
        person: r.get(2)?,
        email: r.get(3)?,
        name: r.get(4)?,
        traits_at: r.get(5)?,
        created_trait_at: r.get(6)?,
        first_seen_at: r.get(7)?,
        registered_at: r.get(8)?,
        last_seen_at: r.get(9)?,
        last_login_at: r.get(10)?,
        total_sessions: r.get(11)?,
        total_events: r.get(12)?,
        total_orders: r.get(13)?,
        total_bookings: r.get(14)?,
        total_reviews: r.get(15)?,
        total_revenue: r.get(16)?,
        last_order_at: r.get(17)?,
        last_order_amount: r.get(18)?,
        last_order_currency: r.get(19)?,
        last_booking_at: r.get(20)?,
        last_booking_service: r.get(21)?,
        primary_device_type: r.get(22)?,
        primary_browser: r.get(23)?,
        primary_os: r.get(24)?,
        tallies: tallies_from(&tallies),
        properties: Traits::from_json(r.get::<_, Option<String>>(26)?.as_deref()),
    })
}

/// Writes what a pass derived about people, inside the pass's transaction.
pub(super) fn put_people(tx: &Connection, people: &People) -> StoreResult<()> {
    let mut put = tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO customers ({CUSTOMER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,
         ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)"
    ))?;
    for c in &people.customers {
        put.execute(params![
            c.project_id,
            c.identified,
            c.person,
            c.email,
            c.name,
            c.traits_at,
            c.created_trait_at,
            c.first_seen_at,
            c.registered_at,
            c.last_seen_at,
            c.last_login_at,
            c.total_sessions,
            c.total_events,
            c.total_orders,
            c.total_bookings,
            c.total_reviews,
            c.total_revenue,
            c.last_order_at,
            c.last_order_amount,
            c.last_order_currency,
            c.last_booking_at,
            c.last_booking_service,
            c.primary_device_type,
            c.primary_browser,
            c.primary_os,
            tallies_json(&c.tallies),
            c.properties.to_json(),
        ])?;
    }
    let mut gone = tx.prepare_cached(
        "DELETE FROM customers WHERE project_id = ?1 AND identified = ?2 AND person = ?3",
    )?;
    for (p, identified, person) in &people.merged_away {
        gone.execute(params![p, identified, person])?;
    }
    for Link {
        project_id,
        alias_id,
        user_id,
        linked_at,
    } in &people.links
    {
        tx.prepare_cached(
            "INSERT INTO identities (project_id, alias_id, user_id, linked_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (project_id, alias_id) DO UPDATE SET user_id = excluded.user_id",
        )?
        .execute(params![project_id, alias_id, user_id, linked_at])?;
        // Named: without it SQLite walks the project's whole primary key here
        // (the statement changes the index's column), 0.7 ms a link at 20,000 ids.
        update_if_found(
            tx,
            "SELECT 1 FROM identities INDEXED BY identities_user
             WHERE project_id = ?1 AND user_id = ?2",
            "UPDATE identities INDEXED BY identities_user SET user_id = ?3
             WHERE project_id = ?1 AND user_id = ?2",
            (*project_id, alias_id, user_id),
        )?;
        // The alias's sessions are the user's: as an anonymous visitor, and (after
        // `alias`) as a former user id.
        update_if_found(
            tx,
            "SELECT 1 FROM sessions WHERE project_id = ?1 AND anonymous_id = ?2
             AND user_id IS NULL",
            "UPDATE sessions SET user_id = ?3 WHERE project_id = ?1 AND anonymous_id = ?2
             AND user_id IS NULL",
            (*project_id, alias_id, user_id),
        )?;
        // Two statements, not one with OR: each uses its own index.
        update_if_found(
            tx,
            "SELECT 1 FROM sessions WHERE project_id = ?1 AND user_id = ?2",
            "UPDATE sessions SET user_id = ?3 WHERE project_id = ?1 AND user_id = ?2",
            (*project_id, alias_id, user_id),
        )?;
    }
    Ok(())
}

/// Runs `update` with (project, alias, user) as `?1`, `?2`, `?3` when `find`
/// finds a row for the first two. An update that changes a column of the
/// index it searches first gathers the rows in a temporary B-tree, which
/// SQLite opens even when none match; most of these searches find none, and
/// the three updates of a link cost a catch-up 7.5% of its instructions. The
/// search finds the rows the update would, in the same transaction.
fn update_if_found(
    tx: &Connection,
    find: &str,
    update: &str,
    (project_id, alias_id, user_id): (i64, &str, &str),
) -> rusqlite::Result<()> {
    if tx
        .prepare_cached(find)?
        .exists(params![project_id, alias_id])?
    {
        tx.prepare_cached(update)?
            .execute(params![project_id, alias_id, user_id])?;
    }
    Ok(())
}

/// Deletes an erased id's rows from the derived file.
fn erase_derived(
    tx: &Connection,
    project_id: i64,
    id: &str,
    emails: &[String],
) -> StoreResult<Erased> {
    let mut friction_rows = 0;
    for sql in [
        "DELETE FROM friction_sessions WHERE project_id = ?1 AND person = ?2",
        "DELETE FROM error_sessions WHERE project_id = ?1 AND person = ?2",
    ] {
        friction_rows += tx.execute(sql, params![project_id, id])? as u64;
    }
    Ok(Erased {
        sessions: tx.execute(
            "DELETE FROM sessions WHERE project_id = ?1
             AND (user_id = ?2 OR anonymous_id = ?2 OR identity = ?2)",
            params![project_id, id],
        )? as u64,
        customers: tx.execute(
            "DELETE FROM customers WHERE project_id = ?1 AND person = ?2",
            params![project_id, id],
        )? as u64,
        identities: tx.execute(
            "DELETE FROM identities WHERE project_id = ?1 AND (alias_id = ?2 OR user_id = ?2)",
            params![project_id, id],
        )? as u64,
        contacts: super::crm::erase_contact(tx, project_id, id, emails)?,
        friction_rows,
        ..Erased::default()
    })
}

/// Erases again, from the derived file, the people erased after the newest
/// erasure it records. An erasure commits the event log's file and the derived
/// file in one transaction, but each file separately: after a power cut the
/// derived file (which is not synced at each commit) can come back without it.
pub(super) fn reapply_erasures(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let applied: i64 = tx.query_row("SELECT mark FROM erasures_applied", [], |r| r.get(0))?;
    let missed: Vec<(i64, String, i64)> = tx
        .prepare("SELECT project_id, id, erased_at FROM erased_ids WHERE erased_at > ?1")?
        .query_map([applied], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (project_id, id, _) in &missed {
        // The emails went with the first erasure's summary; the contacts
        // found by them went in the same transaction as the events.
        erase_derived(&tx, *project_id, id, &[])?;
    }
    if let Some(mark) = missed.iter().map(|m| m.2).max() {
        tx.execute("UPDATE erasures_applied SET mark = ?1", [mark])?;
        tracing::warn!(
            "erased {} ids' derived rows again (the derived file had lost them)",
            missed.len()
        );
    }
    tx.commit()?;
    Ok(())
}

fn linked_user(conn: &Connection, project_id: i64, id: &str) -> StoreResult<Option<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT user_id FROM identities WHERE project_id = ?1 AND alias_id = ?2")?;
    Ok(stmt
        .query_row(params![project_id, id], |r| r.get(0))
        .optional()?)
}

fn customer(
    conn: &Connection,
    project_id: i64,
    identified: bool,
    person: &str,
) -> StoreResult<Option<Customer>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers
         WHERE project_id = ?1 AND identified = ?2 AND person = ?3"
    ))?;
    Ok(stmt
        .query_row(params![project_id, identified, person], customer_from_row)
        .optional()?)
}

impl crate::backend::CustomerStore for SqliteStore {
    /// The stored rows among the keys, on the pipeline's connection (whose
    /// page cache holds what its passes wrote; another connection's is
    /// dropped whenever the file changed) in one read transaction. SQLite has
    /// no round trips to save, so each is looked up on its own.
    fn derived_rows(
        &self,
        keys: &crate::working_set::Keys,
    ) -> StoreResult<crate::working_set::Rows> {
        super::read_batch(&*self.pipeline_conn()?, |conn| {
            let mut rows = crate::working_set::Rows::default();
            for (p, id) in &keys.links {
                if let Some(user) = linked_user(conn, *p, id)? {
                    rows.links.push(((*p, id.clone()), user));
                }
            }
            for (p, identified, person) in &keys.people {
                rows.people.extend(customer(conn, *p, *identified, person)?);
            }
            for (p, sid) in &keys.sessions {
                rows.sessions
                    .extend(super::sessions::session(conn, *p, sid)?);
            }
            Ok(rows)
        })
    }

    fn linked_user(&self, project_id: i64, id: &str) -> StoreResult<Option<String>> {
        linked_user(&*self.pipeline_conn()?, project_id, id)
    }

    fn customer(
        &self,
        project_id: i64,
        identified: bool,
        person: &str,
    ) -> StoreResult<Option<Customer>> {
        customer(&*self.pipeline_conn()?, project_id, identified, person)
    }

    fn is_erased(&self, project_id: i64, id: &str) -> StoreResult<bool> {
        let conn = self.processor_conn()?;
        let mut stmt =
            conn.prepare_cached("SELECT 1 FROM erased_ids WHERE project_id = ?1 AND id = ?2")?;
        Ok(stmt.exists(params![project_id, id])?)
    }

    fn erasure_mark(&self) -> StoreResult<i64> {
        Ok(self.processor_conn()?.query_row(
            "SELECT coalesce(max(erased_at), 0) FROM erased_ids",
            [],
            |r| r.get(0),
        )?)
    }

    fn erased_since(&self, after: i64) -> StoreResult<Vec<(i64, String, i64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT project_id, id, erased_at FROM erased_ids WHERE erased_at > ?1",
        )?;
        let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn customers_page(&self, q: &CustomerQuery) -> StoreResult<(Vec<Customer>, i64)> {
        let conn = self.conn()?;
        let column = q.sort_by.column();
        let order = if q.descending { "DESC" } else { "ASC" };
        // Nulls (never logged in) last either way; ties by person, so pages are stable.
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers
             WHERE project_id = ?1 AND identified = 1 AND (?2 IS NULL OR last_login_at >= ?2)
             ORDER BY {column} IS NULL, {column} {order}, person {order} LIMIT ?3 OFFSET ?4"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(
                params![q.project_id, q.active_since, q.limit, q.offset],
                customer_from_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let total = conn
            .prepare_cached(
                "SELECT count(*) FROM customers WHERE project_id = ?1 AND identified = 1
                 AND (?2 IS NULL OR last_login_at >= ?2)",
            )?
            .query_row(params![q.project_id, q.active_since], |r| r.get(0))?;
        Ok((rows, total))
    }

    fn recent_sessions_of(
        &self,
        project_id: i64,
        user_id: &str,
        since: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Session>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM sessions WHERE project_id = ?1 AND user_id = ?2
             AND (?3 IS NULL OR started_at >= ?3) ORDER BY started_at DESC LIMIT ?4",
            super::sessions::SESSION_COLUMNS
        ))?;
        let rows = stmt.query_map(
            params![project_id, user_id, since, limit],
            super::sessions::session_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn session_monitoring(
        &self,
        project_id: i64,
        since: Option<i64>,
        week_start: i64,
    ) -> StoreResult<Monitoring> {
        let conn = self.conn()?;
        let (sessions, ended, avg_ms): (i64, i64, Option<f64>) = conn.query_row(
            "SELECT count(*), count(ended_at), avg(ended_at - started_at) FROM sessions
             WHERE project_id = ?1 AND (?2 IS NULL OR started_at >= ?2)",
            params![project_id, since],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut stmt = conn.prepare_cached(
            // The ten first, then their emails: joining before grouping read a
            // person's row for every session of the week (290 ms at 100,000).
            "SELECT t.user_id, c.email, t.n, t.last FROM (
                 SELECT user_id, count(*) AS n, max(started_at) AS last FROM sessions
                 WHERE project_id = ?1 AND user_id IS NOT NULL AND started_at >= ?2
                 GROUP BY user_id ORDER BY n DESC, user_id LIMIT 10) t
             LEFT JOIN customers c ON c.project_id = ?1 AND c.identified = 1
                 AND c.person = t.user_id
             ORDER BY t.n DESC, t.user_id",
        )?;
        let most_active = stmt
            .query_map(params![project_id, week_start], |r| {
                Ok(ActiveUser {
                    user_id: r.get(0)?,
                    email: r.get(1)?,
                    session_count: r.get(2)?,
                    last_session: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Monitoring::from_counts(
            sessions,
            ended,
            avg_ms,
            most_active,
        ))
    }

    /// Erases a user and every id linked to them, leaving tombstones, in one
    /// transaction (which the processor's writes wait for).
    fn erase_person(&self, project_id: i64, user_id: &str, now: i64) -> StoreResult<Erased> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut ids: Vec<String> = tx
            .prepare("SELECT alias_id FROM identities WHERE project_id = ?1 AND user_id = ?2")?
            .query_map(params![project_id, user_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.insert(0, user_id.to_string());
        // Strictly increasing, so that a pass that read an older mark sees a change.
        let mark: i64 = tx.query_row(
            "SELECT coalesce(max(erased_at), 0) FROM erased_ids",
            [],
            |r| r.get(0),
        )?;
        let now = now.max(mark + 1);
        let mut erased = Erased::default();
        tx.execute("UPDATE erasures_applied SET mark = ?1", [now])?;
        // The emails the person's summaries carry find contacts known only by
        // email (seed 003's events may name no user id).
        let mut emails: Vec<String> = Vec::new();
        for id in &ids {
            let mut stmt = tx.prepare_cached(
                "SELECT email FROM customers WHERE project_id = ?1 AND person = ?2
                 AND email IS NOT NULL",
            )?;
            for email in stmt.query_map(params![project_id, id], |r| r.get::<_, String>(0))? {
                emails.push(email?.trim().to_lowercase());
            }
        }
        for id in &ids {
            let mut stmt = tx.prepare_cached(
                "DELETE FROM events WHERE project_id = ?1 AND (user_id = ?2 OR anonymous_id = ?2)
                 RETURNING ts",
            )?;
            for ts in stmt.query_map(params![project_id, id], |r| r.get::<_, i64>(0))? {
                erased.events += 1;
                erased.saw(ts?);
            }
            let derived = erase_derived(&tx, project_id, id, &emails)?;
            erased.sessions += derived.sessions;
            erased.customers += derived.customers;
            erased.identities += derived.identities;
            erased.contacts += derived.contacts;
            erased.friction_rows += derived.friction_rows;
            tx.execute(
                "INSERT INTO erased_ids (project_id, id, erased_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (project_id, id) DO UPDATE SET erased_at = excluded.erased_at",
                params![project_id, id, now],
            )?;
        }
        // The insights' facts of the events deleted go with them, and the
        // ids' numbers.
        crate::fact_chunks::erase(
            &mut super::facts::FactsTx(&tx),
            project_id,
            &ids,
            erased.span,
        )?;
        tx.commit()?;
        erased.ids = ids;
        erased.mark = now;
        Ok(erased)
    }
}
