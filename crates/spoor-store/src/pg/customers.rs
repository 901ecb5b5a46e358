//! People on PostgreSQL: identities, activity summaries, the metrics API's
//! reads, and erasure.

use postgres::{Row, Transaction};

use super::PgStore;
use super::sessions::{SESSION_COLUMNS, session_from_row};
use crate::customers::{
    ActiveUser, CUSTOMER_COLUMNS, Customer, CustomerQuery, Erased, Link, Monitoring, People,
    tallies_from, tallies_json,
};
use crate::sessions::Session;
use crate::traits::Traits;
use crate::{StoreError, StoreResult};

/// Taken by a pass's write and by an erasure, so that a pass never writes
/// rows of a person erased after it read its events.
pub(super) const ERASURE_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('spoor-erasure:' || current_schema()))";

fn customer_from_row(r: &Row) -> Customer {
    let tallies: String = r.get(25);
    Customer {
        project_id: r.get(0),
        identified: r.get(1),
        person: r.get(2),
        email: r.get(3),
        name: r.get(4),
        traits_at: r.get(5),
        created_trait_at: r.get(6),
        first_seen_at: r.get(7),
        registered_at: r.get(8),
        last_seen_at: r.get(9),
        last_login_at: r.get(10),
        total_sessions: r.get(11),
        total_events: r.get(12),
        total_orders: r.get(13),
        total_bookings: r.get(14),
        total_reviews: r.get(15),
        total_revenue: r.get(16),
        last_order_at: r.get(17),
        last_order_amount: r.get(18),
        last_order_currency: r.get(19),
        last_booking_at: r.get(20),
        last_booking_service: r.get(21),
        primary_device_type: r.get(22),
        primary_browser: r.get(23),
        primary_os: r.get(24),
        tallies: tallies_from(&tallies),
        properties: Traits::from_json(r.get::<_, Option<&str>>(26)),
    }
}

/// Refuses the pass's write when a person was erased since the pass read its
/// events (its mark is then stale); the caller holds [`ERASURE_LOCK`].
pub(super) fn check_erasure_mark(tx: &mut Transaction, people: &People) -> StoreResult<()> {
    tx.execute(ERASURE_LOCK, &[])?;
    let mark: i64 = tx
        .query_one("SELECT coalesce(max(erased_at), 0) FROM erased_ids", &[])?
        .get(0);
    if mark != people.erasure_mark {
        return Err(StoreError::Conflict(
            "a person was erased while the pass was read; reading it again".into(),
        ));
    }
    Ok(())
}

