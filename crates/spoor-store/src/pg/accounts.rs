//! Organisations, users, memberships, browser sessions and settings on
//! PostgreSQL, and the project and key changes the dashboard makes.

use postgres::Row;
use postgres::error::SqlState;

use super::{KEY_SELECT, PROJECT_SELECT, PgStore, key_from_row, now, project_from_row};
use crate::records::{KeyChange, SETUP_TOKEN, setup_token_admits};
use crate::{
    FirstOwner, KeyRecord, KeySelector, Membership, NewKey, Org, Project, Role, StoreError,
    StoreResult, User, WebSession,
};
use spoor_core::login_backoff::{Attempts, NETWORK};

fn org_from_row(r: &Row) -> Org {
    Org {
        id: r.get("id"),
        name: r.get("name"),
        created_at: r.get("created_at"),
    }
}

pub(super) fn user_from_row(r: &Row) -> User {
    User {
        id: r.get("id"),
        email: r.get("email"),
        created_at: r.get("created_at"),
        last_login_at: r.get("last_login_at"),
    }
}

fn conflict(e: postgres::Error, what: String) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict(what)
    } else {
        e.into()
    }
}

impl crate::backend::AccountStore for PgStore {
    fn create_project(&self, org_id: i64, name: &str) -> StoreResult<Project> {
        let row = self.conn()?.query_one(
            &format!(
                "INSERT INTO projects (org_id, name, created_at) VALUES ($1, $2, $3)
                 RETURNING {}",
                PROJECT_SELECT
                    .trim_start_matches("SELECT ")
                    .trim_end_matches(" FROM projects")
            ),
            &[&org_id, &name, &now()],
        );
        match row {
            Ok(row) => Ok(project_from_row(&row)),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(StoreError::Conflict(
                format!("a project named {name:?} exists already"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    fn project_by_id(&self, id: i64) -> StoreResult<Project> {
        self.conn()?
            .query_opt(&format!("{PROJECT_SELECT} WHERE id = $1"), &[&id])?
            .map(|r| project_from_row(&r))
            .ok_or_else(|| StoreError::NotFound(format!("no project with id {id}")))
    }

    fn rename_project(&self, id: i64, name: &str) -> StoreResult<Project> {
        self.conn()?
            .execute("UPDATE projects SET name = $2 WHERE id = $1", &[&id, &name])
            .map_err(|e| conflict(e, format!("a project named {name:?} exists already")))?;
        self.project_by_id(id)
    }

    fn projects(&self) -> StoreResult<Vec<Project>> {
        let rows = self
            .conn()?
            .query(&format!("{PROJECT_SELECT} ORDER BY id"), &[])?;
        Ok(rows.iter().map(project_from_row).collect())
    }

    fn project(&self, name: &str) -> StoreResult<Project> {
        self.conn()?
            .query_opt(&format!("{PROJECT_SELECT} WHERE name = $1"), &[&name])?
            .map(|r| project_from_row(&r))
            .ok_or_else(|| StoreError::NotFound(format!("no project named {name:?}")))
    }

    fn set_keep_full_ip(&self, project: &str, keep: bool) -> StoreResult<Project> {
        self.conn()?
            .query_opt(
                "UPDATE projects SET keep_full_ip = $1 WHERE name = $2 RETURNING id, org_id, name, keep_full_ip, created_at",
                &[&keep, &project],
            )?
            .map(|r| project_from_row(&r))
            .ok_or_else(|| StoreError::NotFound(format!("no project named {project:?}")))
    }

    fn create_key(&self, key: &NewKey) -> StoreResult<KeyRecord> {
        let domains = serde_json::to_string(&key.domains).unwrap_or_else(|_| "[]".into());
        let limit = i32::try_from(key.rate_limit_per_minute).unwrap_or(i32::MAX);
        let per_address = i32::try_from(key.per_address_rate_limit_per_minute).unwrap_or(i32::MAX);
        let id: i64 = self
            .conn()?
            .query_one(
                "INSERT INTO api_keys (project_id, name, key_hash, prefix, domains, rate_limit_per_minute,
                     per_address_rate_limit_per_minute, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[&key.project_id, &key.name, &key.hash, &key.prefix, &domains, &limit, &per_address, &now()],
            )?
            .get(0);
        self.key_where("k.id = $1", &id)?
            .ok_or_else(|| StoreError::NotFound(format!("no key with id {id}")))
    }

    fn keys(&self) -> StoreResult<Vec<KeyRecord>> {
        let rows = self
            .conn()?
            .query(&format!("{KEY_SELECT} ORDER BY k.id"), &[])?;
        Ok(rows.iter().map(key_from_row).collect())
    }

    fn key_by_hash(&self, hash: &str) -> StoreResult<Option<KeyRecord>> {
        // Pooled connections that broke while idle (the database restarted) fail
        // on first use and are closed on return. Every request carries a key
        // lookup, so a stale connection is retried on the next one rather than
        // answered with a 503.
        let mut last = None;
        for _ in 0..=self.config.pool_size {
            let mut conn = self.conn()?;
            let found = conn
                .prepared(&format!("{KEY_SELECT} WHERE k.key_hash = $1"))
                .and_then(|statement| conn.query_opt(&statement, &[&hash]));
            match found {
                Ok(row) => return Ok(row.map(|r| key_from_row(&r))),
                Err(e) if conn.is_closed() => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.map_or_else(
            || StoreError::Database("no usable connection".into()),
            Into::into,
        ))
    }

    fn set_key_active(&self, key: &KeySelector, active: bool) -> StoreResult<KeyRecord> {
        let changed = match key {
            KeySelector::Id(id) => self.conn()?.execute(
                "UPDATE api_keys SET active = $1 WHERE id = $2",
                &[&active, id],
            )?,
            KeySelector::Hash(h) => self.conn()?.execute(
                "UPDATE api_keys SET active = $1 WHERE key_hash = $2",
                &[&active, h],
            )?,
        };
        let found = match key {
            KeySelector::Id(id) => self.key_where("k.id = $1", id)?,
            KeySelector::Hash(h) => self.key_by_hash(h)?,
        };
        match (changed, found) {
            (1, Some(k)) => Ok(k),
            _ => Err(StoreError::NotFound(
                "no such key: give a key id from `spoor keys list` or the key itself".into(),
            )),
        }
    }

    fn keys_of_project(&self, project_id: i64) -> StoreResult<Vec<KeyRecord>> {
        let rows = self.conn()?.query(
            &format!("{KEY_SELECT} WHERE k.project_id = $1 ORDER BY k.id"),
            &[&project_id],
        )?;
        Ok(rows.iter().map(key_from_row).collect())
    }

    fn update_key(&self, id: i64, change: &KeyChange) -> StoreResult<KeyRecord> {
        let domains = change
            .domains
            .as_ref()
            .map(|d| serde_json::to_string(d).expect("strings serialise"));
        let limit = change
            .rate_limit_per_minute
            .map(|l| i32::try_from(l).unwrap_or(i32::MAX));
        let per_address = change
            .per_address_rate_limit_per_minute
            .map(|l| i32::try_from(l).unwrap_or(i32::MAX));
        self.conn()?.execute(
            "UPDATE api_keys SET name = coalesce($2, name), active = coalesce($3, active),
                 domains = coalesce($4, domains),
                 rate_limit_per_minute = coalesce($5, rate_limit_per_minute),
                 per_address_rate_limit_per_minute = coalesce($6, per_address_rate_limit_per_minute)
             WHERE id = $1",
            &[
                &id,
                &change.name,
                &change.active,
                &domains,
                &limit,
                &per_address,
            ],
        )?;
        self.key_where("k.id = $1", &id)?
            .ok_or_else(|| StoreError::NotFound(format!("no key with id {id}")))
    }

    fn delete_key(&self, id: i64) -> StoreResult<()> {
        let n = self
            .conn()?
            .execute("DELETE FROM api_keys WHERE id = $1", &[&id])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no key with id {id}")));
        }
        Ok(())
    }

    fn create_org(&self, name: &str) -> StoreResult<Org> {
        self.conn()?
            .query_one(
                "INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at",
                &[&name, &now()],
            )
            .map(|r| org_from_row(&r))
            .map_err(|e| conflict(e, format!("an organisation named {name:?} exists already")))
    }

    fn orgs(&self) -> StoreResult<Vec<Org>> {
        let rows = self
            .conn()?
            .query("SELECT id, name, created_at FROM orgs ORDER BY id", &[])?;
        Ok(rows.iter().map(org_from_row).collect())
    }

    fn org(&self, name: &str) -> StoreResult<Org> {
        self.conn()?
            .query_opt(
                "SELECT id, name, created_at FROM orgs WHERE name = $1",
                &[&name],
            )?
            .map(|r| org_from_row(&r))
            .ok_or_else(|| StoreError::NotFound(format!("no organisation named {name:?}")))
    }

    fn create_first_owner(&self, o: &FirstOwner) -> StoreResult<Option<User>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Taking the token's row locks it: a second set-up with the same link,
        // or a user made meanwhile (which deletes the row), waits for this
        // transaction and then finds no token.
        let stored: Option<String> = tx
            .query_opt(
                "DELETE FROM settings WHERE name = $1 RETURNING value",
                &[&SETUP_TOKEN],
            )?
            .map(|r| r.get(0));
        let users: i64 = tx.query_one("SELECT count(*) FROM users", &[])?.get(0);
        if users > 0 || !setup_token_admits(stored.as_deref(), o.token_hash, o.now) {
            // A wrong token leaves the right one in place.
            tx.rollback()?;
            return Ok(None);
        }
        let org_id: i64 = tx
            .query_one(
                "WITH made AS (
                     INSERT INTO orgs (name, created_at) VALUES ($1, $2)
                     ON CONFLICT (name) DO NOTHING RETURNING id)
                 SELECT id FROM made UNION ALL SELECT id FROM orgs WHERE name = $1",
                &[&o.org, &o.now],
            )?
            .get(0);
        let user = tx
            .query_one(
                "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3)
                 RETURNING id, email, created_at, last_login_at",
                &[&o.email, &o.password_hash, &o.now],
            )
            .map(|r| user_from_row(&r))
            .map_err(|e| {
                conflict(
                    e,
                    format!("a user with the email {:?} exists already", o.email),
                )
            })?;
        tx.execute(
            "INSERT INTO memberships (user_id, org_id, role)
             SELECT $1, id, 'owner' FROM orgs WHERE id = $2 OR id = (SELECT min(id) FROM orgs)
             ON CONFLICT (user_id, org_id) DO UPDATE SET role = EXCLUDED.role",
            &[&user.id, &org_id],
        )?;
        tx.commit()?;
        Ok(Some(user))
    }

    fn login_attempts(
        &self,
        keys: &[String],
        decide: &mut dyn FnMut(&mut [Attempts]),
    ) -> StoreResult<()> {
        let now = now();
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Rows are made, then locked in one order (by key), so two nodes
        // reserving the same keys wait for each other instead of deadlocking.
        let mut sorted: Vec<&String> = keys.iter().collect();
        sorted.sort();
        sorted.dedup();
        for key in &sorted {
            tx.execute(
                "INSERT INTO login_attempts (key, failures, blocked_until, last_at)
                 VALUES ($1, 0, 0, 0) ON CONFLICT (key) DO NOTHING",
                &[key],
            )?;
        }
        let rows = tx.query(
            "SELECT key, failures, blocked_until, last_at FROM login_attempts
             WHERE key = ANY($1) ORDER BY key FOR UPDATE",
            &[&sorted],
        )?;
        let mut attempts: Vec<Attempts> = keys
            .iter()
            .map(|k| {
                rows.iter()
                    .find(|r| r.get::<_, &str>(0) == k.as_str())
                    .map_or_else(Attempts::default, |r| Attempts {
                        failures: u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                        blocked_until_ms: r.get(2),
                        last_ms: r.get(3),
                    })
            })
            .collect();
        decide(&mut attempts);
        for (key, a) in keys.iter().zip(&attempts) {
            tx.execute(
                "UPDATE login_attempts SET failures = $2, blocked_until = $3, last_at = $4
                 WHERE key = $1",
                &[
                    key,
                    &i32::try_from(a.failures).unwrap_or(i32::MAX),
                    &a.blocked_until_ms,
                    &a.last_ms,
                ],
            )?;
        }
        // The table holds only keys that failed lately: a few forgotten ones
        // go with each reservation (the longest policy's window decides).
        tx.execute(
            "DELETE FROM login_attempts WHERE key IN (
                 SELECT key FROM login_attempts WHERE last_at < $1 AND blocked_until < $2
                 LIMIT 16 FOR UPDATE SKIP LOCKED)",
            &[&now.saturating_sub(NETWORK.forget_after_ms), &now],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn create_user(&self, email: &str, password_hash: &str) -> StoreResult<User> {
        // Once anyone can sign in, the set-up link must not make another owner:
        // the token goes in the statement that makes the user.
        self.conn()?
            .query_one(
                "WITH setup_ends AS (DELETE FROM settings WHERE name = $4)
                 INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3)
                 RETURNING id, email, created_at, last_login_at",
                &[&email, &password_hash, &now(), &SETUP_TOKEN],
            )
            .map(|r| user_from_row(&r))
            .map_err(|e| conflict(e, format!("a user with the email {email:?} exists already")))
    }

    fn user_login(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT id, email, created_at, last_login_at, password_hash FROM users WHERE email = $1",
                &[&email],
            )?
            .map(|r| (user_from_row(&r), r.get("password_hash"))))
    }

    fn user(&self, id: i64) -> StoreResult<Option<User>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT id, email, created_at, last_login_at FROM users WHERE id = $1",
                &[&id],
            )?
            .map(|r| user_from_row(&r)))
    }

    fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT count(*) FROM users", &[])?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn record_login(&self, user_id: i64) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE users SET last_login_at = $2 WHERE id = $1",
            &[&user_id, &now()],
        )?;
        Ok(())
    }

    fn set_role(&self, user_id: i64, org_id: i64, role: Role) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, org_id) DO UPDATE SET role = EXCLUDED.role",
            &[&user_id, &org_id, &role.as_str()],
        )?;
        Ok(())
    }

    fn memberships(&self, user_id: i64) -> StoreResult<Vec<Membership>> {
        let rows = self.conn()?.query(
            "SELECT m.org_id, o.name, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id
             WHERE m.user_id = $1 ORDER BY o.name",
            &[&user_id],
        )?;
        Ok(rows
            .iter()
            .map(|r| Membership {
                org_id: r.get(0),
                org: r.get(1),
                role: Role::parse(r.get(2)).unwrap_or(Role::Viewer),
            })
            .collect())
    }

    fn create_web_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&id_hash, &user_id, &csrf_token, &now(), &expires_at],
        )?;
        Ok(())
    }

    fn web_session(&self, id_hash: &str) -> StoreResult<Option<WebSession>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT user_id, csrf_token, expires_at FROM web_sessions
                 WHERE id_hash = $1 AND expires_at > $2",
                &[&id_hash, &now()],
            )?
            .map(|r| WebSession {
                user_id: r.get(0),
                csrf_token: r.get(1),
                expires_at: r.get(2),
            }))
    }

    fn delete_web_session(&self, id_hash: &str) -> StoreResult<()> {
        self.conn()?
            .execute("DELETE FROM web_sessions WHERE id_hash = $1", &[&id_hash])?;
        Ok(())
    }

    fn set_setting(&self, name: &str, value: &str) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO settings (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            &[&name, &value],
        )?;
        Ok(())
    }

    fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_opt("SELECT value FROM settings WHERE name = $1", &[&name])?
            .map(|r| r.get(0)))
    }

    fn take_setting(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_opt(
                "DELETE FROM settings WHERE name = $1 RETURNING value",
                &[&name],
            )?
            .map(|r| r.get(0)))
    }
}
