//! The event log's monthly partitions (see migration 0002 for the layout).
//!
//! Spoor keeps a partition for the previous month (late events are common in a
//! month's first days), the current one and the next two, so events normally
//! land in one made in advance. Rows that reached the default partition
//! (a month that had none yet) are moved into their month's partition when it is
//! made. A partition is made as a plain table, filled, and then attached, which
//! blocks neither the writers nor the readers of the other partitions; an
//! advisory lock keeps two nodes from making the same one.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use super::PgStore;
use crate::{Retention, StoreResult};

/// Months ahead of the current one that get a partition in advance.
const MONTHS_AHEAD: u32 = 2;
/// The earliest month with partitions of its own: 2000-01, where `events_untimed`
/// ends.
const FIRST_MONTH: (i32, u32) = (2000, 1);

/// A calendar month in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Month {
    year: i32,
    month: u32,
}

impl Month {
    fn of_ms(ms: i64) -> Month {
        let day = DateTime::<Utc>::from_timestamp_millis(ms)
            .unwrap_or_default()
            .date_naive();
        Month {
            year: day.year(),
            month: day.month(),
        }
    }

    fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    fn plus(self, n: u32) -> Month {
        let d = self.first_day() + Months::new(n);
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    fn previous(self) -> Month {
        let d = self.first_day() - Months::new(1);
        Month {
            year: d.year(),
            month: d.month(),
        }
    }

    /// Where the month starts, in ms since the epoch.
    fn start_ms(self) -> i64 {
        self.first_day()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis()
    }

    fn table(self) -> String {
        format!("events_y{:04}m{:02}", self.year, self.month)
    }

    fn from_table(name: &str) -> Option<Month> {
        let rest = name.strip_prefix("events_y")?;
        let (year, month) = rest.split_once('m')?;
        Some(Month {
            year: year.parse().ok()?,
            month: month.parse().ok()?,
        })
    }
}

impl PgStore {
    /// Monthly partitions that exist now.
    fn monthly_partitions(&self) -> StoreResult<BTreeSet<Month>> {
        let rows = self.conn()?.query(
            "SELECT c.relname FROM pg_inherits i
               JOIN pg_class c ON c.oid = i.inhrelid
               JOIN pg_class p ON p.oid = i.inhparent
               JOIN pg_namespace n ON n.oid = p.relnamespace
             WHERE p.relname = 'events' AND n.nspname = current_schema()",
            &[],
        )?;
        Ok(rows
            .iter()
            .filter_map(|r| Month::from_table(r.get(0)))
            .collect())
    }

    /// Makes the partitions for the previous month, this one and the next ones,
    /// and for every
    /// month from 2000 up to those that has rows waiting in the default partition.
    /// Returns the partitions it made.
    pub(super) fn make_partitions(&self, now: i64) -> StoreResult<Vec<String>> {
        let current = Month::of_ms(now);
        let horizon = current.plus(MONTHS_AHEAD);
        let mut wanted: BTreeSet<Month> = (0..=MONTHS_AHEAD).map(|n| current.plus(n)).collect();
        wanted.insert(current.previous());
        let first = Month {
            year: FIRST_MONTH.0,
            month: FIRST_MONTH.1,
        };
        let waiting = self.conn()?.query(
            "SELECT DISTINCT dedup_ts / 1000 / 86400 AS day FROM events_default
             WHERE dedup_ts >= $1 AND dedup_ts < $2",
            &[&first.start_ms(), &horizon.plus(1).start_ms()],
        )?;
        wanted.extend(
            waiting
                .iter()
                .map(|r| Month::of_ms(r.get::<_, i64>(0) * 86_400_000)),
        );
        let existing = self.monthly_partitions()?;
        let mut made = Vec::new();
        for month in wanted.difference(&existing) {
            if self.make_partition(*month)? {
                made.push(month.table());
            }
        }
        Ok(made)
    }