/// Writes what a pass derived about people, inside the pass's transaction.
pub(super) fn put_people(tx: &mut Transaction, people: &People) -> StoreResult<()> {
    // One statement over arrays for every person the pass changed: a round
    // trip per pass, not per person.
    let cs = &people.customers;
    if !cs.is_empty() {
        let int = |f: fn(&Customer) -> i64| cs.iter().map(f).collect::<Vec<i64>>();
        let opt = |f: fn(&Customer) -> Option<i64>| cs.iter().map(f).collect::<Vec<_>>();
        let text = |f: fn(&Customer) -> &Option<String>| {
            cs.iter().map(|c| f(c).as_deref()).collect::<Vec<_>>()
        };
        tx.execute(
            &format!(
                "INSERT INTO customers ({CUSTOMER_COLUMNS})
                 SELECT * FROM unnest($1::BIGINT[], $2::BOOLEAN[], $3::TEXT[], $4::TEXT[],
                     $5::TEXT[], $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[],
                     $10::BIGINT[], $11::BIGINT[], $12::BIGINT[], $13::BIGINT[], $14::BIGINT[],
                     $15::BIGINT[], $16::BIGINT[], $17::DOUBLE PRECISION[], $18::BIGINT[],
                     $19::DOUBLE PRECISION[], $20::TEXT[], $21::BIGINT[], $22::TEXT[],
                     $23::TEXT[], $24::TEXT[], $25::TEXT[], $26::TEXT[], $27::TEXT[])
                 ON CONFLICT (project_id, identified, person) DO UPDATE SET email = EXCLUDED.email,
                     name = EXCLUDED.name, traits_at = EXCLUDED.traits_at,
                     created_trait_at = EXCLUDED.created_trait_at, first_seen_at = EXCLUDED.first_seen_at,
                     registered_at = EXCLUDED.registered_at, last_seen_at = EXCLUDED.last_seen_at,
                     last_login_at = EXCLUDED.last_login_at, total_sessions = EXCLUDED.total_sessions,
                     total_events = EXCLUDED.total_events, total_orders = EXCLUDED.total_orders,
                     total_bookings = EXCLUDED.total_bookings, total_reviews = EXCLUDED.total_reviews,
                     total_revenue = EXCLUDED.total_revenue, last_order_at = EXCLUDED.last_order_at,
                     last_order_amount = EXCLUDED.last_order_amount,
                     last_order_currency = EXCLUDED.last_order_currency,
                     last_booking_at = EXCLUDED.last_booking_at,
                     last_booking_service = EXCLUDED.last_booking_service,
                     primary_device_type = EXCLUDED.primary_device_type,
                     primary_browser = EXCLUDED.primary_browser, primary_os = EXCLUDED.primary_os,
                     tallies = EXCLUDED.tallies, properties = EXCLUDED.properties"
            ),
            &[
                &int(|c| c.project_id),
                &cs.iter().map(|c| c.identified).collect::<Vec<bool>>(),
                &cs.iter().map(|c| c.person.as_str()).collect::<Vec<_>>(),
                &text(|c| &c.email),
                &text(|c| &c.name),
                &opt(|c| c.traits_at),
                &opt(|c| c.created_trait_at),
                &int(|c| c.first_seen_at),
                &int(|c| c.registered_at),
                &int(|c| c.last_seen_at),
                &opt(|c| c.last_login_at),
                &int(|c| c.total_sessions),
                &int(|c| c.total_events),
                &int(|c| c.total_orders),
                &int(|c| c.total_bookings),
                &int(|c| c.total_reviews),
                &cs.iter().map(|c| c.total_revenue).collect::<Vec<f64>>(),
                &opt(|c| c.last_order_at),
                &cs.iter().map(|c| c.last_order_amount).collect::<Vec<Option<f64>>>(),
                &text(|c| &c.last_order_currency),
                &opt(|c| c.last_booking_at),
                &text(|c| &c.last_booking_service),
                &text(|c| &c.primary_device_type),
                &text(|c| &c.primary_browser),
                &text(|c| &c.primary_os),
                &cs.iter().map(|c| tallies_json(&c.tallies)).collect::<Vec<String>>(),
                &cs.iter().map(|c| c.properties.to_json()).collect::<Vec<Option<String>>>(),
            ],
        )?;
    }
    for (p, identified, person) in &people.merged_away {
        tx.execute(
            "DELETE FROM customers WHERE project_id = $1 AND identified = $2 AND person = $3",
            &[p, identified, person],
        )?;
    }
    // Links are applied in groups that share no id (per project): within
    // such a group each statement of one link touches no row another link's
    // statements touch, so each statement runs once for the whole group over
    // arrays, in the order one link would run them. A link that shares an id
    // with the group so far (a chain: a -> b, then b -> c) starts a new group.
    let mut group: Vec<&Link> = Vec::new();
    let mut ids: std::collections::HashSet<(i64, &str)> = std::collections::HashSet::new();
    for link in &people.links {
        let (p, a, u) = (
            link.project_id,
            link.alias_id.as_str(),
            link.user_id.as_str(),
        );
        if ids.contains(&(p, a)) || ids.contains(&(p, u)) {
            put_links(tx, &group)?;
            group.clear();
            ids.clear();
        }
        ids.insert((p, a));
        ids.insert((p, u));
        group.push(link);
    }
    put_links(tx, &group)?;
    Ok(())
}

