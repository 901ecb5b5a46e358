//! The PostgreSQL event writer: one connection, one transaction per group of
//! requests, and one statement for all of a group's events (arrays unnested into
//! rows), so a group costs the same few round trips however many requests it holds.

use postgres::error::SqlState;
use postgres::{Client, Statement};

use crate::key_touches::KeyTouches;
use crate::sessions::FastSet;
use crate::{Appended, Batch, StoreResult};

const INSERT: &str = "INSERT INTO events (project_id, message_id, dedup_ts, type, name, user_id,
    anonymous_id, session_id, ts, received_at, url, referrer, ip, country, region, city, browser,
    browser_version, os, os_version, device_type, is_bot, key_id, body)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[],
        $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[],
        $21::text[], $22::boolean[], $23::bigint[], $24::text[])
    ON CONFLICT (project_id, dedup_ts, message_id) DO NOTHING
    RETURNING project_id, dedup_ts, message_id";

pub struct PgWriter {
    connect: Box<dyn Fn() -> StoreResult<Client> + Send>,
    /// The connection and the prepared INSERT; `None` after the connection broke,
    /// so that the next group reconnects: the writer recovers by itself when the
    /// database comes back.
    conn: Option<(Client, Statement)>,
    touches: KeyTouches,
}

/// Column arrays for one INSERT.
#[derive(Default)]
struct Columns<'a> {
    project_id: Vec<i64>,
    message_id: Vec<&'a str>,
    dedup_ts: Vec<i64>,
    kind: Vec<&'static str>,
    name: Vec<Option<&'a str>>,
    user_id: Vec<Option<&'a str>>,
    anonymous_id: Vec<Option<&'a str>>,
    session_id: Vec<Option<&'a str>>,
    ts: Vec<i64>,
    received_at: Vec<i64>,
    url: Vec<Option<&'a str>>,
    referrer: Vec<Option<&'a str>>,
    ip: Vec<Option<&'a str>>,
    country: Vec<Option<&'a str>>,
    region: Vec<Option<&'a str>>,
    city: Vec<Option<&'a str>>,
    browser: Vec<Option<&'a str>>,
    browser_version: Vec<Option<&'a str>>,
    os: Vec<Option<&'a str>>,
    os_version: Vec<Option<&'a str>>,
    device_type: Vec<Option<&'a str>>,
    is_bot: Vec<bool>,
    key_id: Vec<Option<i64>>,
    body: Vec<&'a str>,
}

impl PgWriter {
    pub(super) fn new(
        connect: Box<dyn Fn() -> StoreResult<Client> + Send>,
    ) -> StoreResult<PgWriter> {
        let mut writer = PgWriter {
            connect,
            conn: None,
            touches: KeyTouches::default(),
        };
        writer.connection()?;
        Ok(writer)
    }

    fn connection(&mut self) -> StoreResult<&mut (Client, Statement)> {
        if self
            .conn
            .as_ref()
            .is_none_or(|(client, _)| client.is_closed())
        {
            let mut client = (self.connect)()?;
            let insert = client.prepare(INSERT)?;
            self.conn = Some((client, insert));
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// One transaction: the group's rows and the keys' last use.
    fn write(
        (client, insert): &mut (Client, Statement),
        c: &Columns<'_>,
        touch: &[i64],
        now: i64,
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        let mut tx = client.transaction()?;
        let inserted = tx.query(
            insert,
            &[
                &c.project_id,
                &c.message_id,
                &c.dedup_ts,
                &c.kind,
                &c.name,
                &c.user_id,
                &c.anonymous_id,
                &c.session_id,
                &c.ts,
                &c.received_at,
                &c.url,
                &c.referrer,
                &c.ip,
                &c.country,
                &c.region,
                &c.city,
                &c.browser,
                &c.browser_version,
                &c.os,
                &c.os_version,
                &c.device_type,
                &c.is_bot,
                &c.key_id,
                &c.body,
            ],
        )?;
        if !touch.is_empty() {
            tx.execute(
                "UPDATE api_keys SET last_used_at = $2 WHERE id = ANY($1)",
                &[&touch, &now],
            )?;
        }
        tx.commit()?;
        Ok(inserted)
    }
}

impl crate::backend::LogWriter for PgWriter {
    fn append(&mut self, batches: &[Batch<'_>], now: i64) -> StoreResult<Vec<Appended>> {
        let mut c = Columns::default();
        for batch in batches {
            for e in batch.events {
                let en = &e.enrichment;
                c.project_id.push(batch.project_id);
                c.message_id.push(&e.message_id);
                c.dedup_ts.push(e.dedup_ts);
                c.kind.push(e.kind.as_str());
                c.name.push(e.name.as_deref());
                c.user_id.push(e.user_id.as_deref());
                c.anonymous_id.push(e.anonymous_id.as_deref());
                c.session_id.push(e.session_id.as_deref());
                c.ts.push(e.timestamp);
                c.received_at.push(e.received_at);
                c.url.push(e.url.as_deref());
                c.referrer.push(e.referrer.as_deref());
                c.ip.push(en.ip.as_deref());
                c.country.push(en.country.as_deref());
                c.region.push(en.region.as_deref());
                c.city.push(en.city.as_deref());
                c.browser.push(en.browser.as_deref());
                c.browser_version.push(en.browser_version.as_deref());
                c.os.push(en.os.as_deref());
                c.os_version.push(en.os_version.as_deref());
                c.device_type.push(en.device_type.as_deref());
                c.is_bot.push(en.is_bot);
                c.key_id.push(batch.key_id);
                c.body.push(&e.body);
            }
        }
        let touch = self.touches.due(batches, now);
        let first = Self::write(self.connection()?, &c, &touch, now);
        let inserted = match first {
            Ok(rows) => rows,
            // Written once more, as nothing of it was stored: a connection that
            // broke while idle (the database restarted) fails on first use; and
            // rows routed to the default partition while a month's partition was
            // being attached fail its new constraint, and now go to the new one.
            Err(e)
                if e.code() == Some(&SqlState::CHECK_VIOLATION)
                    || self
                        .conn
                        .as_ref()
                        .is_some_and(|(client, _)| client.is_closed()) =>
            {
                Self::write(self.connection()?, &c, &touch, now)?
            }
            Err(e) => return Err(e.into()),
        };
        self.touches.written(&touch, now);
        let events: usize = batches.iter().map(|b| b.events.len()).sum();
        // Every row stored: nothing was a duplicate (two messages with one key
        // in the group store one row), so nothing needs matching.
        if inserted.len() == events {
            return Ok(batches
                .iter()
                .map(|batch| Appended {
                    accepted: batch.events.len(),
                    duplicates: 0,
                })
                .collect());
        }
        // Credit each stored row to the first message that carried its key; any
        // other message with that key, in this group or before it, is a duplicate.
        let mut new: FastSet<(i64, i64, &str)> = inserted
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get::<_, &str>(2)))
            .collect();
        let out = batches
            .iter()
            .map(|batch| {
                let mut done = Appended::default();
                for e in batch.events {
                    if new.remove(&(batch.project_id, e.dedup_ts, e.message_id.as_str())) {
                        done.accepted += 1;
                    } else {
                        done.duplicates += 1;
                    }
                }
                done
            })
            .collect();
        Ok(out)
    }
}
