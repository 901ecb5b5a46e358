//! Organisations, users, memberships, browser sessions and settings on SQLite,
//! and the project and key changes the dashboard makes.

use rusqlite::{OptionalExtension, Row, params};

use super::{EVENT_COLUMNS, KEY_SELECT, SqliteStore, event_from_row};
use crate::records::{KeyChange, SETUP_TOKEN, setup_token_admits};
use crate::{
    FirstOwner, KeyRecord, Membership, Org, Project, Role, StoreError, StoreResult, StoredEvent,
    User, WebSession,
};

fn now() -> i64 {
    spoor_core::time::now_ms()
}

fn unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

pub(super) fn insert_user(
    conn: &rusqlite::Connection,
    email: &str,
    password_hash: &str,
    now: i64,
) -> StoreResult<User> {
    let res = conn.query_row(
        "INSERT INTO users (email, password_hash, created_at) VALUES (?1, ?2, ?3)
         RETURNING id, email, created_at, last_login_at",
        params![email, password_hash, now],
        user_from_row,
    );
    match res {
        Err(e) if unique_violation(&e) => Err(StoreError::Conflict(format!(
            "a user with the email {email:?} exists already"
        ))),
        other => Ok(other?),
    }
}

fn org_from_row(r: &Row) -> rusqlite::Result<Org> {
    Ok(Org {
        id: r.get("id")?,
        name: r.get("name")?,
        created_at: r.get("created_at")?,
    })
}

pub(super) fn user_from_row(r: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get("id")?,
        email: r.get("email")?,
        created_at: r.get("created_at")?,
        last_login_at: r.get("last_login_at")?,
    })
}

impl SqliteStore {
    pub fn create_org(&self, name: &str) -> StoreResult<Org> {
        let res = self.conn()?.query_row(
            "INSERT INTO orgs (name, created_at) VALUES (?1, ?2) RETURNING id, name, created_at",
            params![name, now()],
            org_from_row,
        );
        match res {
            Err(e) if unique_violation(&e) => Err(StoreError::Conflict(format!(
                "an organisation named {name:?} exists already"
            ))),
            other => Ok(other?),
        }
    }