/// Applies links that share no id (see `put_people`).
fn put_links(tx: &mut Transaction, links: &[&Link]) -> StoreResult<()> {
    if links.is_empty() {
        return Ok(());
    }
    let p: Vec<i64> = links.iter().map(|l| l.project_id).collect();
    let alias: Vec<&str> = links.iter().map(|l| l.alias_id.as_str()).collect();
    let user: Vec<&str> = links.iter().map(|l| l.user_id.as_str()).collect();
    let at: Vec<i64> = links.iter().map(|l| l.linked_at).collect();
    tx.execute(
        "INSERT INTO identities (project_id, alias_id, user_id, linked_at)
         SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[])
         ON CONFLICT (project_id, alias_id) DO UPDATE SET user_id = EXCLUDED.user_id",
        &[&p, &alias, &user, &at],
    )?;
    let links_sql = "unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[]) AS l(p, alias, usr)";
    tx.execute(
        &format!(
            "UPDATE identities i SET user_id = l.usr FROM {links_sql}
             WHERE i.project_id = l.p AND i.user_id = l.alias"
        ),
        &[&p, &alias, &user],
    )?;
    // The alias's sessions are the user's: as an anonymous visitor, and (after
    // `alias`) as a former user id. Two statements, not one with OR: each
    // uses its own index.
    tx.execute(
        &format!(
            "UPDATE sessions s SET user_id = l.usr FROM {links_sql}
             WHERE s.project_id = l.p AND s.anonymous_id = l.alias AND s.user_id IS NULL"
        ),
        &[&p, &alias, &user],
    )?;
    tx.execute(
        &format!(
            "UPDATE sessions s SET user_id = l.usr FROM {links_sql}
             WHERE s.project_id = l.p AND s.user_id = l.alias"
        ),
        &[&p, &alias, &user],
    )?;
    Ok(())
}

