//! Alert rules and the notification log on PostgreSQL.

use postgres::Row;

use super::PgStore;
use crate::alerts::{AlertRule, NewNotification, Notification, RuleState};
use crate::{StoreError, StoreResult};

const RULE_COLUMNS: &str = "id, project_id, name, kind, page, threshold, window_minutes,
    webhook_url, email, signing_secret, active, firing, watermark, last_fired_at,
    last_checked_at, created_at";

fn rule_from_row(r: &Row) -> AlertRule {
    AlertRule {
        id: r.get(0),
        project_id: r.get(1),
        name: r.get(2),
        kind: r.get(3),
        page: r.get(4),
        threshold: r.get(5),
        window_minutes: r.get(6),
        webhook_url: r.get(7),
        email: r.get(8),
        signing_secret: r.get(9),
        active: r.get(10),
        firing: r.get(11),
        watermark: r.get(12),
        last_fired_at: r.get(13),
        last_checked_at: r.get(14),
        created_at: r.get(15),
    }
}

const NOTIFICATION_COLUMNS: &str = "id, project_id, rule_id, rule_name, channel, target, summary,
    payload, status, attempts, next_attempt_at, last_error, created_at, sent_at";

fn notification_from_row(r: &Row) -> Notification {
    Notification {
        id: r.get(0),
        project_id: r.get(1),
        rule_id: r.get(2),
        rule: r.get(3),
        channel: r.get(4),
        target: r.get(5),
        summary: r.get(6),
        payload: r.get(7),
        status: r.get(8),
        attempts: r.get(9),
        next_attempt_at: r.get(10),
        last_error: r.get(11),
        created_at: r.get(12),
        sent_at: r.get(13),
    }
}

impl crate::backend::AlertStore for PgStore {
    fn create_alert_rule(&self, r: &AlertRule) -> StoreResult<AlertRule> {
        let row = self.conn()?.query_one(
            &format!(
                "INSERT INTO alert_rules (project_id, name, kind, page, threshold, window_minutes,
                     webhook_url, email, signing_secret, active, firing, watermark, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, false, $11, $12)
                 RETURNING {RULE_COLUMNS}"
            ),
            &[
                &r.project_id,
                &r.name,
                &r.kind,
                &r.page,
                &r.threshold,
                &r.window_minutes,
                &r.webhook_url,
                &r.email,
                &r.signing_secret,
                &r.active,
                &r.watermark,
                &r.created_at,
            ],
        )?;
        Ok(rule_from_row(&row))
    }

    fn alert_rule(&self, id: i64) -> StoreResult<Option<AlertRule>> {
        let row = self.conn()?.query_opt(
            &format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = $1"),
            &[&id],
        )?;
        Ok(row.as_ref().map(rule_from_row))
    }

    fn alert_rules(&self, project_id: Option<i64>) -> StoreResult<Vec<AlertRule>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {RULE_COLUMNS} FROM alert_rules
                 WHERE $1::BIGINT IS NULL OR project_id = $1 ORDER BY id"
            ),
            &[&project_id],
        )?;
        Ok(rows.iter().map(rule_from_row).collect())
    }

    fn update_alert_rule(&self, r: &AlertRule) -> StoreResult<AlertRule> {
        let row = self.conn()?.query_opt(
            &format!(
                "UPDATE alert_rules SET name = $2, kind = $3, page = $4, threshold = $5,
                     window_minutes = $6, webhook_url = $7, email = $8, active = $9,
                     firing = firing AND $9
                 WHERE id = $1 RETURNING {RULE_COLUMNS}"
            ),
            &[
                &r.id,
                &r.name,
                &r.kind,
                &r.page,
                &r.threshold,
                &r.window_minutes,
                &r.webhook_url,
                &r.email,
                &r.active,
            ],
        )?;
        row.as_ref()
            .map(rule_from_row)
            .ok_or_else(|| StoreError::NotFound(format!("no alert rule {}", r.id)))
    }

    fn delete_alert_rule(&self, id: i64) -> StoreResult<bool> {
        Ok(self
            .conn()?
            .execute("DELETE FROM alert_rules WHERE id = $1", &[&id])?
            > 0)
    }

    fn record_evaluation(
        &self,
        rule_id: Option<i64>,
        state: Option<&RuleState>,
        queue: &[NewNotification],
        now: i64,
    ) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        if let (Some(id), Some(s)) = (rule_id, state) {
            tx.execute(
                "UPDATE alert_rules SET firing = $2, watermark = $3, last_fired_at = $4,
                     last_checked_at = $5 WHERE id = $1",
                &[
                    &id,
                    &s.firing,
                    &s.watermark,
                    &s.last_fired_at,
                    &s.last_checked_at,
                ],
            )?;
        }
        let put = tx.prepare(
            "INSERT INTO notification_log (project_id, rule_id, rule_name, channel, target,
                 summary, payload, status, attempts, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)",
        )?;
        for n in queue {
            tx.execute(
                &put,
                &[
                    &n.project_id,
                    &n.rule_id,
                    &n.rule_name,
                    &n.channel,
                    &n.target,
                    &n.summary,
                    &n.payload,
                    &now,
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn due_notifications(&self, now: i64, limit: i64) -> StoreResult<Vec<Notification>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notification_log
                 WHERE status = 'pending' AND next_attempt_at <= $1
                 ORDER BY next_attempt_at, id LIMIT $2"
            ),
            &[&now, &limit],
        )?;
        Ok(rows.iter().map(notification_from_row).collect())
    }

    fn notification_attempted(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        next_attempt_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE notification_log SET status = $2, attempts = attempts + 1, last_error = $3,
                 next_attempt_at = $4, sent_at = CASE WHEN $2 = 'sent' THEN $5::BIGINT END
             WHERE id = $1",
            &[&id, &status, &error, &next_attempt_at, &now],
        )?;
        Ok(())
    }

    fn notifications(&self, project_id: i64, limit: i64) -> StoreResult<Vec<Notification>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notification_log WHERE project_id = $1
                 ORDER BY id DESC LIMIT $2"
            ),
            &[&project_id, &limit],
        )?;
        Ok(rows.iter().map(notification_from_row).collect())
    }
}
