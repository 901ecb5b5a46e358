//! Insights' rows on PostgreSQL: first from the insights' facts
//! (`facts.rs`); else the log's page views and named track events in a
//! range, oldest first, each person resolved through the identity links (see
//! `spoor_domain::insights`).

use postgres::types::ToSql;

use super::PgStore;
use crate::StoreResult;
use crate::insights::{Field, HeldValues, InsightRow, RowQuery, field_value};
use crate::traits::Traits;

/// Rows fetched from the portal at a time: memory stays flat however many
/// events the range holds.
const SLICE: i32 = 2_000;

impl crate::backend::InsightStore for PgStore {
    fn insight_rows(
        &self,
        q: &RowQuery,
        each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
    ) -> StoreResult<()> {
        if self.facts_rows(q, each)? {
            return Ok(());
        }
        self.log_insight_rows(q, each)
    }

    fn log_insight_rows(
        &self,
        q: &RowQuery,
        each: &mut dyn FnMut(&InsightRow<'_>) -> bool,
    ) -> StoreResult<()> {
        let names: Vec<&str> = q.track_names.iter().map(String::as_str).collect();
        let mut args: Vec<Box<dyn ToSql + Sync>> = vec![
            Box::new(q.project_id),
            Box::new(q.from),
            Box::new(q.to),
            Box::new(q.page_views),
            Box::new(names.iter().map(|s| s.to_string()).collect::<Vec<String>>()),
            Box::new(q.all_tracks),
        ];
        let mut fields = String::new();
        let mut body = false;
        for f in &q.fields {
            fields.push_str(", ");
            match f {
                Field::Property(name) => {
                    body = true;
                    args.push(Box::new(name.clone()));
                    // The value's JSON text, as SQLite's `->` gives it.
                    fields.push_str(&format!("(j.b -> 'properties' -> ${})::text", args.len()));
                }
                Field::Campaign(u) => {
                    body = true;
                    // The key is one of five constants (`Utm::key`).
                    fields.push_str(&format!(
                        "(j.b -> 'context' -> 'campaign' -> '{}')::text",
                        u.key()
                    ));
                }
                Field::Column(c) => fields.push_str(&format!("e.{}", c.sql())),
                Field::Page => fields.push_str("e.url"),
                Field::Channel => fields.push_str("NULL::text"),
            }
        }
        let lateral = if body {
            "CROSS JOIN LATERAL (SELECT e.body::jsonb AS b) j"
        } else {
            ""
        };
        let sql = format!(
            "SELECT e.seq, e.ts, e.type = 'page', e.name, e.url,
                    COALESCE(iu.user_id, e.user_id, ia.user_id), e.anonymous_id{fields}
             FROM events e
             LEFT JOIN identities iu
               ON iu.project_id = e.project_id AND iu.alias_id = e.user_id
             LEFT JOIN identities ia
               ON ia.project_id = e.project_id AND ia.alias_id = e.anonymous_id
             {lateral}
             WHERE e.project_id = $1 AND e.ts >= $2 AND e.ts < $3 AND NOT e.is_bot
               AND (($4 AND e.type = 'page') OR (e.type = 'track' AND ($6 OR e.name = ANY($5))))
             ORDER BY e.ts, e.seq"
        );
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref()).collect();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let portal = tx.bind(&sql, &params)?;
        let mut values: Vec<Option<String>> = Vec::with_capacity(q.fields.len());
        'read: loop {
            let rows = tx.query_portal(&portal, SLICE)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let user: Option<&str> = row.try_get(5)?;
                let anonymous: Option<&str> = row.try_get(6)?;
                let (identified, person) = match (user, anonymous) {
                    (Some(u), _) => (true, u),
                    (None, Some(a)) => (false, a),
                    (None, None) => continue,
                };
                values.clear();
                for (i, f) in q.fields.iter().enumerate() {
                    let raw: Option<&str> = row.try_get(7 + i)?;
                    values.push(field_value(f, raw));
                }
                let keep_going = each(&InsightRow {
                    seq: row.try_get(0)?,
                    ts: row.try_get(1)?,
                    page_view: row.try_get(2)?,
                    name: row.try_get(3)?,
                    identified,
                    number: 0,
                    values: &HeldValues {
                        values: &values,
                        person,
                        url: row.try_get(4)?,
                    },
                    weight: 1,
                });
                if !keep_going {
                    break 'read;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn people_properties(
        &self,
        project_id: i64,
        with_properties: bool,
        each: &mut dyn FnMut(bool, &str, &Traits) -> bool,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let portal = tx.bind(
            "SELECT identified, person, properties FROM customers
             WHERE project_id = $1 AND (NOT $2 OR properties IS NOT NULL)",
            &[&project_id, &with_properties],
        )?;
        'read: loop {
            let rows = tx.query_portal(&portal, SLICE)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let traits = Traits::from_json(row.try_get::<_, Option<&str>>(2)?);
                if !each(row.try_get(0)?, row.try_get(1)?, &traits) {
                    break 'read;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}
