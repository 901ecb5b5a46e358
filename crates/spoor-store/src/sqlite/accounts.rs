//! Organisations, users, memberships, browser sessions and settings on SQLite,
//! and the project and key changes the dashboard makes.

use rusqlite::{OptionalExtension, Row, params};

use super::{KEY_SELECT, SqliteStore, key_from_row, project_from_row};
use crate::records::{KeyChange, SETUP_TOKEN, setup_token_admits};
use crate::{
    FirstOwner, KeyRecord, KeySelector, Membership, NewKey, Org, Project, Role, StoreError,
    StoreResult, User, WebSession,
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

impl crate::backend::AccountStore for SqliteStore {
    fn create_project(&self, org_id: i64, name: &str) -> StoreResult<Project> {
        let conn = self.conn()?;
        let res = conn.execute(
            "INSERT INTO projects (org_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![org_id, name, spoor_core::time::now_ms()],
        );
        match res {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::Conflict(format!(
                    "a project named {name:?} exists already"
                )))
            }
            other => {
                other?;
                drop(conn);
                self.project(name)
            }
        }
    }

    fn project_by_id(&self, id: i64) -> StoreResult<Project> {
        self.conn()?
            .query_row(
                "SELECT id, org_id, name, keep_full_ip, created_at FROM projects WHERE id = ?1",
                [id],
                super::project_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no project with id {id}")))
    }

    fn rename_project(&self, id: i64, name: &str) -> StoreResult<Project> {
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

    fn projects(&self) -> StoreResult<Vec<Project>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, org_id, name, keep_full_ip, created_at FROM projects ORDER BY id",
        )?;
        let rows = stmt.query_map([], project_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn project(&self, name: &str) -> StoreResult<Project> {
        let conn = self.conn()?;
        conn.query_row(
            "SELECT id, org_id, name, keep_full_ip, created_at FROM projects WHERE name = ?1",
            [name],
            project_from_row,
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no project named {name:?}")))
    }

    fn set_keep_full_ip(&self, project: &str, keep: bool) -> StoreResult<Project> {
        let changed = self.conn()?.execute(
            "UPDATE projects SET keep_full_ip = ?1 WHERE name = ?2",
            params![keep, project],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "no project named {project:?}"
            )));
        }
        self.project(project)
    }

    fn create_key(&self, key: &NewKey) -> StoreResult<KeyRecord> {
        let conn = self.conn()?;
        let domains = serde_json::to_string(&key.domains).unwrap_or_else(|_| "[]".into());
        conn.execute(
            "INSERT INTO api_keys (project_id, name, key_hash, prefix, domains, rate_limit_per_minute,
                 per_address_rate_limit_per_minute, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![key.project_id, key.name, key.hash, key.prefix, domains, key.rate_limit_per_minute,
                key.per_address_rate_limit_per_minute, spoor_core::time::now_ms()],
        )?;
        let id = conn.last_insert_rowid();
        drop(conn);
        self.key_where("k.id = ?1", id)?
            .ok_or_else(|| StoreError::NotFound(format!("no key with id {id}")))
    }

    fn keys(&self) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!("{KEY_SELECT} ORDER BY k.id"))?;
        let rows = stmt.query_map([], key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn key_by_hash(&self, hash: &str) -> StoreResult<Option<KeyRecord>> {
        self.key_where("k.key_hash = ?1", hash)
    }

    fn set_key_active(&self, key: &KeySelector, active: bool) -> StoreResult<KeyRecord> {
        let conn = self.conn()?;
        let (changed, found) = match key {
            KeySelector::Id(id) => {
                let n = conn.execute(
                    "UPDATE api_keys SET active = ?1 WHERE id = ?2",
                    params![active, id],
                )?;
                drop(conn);
                (n, self.key_where("k.id = ?1", id)?)
            }
            KeySelector::Hash(h) => {
                let n = conn.execute(
                    "UPDATE api_keys SET active = ?1 WHERE key_hash = ?2",
                    params![active, h],
                )?;
                drop(conn);
                (n, self.key_by_hash(h)?)
            }
        };
        match (changed, found) {
            (1, Some(k)) => Ok(k),
            _ => Err(StoreError::NotFound(
                "no such key: give a key id from `spoor keys list` or the key itself".into(),
            )),
        }
    }

    fn keys_of_project(&self, project_id: i64) -> StoreResult<Vec<KeyRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "{KEY_SELECT} WHERE k.project_id = ?1 ORDER BY k.id"
        ))?;
        let rows = stmt.query_map([project_id], super::key_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update_key(&self, id: i64, change: &KeyChange) -> StoreResult<KeyRecord> {
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

    fn delete_key(&self, id: i64) -> StoreResult<()> {
        let n = self
            .conn()?
            .execute("DELETE FROM api_keys WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("no key with id {id}")));
        }
        Ok(())
    }

    fn create_org(&self, name: &str) -> StoreResult<Org> {
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

    fn orgs(&self) -> StoreResult<Vec<Org>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT id, name, created_at FROM orgs ORDER BY id")?;
        let rows = stmt.query_map([], org_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn org(&self, name: &str) -> StoreResult<Org> {
        self.conn()?
            .query_row(
                "SELECT id, name, created_at FROM orgs WHERE name = ?1",
                [name],
                org_from_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no organisation named {name:?}")))
    }

    fn create_first_owner(&self, o: &FirstOwner) -> StoreResult<Option<User>> {
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

    fn create_user(&self, email: &str, password_hash: &str) -> StoreResult<User> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Once anyone can sign in, the set-up link must not make another owner.
        tx.execute("DELETE FROM settings WHERE name = ?1", [SETUP_TOKEN])?;
        let user = insert_user(&tx, email, password_hash, now())?;
        tx.commit()?;
        Ok(user)
    }

    fn user_login(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT id, email, created_at, last_login_at, password_hash FROM users WHERE email = ?1",
                [email],
                |r| Ok((user_from_row(r)?, r.get("password_hash")?)),
            )
            .optional()?)
    }

    fn user(&self, id: i64) -> StoreResult<Option<User>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT id, email, created_at, last_login_at FROM users WHERE id = ?1",
                [id],
                user_from_row,
            )
            .optional()?)
    }

    fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = self
            .conn()?
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn record_login(&self, user_id: i64) -> StoreResult<()> {
        self.conn()?.execute(
            "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
            params![user_id, now()],
        )?;
        Ok(())
    }

    fn set_role(&self, user_id: i64, org_id: i64, role: Role) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role",
            params![user_id, org_id, role.as_str()],
        )?;
        Ok(())
    }

    fn memberships(&self, user_id: i64) -> StoreResult<Vec<Membership>> {
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

    fn create_web_session(
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

    fn web_session(&self, id_hash: &str) -> StoreResult<Option<WebSession>> {
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

    fn delete_web_session(&self, id_hash: &str) -> StoreResult<()> {
        self.conn()?
            .execute("DELETE FROM web_sessions WHERE id_hash = ?1", [id_hash])?;
        Ok(())
    }

    fn set_setting(&self, name: &str, value: &str) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO settings (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        Ok(())
    }

    fn setting(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn take_setting(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()?
            .query_row(
                "DELETE FROM settings WHERE name = ?1 RETURNING value",
                [name],
                |r| r.get(0),
            )
            .optional()?)
    }
}