    pub fn org(&self, name: &str) -> StoreResult<Org> {
        self.conn()?
            .query_row(
                "SELECT id, name, created_at FROM orgs WHERE name = ?1",
                [name],
                org_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no organisation named {name:?}")))
    }

    pub fn orgs(&self) -> StoreResult<Vec<Org>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT id, name, created_at FROM orgs ORDER BY id")?;
        let rows = stmt.query_map([], org_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn create_user(&self, email: &str, password_hash: &str) -> StoreResult<User> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Once anyone can sign in, the set-up link must not make another owner.
        tx.execute("DELETE FROM settings WHERE name = ?1", [SETUP_TOKEN])?;
        let user = insert_user(&tx, email, password_hash, now())?;
        tx.commit()?;
        Ok(user)
    }

    pub fn create_first_owner(&self, o: &FirstOwner) -> StoreResult<Option<User>> {
        let mut conn = self.conn()?;
        // Immediate: the check that no user exists and the insert that makes
        // one are not interleaved with another writer's.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let stored: Option<String> = tx
            .query_row(
                "SELECT value FROM settings WHERE name = ?1",
                [SETUP_TOKEN],
                |r| r.get(0),
            )
            .optional()?;
        let users: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        if users > 0 || !setup_token_admits(stored.as_deref(), o.token_hash, o.now) {
            return Ok(None);
        }
        tx.execute("DELETE FROM settings WHERE name = ?1", [SETUP_TOKEN])?;
        let org_id: i64 = match tx
            .query_row("SELECT id FROM orgs WHERE name = ?1", [o.org], |r| r.get(0))
            .optional()?
        {
            Some(id) => id,
            None => tx.query_row(
                "INSERT INTO orgs (name, created_at) VALUES (?1, ?2) RETURNING id",
                params![o.org, o.now],
                |r| r.get(0),
            )?,
        };
        let user = insert_user(&tx, o.email, o.password_hash, o.now)?;
        // The owner of the new organisation, and of the first one.
        tx.execute(
            "INSERT INTO memberships (user_id, org_id, role)
             SELECT ?1, id, 'owner' FROM orgs WHERE id = ?2 OR id = (SELECT min(id) FROM orgs)
             ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role",
            params![user.id, org_id],
        )?;
        tx.commit()?;
        Ok(Some(user))
    }

    pub fn user_login(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT id, email, created_at, last_login_at, password_hash FROM users WHERE email = ?1",
                [email],
                |r| Ok((user_from_row(r)?, r.get("password_hash")?)),
            )
            .optional()?)
    }

    pub fn user(&self, id: i64) -> StoreResult<Option<User>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT id, email, created_at, last_login_at FROM users WHERE id = ?1",
                [id],
                user_from_row,
            )
            .optional()?)
    }

    pub fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = self
            .conn()?
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    pub fn record_login(&self, user_id: i64) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
            params![user_id, now()],
        )?;
        Ok(())
    }

    pub fn set_role(&self, user_id: i64, org_id: i64, role: Role) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role",
            params![user_id, org_id, role.as_str()],
        )?;
        Ok(())
    }

    pub fn memberships(&self, user_id: i64) -> StoreResult<Vec<Membership>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT m.org_id, o.name, m.role FROM memberships m JOIN orgs o ON o.id = m.org_id
             WHERE m.user_id = ?1 ORDER BY o.name",
        )?;
        let rows = stmt.query_map([user_id], |r| {
            let role: String = r.get(2)?;
            Ok(Membership {
                org_id: r.get(0)?,
                org: r.get(1)?,
                role: Role::parse(&role).unwrap_or(Role::Viewer),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn create_web_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id_hash, user_id, csrf_token, now(), expires_at],
        )?;
        Ok(())
    }

    pub fn web_session(&self, id_hash: &str) -> StoreResult<Option<WebSession>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT user_id, csrf_token, expires_at FROM web_sessions
                 WHERE id_hash = ?1 AND expires_at > ?2",
                params![id_hash, now()],
                |r| {
                    Ok(WebSession {
                        user_id: r.get(0)?,
                        csrf_token: r.get(1)?,
                        expires_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn delete_web_session(&self, id_hash: &str) -> StoreResult<()> {
        self.conn()?
            .execute("DELETE FROM web_sessions WHERE id_hash = ?1", [id_hash])?;
        Ok(())
    }

    pub fn set_setting(&self, name: &str, value: &str) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO settings (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }

    pub fn take_setting(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_row(
                "DELETE FROM settings WHERE name = ?1 RETURNING value",
                [name],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn project_by_id(&self, id: i64) -> StoreResult<Project> {
        self.conn()?
            .query_row(
                "SELECT id, org_id, name, keep_full_ip, created_at FROM projects WHERE id = ?1",
                [id],
                super::project_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no project with id {id}")))
    }

    pub fn rename_project(&self, id: i64, name: &str) -> StoreResult<Project> {
        let res = self.conn()?.execute(
            "UPDATE projects SET name = ?2 WHERE id = ?1",
            params![id, name],
        );
        match res {
            Err(e) if unique_violation(&e) => Err(StoreError::Conflict(format!(
                "a project named {name:?} exists already"
            ))),
            other => {
                other?;
                self.project_by_id(id)
            }
        }
    }

    pub fn keys_of_project(&self, project_id: i64) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "{KEY_SELECT} WHERE k.project_id = ?1 ORDER BY k.id"
        ))?;
        let rows = stmt.query_map([project_id], super::key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn update_key(&self, id: i64, change: &KeyChange) -> StoreResult<KeyRecord> {
        let domains = change
            .domains
            .as_ref()
            .map(|d| serde_json::to_string(d).expect("strings serialise"));
        self.conn()?.execute(
            "UPDATE api_keys SET name = coalesce(?2, name), active = coalesce(?3, active),
                 domains = coalesce(?4, domains),
                 rate_limit_per_minute = coalesce(?5, rate_limit_per_minute),
                 per_address_rate_limit_per_minute = coalesce(?6, per_address_rate_limit_per_minute)
             WHERE id = ?1",
            params![
                id,
                change.name,
                change.active,
                domains,
                change.rate_limit_per_minute,
                change.per_address_rate_limit_per_minute
            ],
        )?;
        self.key_where("k.id = ?1", id)?
            .ok_or_else(|| StoreError::NotFound(format!("no key with id {id}")))
    }

    pub fn delete_key(&self, id: i64) -> StoreResult<()> {
        let n = self
            .conn()?
            .execute("DELETE FROM api_keys WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no key with id {id}")));
        }
        Ok(())
    }

    /// When the message stored with this id and no client timestamp arrived,
    /// if it arrived at or after `since`.
    pub fn message_received_at(
        &self,
        project_id: i64,
        message_id: &str,
        since: i64,
    ) -> StoreResult<Option<i64>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT received_at FROM events
                 WHERE project_id = ?1 AND dedup_ts = 0 AND message_id = ?2 AND received_at >= ?3",
                params![project_id, message_id, since],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn event_by_seq(&self, project_id: i64, seq: i64) -> StoreResult<Option<StoredEvent>> {
        Ok(self
            .conn()?
            .query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE project_id = ?1 AND seq = ?2"),
                params![project_id, seq],
                event_from_row,
            )
            .optional()?)
    }
}
