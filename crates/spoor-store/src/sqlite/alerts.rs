//! Alert rules and the notification log on SQLite (in `spoor.db`).

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::alerts::{AlertRule, NewNotification, Notification, RuleState};
use crate::{StoreError, StoreResult};

const RULE_COLUMNS: &str = "id, project_id, name, kind, page, threshold, window_minutes,
    webhook_url, email, signing_secret, active, firing, watermark, last_fired_at,
    last_checked_at, created_at";

fn rule_from_row(r: &Row) -> rusqlite::Result<AlertRule> {
    Ok(AlertRule {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        page: r.get(4)?,
        threshold: r.get(5)?,
        window_minutes: r.get(6)?,
        webhook_url: r.get(7)?,
        email: r.get(8)?,
        signing_secret: r.get(9)?,
        active: r.get(10)?,
        firing: r.get(11)?,
        watermark: r.get(12)?,
        last_fired_at: r.get(13)?,
        last_checked_at: r.get(14)?,
        created_at: r.get(15)?,
    })
}

const NOTIFICATION_COLUMNS: &str = "id, project_id, rule_id, rule_name, channel, target, summary,
    payload, status, attempts, next_attempt_at, last_error, created_at, sent_at";

fn notification_from_row(r: &Row) -> rusqlite::Result<Notification> {
    Ok(Notification {
        id: r.get(0)?,
        project_id: r.get(1)?,
        rule_id: r.get(2)?,
        rule: r.get(3)?,
        channel: r.get(4)?,
        target: r.get(5)?,
        summary: r.get(6)?,
        payload: r.get(7)?,
        status: r.get(8)?,
        attempts: r.get(9)?,
        next_attempt_at: r.get(10)?,
        last_error: r.get(11)?,
        created_at: r.get(12)?,
        sent_at: r.get(13)?,
    })
}

const QUEUE: &str = "INSERT INTO notification_log (project_id, rule_id, rule_name, channel,
        target, summary, payload, status, attempts, next_attempt_at, created_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?8)";

impl crate::backend::AlertStore for SqliteStore {
    fn create_alert_rule(&self, r: &AlertRule) -> StoreResult<AlertRule> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO alert_rules (project_id, name, kind, page, threshold, window_minutes,
                 webhook_url, email, signing_secret, active, firing, watermark, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, ?12)",
            params![
                r.project_id,
                r.name,
                r.kind,
                r.page,
                r.threshold,
                r.window_minutes,
                r.webhook_url,
                r.email,
                r.signing_secret,
                r.active,
                r.watermark,
                r.created_at
            ],
        )?;
        let id = conn.last_insert_rowid();
        drop(conn);
        self.alert_rule(id)?
            .ok_or_else(|| StoreError::NotFound(format!("no alert rule {id}")))
    }

    fn alert_rule(&self, id: i64) -> StoreResult<Option<AlertRule>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = ?1"
        ))?;
        Ok(stmt.query_row([id], rule_from_row).optional()?)
    }

    fn alert_rules(&self, project_id: Option<i64>) -> StoreResult<Vec<AlertRule>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {RULE_COLUMNS} FROM alert_rules WHERE ?1 IS NULL OR project_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([project_id], rule_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_alert_rule(&self, r: &AlertRule) -> StoreResult<AlertRule> {
        let changed = self.conn()?.execute(
            "UPDATE alert_rules SET name = ?2, kind = ?3, page = ?4, threshold = ?5,
                 window_minutes = ?6, webhook_url = ?7, email = ?8, active = ?9,
                 firing = CASE WHEN ?9 THEN firing ELSE 0 END
             WHERE id = ?1",
            params![
                r.id,
                r.name,
                r.kind,
                r.page,
                r.threshold,
                r.window_minutes,
                r.webhook_url,
                r.email,
                r.active
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no alert rule {}", r.id)));
        }
        self.alert_rule(r.id)?
            .ok_or_else(|| StoreError::NotFound(format!("no alert rule {}", r.id)))
    }

    fn delete_alert_rule(&self, id: i64) -> StoreResult<bool> {
        Ok(self
            .conn()?
            .execute("DELETE FROM alert_rules WHERE id = ?1", [id])?
            > 0)
    }

    /// Records a rule's evaluation and queues what it fired, atomically.
    fn record_evaluation(
        &self,
        rule_id: Option<i64>,
        state: Option<&RuleState>,
        queue: &[NewNotification],
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let (Some(id), Some(s)) = (rule_id, state) {
            tx.execute(
                "UPDATE alert_rules SET firing = ?2, watermark = ?3, last_fired_at = ?4,
                     last_checked_at = ?5 WHERE id = ?1",
                params![
                    id,
                    s.firing,
                    s.watermark,
                    s.last_fired_at,
                    s.last_checked_at
                ],
            )?;
        }
        {
            let mut put = tx.prepare_cached(QUEUE)?;
            for n in queue {
                put.execute(params![
                    n.project_id,
                    n.rule_id,
                    n.rule_name,
                    n.channel,
                    n.target,
                    n.summary,
                    n.payload,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<Notification>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notification_log
             WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![now, limit], notification_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records an attempt: `status` is `sent`, `pending` (retry at
    /// `next_attempt_at`) or `failed`.
    fn notification_attempted(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        next_attempt_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE notification_log SET status = ?2, attempts = attempts + 1, last_error = ?3,
                 next_attempt_at = ?4, sent_at = CASE WHEN ?2 = 'sent' THEN ?5 END
             WHERE id = ?1",
            params![id, status, error, next_attempt_at, now],
        )?;
        Ok(())
    }

    fn notifications(&self, project_id: i64, limit: i64) -> StoreResult<Vec<Notification>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notification_log WHERE project_id = ?1
             ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![project_id, limit], notification_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