    /// Makes one month's partition, moving its rows out of the default
    /// partition. False when another node made it first.
    fn make_partition(&self, month: Month) -> StoreResult<bool> {
        let (table, from, to) = (month.table(), month.start_ms(), month.plus(1).start_ms());
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('spoor-partitions:' || current_schema()))",
            &[],
        )?;
        let exists = tx
            .query_opt(
                "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relname = $1 AND n.nspname = current_schema()",
                &[&table],
            )?
            .is_some();
        if exists {
            return Ok(false);
        }
        // Writers that route a row to the default partition wait here until the
        // move is done; rows for other months go on being written.
        tx.batch_execute(&format!(
            "SET LOCAL lock_timeout = '10s';
             LOCK TABLE events_default IN ACCESS EXCLUSIVE MODE;
             CREATE TABLE {table} (LIKE events INCLUDING DEFAULTS);
             WITH moved AS (DELETE FROM events_default WHERE dedup_ts >= {from} AND dedup_ts < {to} RETURNING *)
                 INSERT INTO {table} SELECT * FROM moved;
             ALTER TABLE events ATTACH PARTITION {table} FOR VALUES FROM ({from}) TO ({to});"
        ))?;
        tx.commit()?;
        Ok(true)
    }

    /// Drops every monthly partition that ends at or before `cutoff` (whole
    /// months only), and deletes older rows from the untimed and default
    /// partitions, by event time; and the rollups of hours before the cutoff.
    pub(super) fn drop_partitions_before(&self, cutoff: i64) -> StoreResult<Retention> {
        let mut done = Retention::default();
        // The end of the newest month dropped: the insights' facts of the
        // events before it go too.
        let mut gone_before: Option<i64> = None;
        for month in self.monthly_partitions()? {
            if month.plus(1).start_ms() > cutoff {
                continue;
            }
            gone_before = gone_before.max(Some(month.plus(1).start_ms()));
            let table = month.table();
            let mut conn = self.conn()?;
            let mut tx = conn.transaction()?;
            tx.batch_execute(&format!(
                "SET LOCAL lock_timeout = '10s';
                 ALTER TABLE events DETACH PARTITION {table};
                 DROP TABLE {table};"
            ))?;
            tx.commit()?;
            done.partitions_dropped.push(table);
        }
        for table in ["rollup_hours", "rollup_dims"] {
            self.conn()?
                .execute(&format!("DELETE FROM {table} WHERE hour < $1"), &[&cutoff])?;
        }
        if let Some(before) = gone_before {
            let mut conn = self.conn()?;
            let mut tx = conn.transaction()?;
            let projects: Vec<i64> = tx
                .query(
                    "SELECT DISTINCT project_id FROM insight_facts WHERE min_ts < $1",
                    &[&before],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            for project_id in projects {
                crate::fact_chunks::drop_facts_before(
                    &mut super::facts::FactsTx(&mut tx),
                    project_id,
                    before,
                )?;
            }
            tx.commit()?;
        }
        for table in ["events_untimed", "events_default"] {
            let n = self
                .conn()?
                .execute(&format!("DELETE FROM {table} WHERE ts < $1"), &[&cutoff])?;
            done.rows_deleted += n;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_name_their_tables_and_bounds() {
        // 2026-11-22T03:00:00Z
        let m = Month::of_ms(1_795_316_400_000);
        assert_eq!(m.table(), "events_y2026m11");
        assert_eq!(Month::from_table("events_y2026m11"), Some(m));
        assert_eq!(m.plus(2).table(), "events_y2027m01");
        assert_eq!(
            m.plus(2).previous().previous().previous().table(),
            "events_y2026m10"
        );
        assert_eq!(m.start_ms(), 1_793_491_200_000);
        assert_eq!(Month::of_ms(m.start_ms()), m);
        assert_eq!(Month::of_ms(m.start_ms() - 1).table(), "events_y2026m10");
        assert_eq!(Month::from_table("events_default"), None);
    }
}