impl crate::backend::CustomerStore for PgStore {
    /// The stored rows among the keys, a statement per table.
    fn derived_rows(
        &self,
        keys: &crate::working_set::Keys,
    ) -> StoreResult<crate::working_set::Rows> {
        let mut rows = crate::working_set::Rows::default();
        let mut conn = self.conn()?;
        if !keys.links.is_empty() {
            let (p, id): (Vec<i64>, Vec<&str>) =
                keys.links.iter().map(|(p, id)| (*p, id.as_str())).unzip();
            for r in conn.query(
                // Probes, not a join (see the module `pg`).
                "SELECT k.p, k.id, i.user_id FROM unnest($1::BIGINT[], $2::TEXT[]) AS k(p, id)
                 CROSS JOIN LATERAL (SELECT i.user_id FROM identities i
                   WHERE i.project_id = k.p AND i.alias_id = k.id LIMIT 1) i",
                &[&p, &id],
            )? {
                rows.links.push(((r.get(0), r.get(1)), r.get(2)));
            }
        }
        if !keys.people.is_empty() {
            let p: Vec<i64> = keys.people.iter().map(|k| k.0).collect();
            let identified: Vec<bool> = keys.people.iter().map(|k| k.1).collect();
            let person: Vec<&str> = keys.people.iter().map(|k| k.2.as_str()).collect();
            let found = conn.query(
                &format!(
                    "SELECT {CUSTOMER_COLUMNS} FROM customers
                     WHERE (project_id, identified, person) IN
                         (SELECT * FROM unnest($1::BIGINT[], $2::BOOLEAN[], $3::TEXT[]))"
                ),
                &[&p, &identified, &person],
            )?;
            rows.people.extend(found.iter().map(customer_from_row));
        }
        if !keys.sessions.is_empty() {
            let (p, sid): (Vec<i64>, Vec<&str>) =
                keys.sessions.iter().map(|(p, s)| (*p, s.as_str())).unzip();
            let found = conn.query(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions
                     WHERE (project_id, session_id) IN
                         (SELECT * FROM unnest($1::BIGINT[], $2::TEXT[]))"
                ),
                &[&p, &sid],
            )?;
            rows.sessions.extend(found.iter().map(session_from_row));
        }
        Ok(rows)
    }

    fn linked_user(&self, project_id: i64, id: &str) -> StoreResult<Option<String>> {
        let mut conn = self.conn()?;
        let stmt = conn
            .prepared("SELECT user_id FROM identities WHERE project_id = $1 AND alias_id = $2")?;
        Ok(conn
            .query_opt(&stmt, &[&project_id, &id])?
            .map(|r| r.get(0)))
    }

    fn customer(
        &self,
        project_id: i64,
        identified: bool,
        person: &str,
    ) -> StoreResult<Option<Customer>> {
        let mut conn = self.conn()?;
        let stmt = conn.prepared(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers
             WHERE project_id = $1 AND identified = $2 AND person = $3"
        ))?;
        Ok(conn
            .query_opt(&stmt, &[&project_id, &identified, &person])?
            .map(|r| customer_from_row(&r)))
    }

    fn is_erased(&self, project_id: i64, id: &str) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let stmt = conn.prepared("SELECT 1 FROM erased_ids WHERE project_id = $1 AND id = $2")?;
        Ok(conn.query_opt(&stmt, &[&project_id, &id])?.is_some())
    }

    fn erasure_mark(&self) -> StoreResult<i64> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT coalesce(max(erased_at), 0)::bigint FROM erased_ids",
                &[],
            )?
            .get(0))
    }

    fn erased_since(&self, after: i64) -> StoreResult<Vec<(i64, String, i64)>> {
        Ok(self
            .conn()?
            .query(
                "SELECT project_id, id, erased_at FROM erased_ids WHERE erased_at > $1",
                &[&after],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn customers_page(&self, q: &CustomerQuery) -> StoreResult<(Vec<Customer>, i64)> {
        let mut conn = self.conn()?;
        let column = q.sort_by.column();
        let order = if q.descending { "DESC" } else { "ASC" };
        // Nulls (never logged in) last either way; ties by person, so pages are stable.
        let rows = conn.query(
            &format!(
                "SELECT {CUSTOMER_COLUMNS} FROM customers
                 WHERE project_id = $1 AND identified AND ($2::bigint IS NULL OR last_login_at >= $2)
                 ORDER BY {column} {order} NULLS LAST, person {order} LIMIT $3 OFFSET $4"
            ),
            &[&q.project_id, &q.active_since, &q.limit, &q.offset],
        )?;
        let total: i64 = conn
            .query_one(
                "SELECT count(*) FROM customers WHERE project_id = $1 AND identified
                 AND ($2::bigint IS NULL OR last_login_at >= $2)",
                &[&q.project_id, &q.active_since],
            )?
            .get(0);
        Ok((rows.iter().map(customer_from_row).collect(), total))
    }

    fn recent_sessions_of(
        &self,
        project_id: i64,
        user_id: &str,
        since: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Session>> {
        let mut conn = self.conn()?;
        let stmt = conn.prepared(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE project_id = $1 AND user_id = $2
             AND ($3::bigint IS NULL OR started_at >= $3) ORDER BY started_at DESC LIMIT $4"
        ))?;
        Ok(conn
            .query(&stmt, &[&project_id, &user_id, &since, &limit])?
            .iter()
            .map(session_from_row)
            .collect())
    }

    fn session_monitoring(
        &self,
        project_id: i64,
        since: Option<i64>,
        week_start: i64,
    ) -> StoreResult<Monitoring> {
        let mut conn = self.conn()?;
        let row = conn.query_one(
            "SELECT count(*), count(ended_at), avg(ended_at - started_at)::float8 FROM sessions
             WHERE project_id = $1 AND ($2::bigint IS NULL OR started_at >= $2)",
            &[&project_id, &since],
        )?;
        let most_active = conn
            .query(
                // The ten first, then their emails.
                "SELECT t.user_id, c.email, t.n, t.last FROM (
                     SELECT user_id, count(*) AS n, max(started_at) AS last FROM sessions
                     WHERE project_id = $1 AND user_id IS NOT NULL AND started_at >= $2
                     GROUP BY user_id ORDER BY n DESC, user_id LIMIT 10) t
                 LEFT JOIN customers c ON c.project_id = $1 AND c.identified
                     AND c.person = t.user_id
                 ORDER BY t.n DESC, t.user_id",
                &[&project_id, &week_start],
            )?
            .iter()
            .map(|r| ActiveUser {
                user_id: r.get(0),
                email: r.get(1),
                session_count: r.get(2),
                last_session: r.get(3),
            })
            .collect();
        Ok(Monitoring::from_counts(
            row.get(0),
            row.get(1),
            row.get(2),
            most_active,
        ))
    }

    /// Erases a user and every id linked to them, leaving tombstones, in one
    /// transaction under the erasure lock.
    fn erase_person(&self, project_id: i64, user_id: &str, now: i64) -> StoreResult<Erased> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(ERASURE_LOCK, &[])?;
        let mut ids: Vec<String> = tx
            .query(
                "SELECT alias_id FROM identities WHERE project_id = $1 AND user_id = $2",
                &[&project_id, &user_id],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ids.insert(0, user_id.to_string());
        // Strictly increasing, so that a pass that read an older mark sees a change.
        let mark: i64 = tx
            .query_one(
                "SELECT coalesce(max(erased_at), 0)::bigint FROM erased_ids",
                &[],
            )?
            .get(0);
        let now = now.max(mark + 1);
        let mut erased = Erased::default();
        // The emails the person's summaries carry find contacts known only by
        // email (seed 003's events may name no user id).
        let emails: Vec<String> = tx
            .query(
                "SELECT email FROM customers WHERE project_id = $1 AND person = ANY($2)
                 AND email IS NOT NULL",
                &[&project_id, &ids],
            )?
            .iter()
            .map(|r| r.get::<_, String>(0).trim().to_lowercase())
            .collect();
        for id in &ids {
            let span = tx.query_one(
                "WITH gone AS (
                     DELETE FROM events WHERE project_id = $1 AND (user_id = $2 OR anonymous_id = $2)
                     RETURNING ts)
                 SELECT count(*), min(ts), max(ts) FROM gone",
                &[&project_id, id],
            )?;
            erased.events += span.get::<_, i64>(0) as u64;
            if let (Some(first), Some(last)) = (span.get::<_, Option<i64>>(1), span.get(2)) {
                erased.saw(first);
                erased.saw(last);
            }
            for sql in [
                "DELETE FROM friction_sessions WHERE project_id = $1 AND person = $2",
                "DELETE FROM error_sessions WHERE project_id = $1 AND person = $2",
            ] {
                erased.friction_rows += tx.execute(sql, &[&project_id, id])?;
            }
            erased.sessions += tx.execute(
                "DELETE FROM sessions WHERE project_id = $1
                 AND (user_id = $2 OR anonymous_id = $2 OR identity = $2)",
                &[&project_id, id],
            )?;
            erased.customers += tx.execute(
                "DELETE FROM customers WHERE project_id = $1 AND person = $2",
                &[&project_id, id],
            )?;
            erased.identities += tx.execute(
                "DELETE FROM identities WHERE project_id = $1 AND (alias_id = $2 OR user_id = $2)",
                &[&project_id, id],
            )?;
            erased.contacts += super::crm::erase_contact(&mut tx, project_id, id, &emails)?;
            tx.execute(
                "INSERT INTO erased_ids (project_id, id, erased_at) VALUES ($1, $2, $3)
                 ON CONFLICT (project_id, id) DO UPDATE SET erased_at = EXCLUDED.erased_at",
                &[&project_id, id, &now],
            )?;
        }
        // The insights' facts of the events deleted go with them, and the
        // ids' numbers.
        crate::fact_chunks::erase(
            &mut super::facts::FactsTx(&mut tx),
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
