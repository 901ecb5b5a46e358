//! Insights' rows on SQLite: the log's page views and named track events in a
//! range, oldest first, each person resolved through the derived file's
//! identity links (see `spoor_domain::insights`).

use rusqlite::types::{Value as SqlValue, ValueRef};

use super::SqliteStore;
use crate::StoreResult;
use crate::insights::{Field, HeldValues, InsightRow, RowQuery, field_value};
use crate::traits::Traits;

/// The SQL that reads one field: a property's JSON text (its path bound as a
/// parameter), a campaign part's, an enrichment column, or the URL for `$page`.
fn field_sql(field: &Field, param: usize) -> String {
    match field {
        Field::Property(_) => format!("e.body -> ?{param}"),
        Field::Column(c) => format!("e.{}", c.sql()),
        Field::Page => "e.url".into(),
        // The key is one of five constants (`Utm::key`).
        Field::Campaign(u) => format!("e.body -> '$.context.campaign.{}'", u.key()),
        Field::Channel => "NULL".into(),
    }
}

/// A column's text; anything else (NULL) is missing.
fn text(v: ValueRef<'_>) -> Option<&str> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).ok(),
        _ => None,
    }
}

impl crate::backend::InsightStore for SqliteStore {
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
        let mut args: Vec<SqlValue> = vec![
            SqlValue::Integer(q.project_id),
            SqlValue::Integer(q.from),
            SqlValue::Integer(q.to),
            SqlValue::Integer(i64::from(q.page_views)),
            SqlValue::Text(serde_json::to_string(&q.track_names).unwrap_or_default()),
            SqlValue::Integer(i64::from(q.all_tracks)),
        ];
        let mut fields = String::new();
        for f in &q.fields {
            if let Field::Property(name) = f {
                // The name holds no quote or backslash (`Field::parse`).
                args.push(SqlValue::Text(format!("$.properties.\"{name}\"")));
            }
            fields.push_str(", ");
            fields.push_str(&field_sql(f, args.len()));
        }
        // The index on (project_id, ts) also orders by seq, the rowid, so the
        // rows come in order without a sort.
        let sql = format!(
            "SELECT e.seq, e.ts, e.type = 'page', e.name, e.url,
                    COALESCE(iu.user_id, e.user_id, ia.user_id), e.anonymous_id{fields}
             FROM events e INDEXED BY events_time
             LEFT JOIN derived.identities iu
               ON iu.project_id = e.project_id AND iu.alias_id = e.user_id
             LEFT JOIN derived.identities ia
               ON ia.project_id = e.project_id AND ia.alias_id = e.anonymous_id
             WHERE e.project_id = ?1 AND e.ts >= ?2 AND e.ts < ?3 AND e.is_bot = 0
               AND ((?4 AND e.type = 'page')
                    OR (e.type = 'track' AND (?6 OR e.name IN (SELECT value FROM json_each(?5)))))
             ORDER BY e.ts, e.seq"
        );
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut values: Vec<Option<String>> = Vec::with_capacity(q.fields.len());
        while let Some(row) = rows.next()? {
            let user: Option<&str> = text(row.get_ref(5)?);
            let anonymous: Option<&str> = text(row.get_ref(6)?);
            let (identified, person) = match (user, anonymous) {
                (Some(u), _) => (true, u),
                (None, Some(a)) => (false, a),
                (None, None) => continue,
            };
            values.clear();
            for (i, f) in q.fields.iter().enumerate() {
                let raw = text(row.get_ref(7 + i)?);
                values.push(field_value(f, raw));
            }
            let keep_going = each(&InsightRow {
                seq: row.get(0)?,
                ts: row.get(1)?,
                page_view: row.get(2)?,
                name: text(row.get_ref(3)?),
                identified,
                number: 0,
                values: &HeldValues {
                    values: &values,
                    person,
                    url: text(row.get_ref(4)?),
                },
                weight: 1,
            });
            if !keep_going {
                break;
            }
        }
        Ok(())
    }

    fn people_properties(
        &self,
        project_id: i64,
        with_properties: bool,
        each: &mut dyn FnMut(bool, &str, &Traits) -> bool,
    ) -> StoreResult<()> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT identified, person, properties FROM derived.customers
             WHERE project_id = ?1 AND (?2 = 0 OR properties IS NOT NULL)",
        )?;
        let mut rows = stmt.query(rusqlite::params![project_id, with_properties])?;
        while let Some(row) = rows.next()? {
            let Some(person) = text(row.get_ref(1)?) else {
                continue;
            };
            let traits = Traits::from_json(text(row.get_ref(2)?));
            if !each(row.get(0)?, person, &traits) {
                break;
            }
        }
        Ok(())
    }
}
