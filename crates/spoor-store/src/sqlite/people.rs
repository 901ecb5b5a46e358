//! Managing people on SQLite: organisations' members and their roles,
//! invitations, password resets, the list of a person's sessions, and admin
//! tokens. Every change that must keep an organisation with an owner runs in
//! an immediate transaction, so its check and its write see the same rows.

use crate::NewToken;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::SqliteStore;
use crate::{
    Invite, Joined, Joiner, Member, MemberChange, Membership, NewInvite, Org, Role, SessionsToEnd,
    StoreError, StoreResult, TokenRecord, User, WebSessionInfo,
};

fn role_of(text: &str) -> Role {
    Role::parse(text).unwrap_or(Role::Viewer)
}

fn member_from_row(r: &Row) -> rusqlite::Result<Member> {
    let role: String = r.get("role")?;
    Ok(Member {
        user_id: r.get("user_id")?,
        email: r.get("email")?,
        role: role_of(&role),
        created_at: r.get("created_at")?,
        last_login_at: r.get("last_login_at")?,
    })
}

const INVITE_SELECT: &str = "SELECT i.id, i.org_id, o.name AS org, i.role, i.email,
        u.email AS created_by, i.created_at, i.expires_at
    FROM invites i JOIN orgs o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.created_by";

fn invite_from_row(r: &Row) -> rusqlite::Result<Invite> {
    let role: String = r.get("role")?;
    Ok(Invite {
        id: r.get("id")?,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        role: role_of(&role),
        email: r.get("email")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        expires_at: r.get("expires_at")?,
    })
}

fn token_from_row(r: &Row) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.get(0)?,
        org_id: r.get(1)?,
        name: r.get(2)?,
        prefix: r.get(3)?,
        created_at: r.get(4)?,
        last_used_at: r.get(5)?,
    })
}

fn owners(conn: &Connection, org_id: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM memberships WHERE org_id = ?1 AND role = 'owner'",
        [org_id],
        |r| r.get(0),
    )
}

fn end_sessions(conn: &Connection, user_id: i64, which: SessionsToEnd) -> rusqlite::Result<u64> {
    let ended = match which {
        SessionsToEnd::All => {
            conn.execute("DELETE FROM web_sessions WHERE user_id = ?1", [user_id])?
        }
        SessionsToEnd::AllBut(keep) => conn.execute(
            "DELETE FROM web_sessions WHERE user_id = ?1 AND id_hash <> ?2",
            params![user_id, keep],
        )?,
        // instr, not LIKE: the id is matched as it is, never as a pattern.
        SessionsToEnd::Starting(id) => conn.execute(
            "DELETE FROM web_sessions WHERE user_id = ?1 AND instr(id_hash, ?2) = 1",
            params![user_id, id],
        )?,
    };
    Ok(ended as u64)
}

impl crate::backend::PeopleStore for SqliteStore {
    fn create_org_owned_by(&self, name: &str, user_id: i64, now: i64) -> StoreResult<Org> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let taken: Option<i64> = tx
            .query_row("SELECT id FROM orgs WHERE name = ?1", [name], |r| r.get(0))
            .optional()?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "an organisation named {name:?} exists already; choose another name"
            )));
        }
        let org = tx.query_row(
            "INSERT INTO orgs (name, created_at) VALUES (?1, ?2) RETURNING id, name, created_at",
            params![name, now],
            |r| {
                Ok(Org {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                })
            },
        )?;
        tx.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES (?1, ?2, 'owner')",
            params![user_id, org.id],
        )?;
        tx.commit()?;
        Ok(org)
    }

    fn org_members(&self, org_id: i64) -> StoreResult<Vec<Member>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT m.user_id, u.email, m.role, u.created_at, u.last_login_at
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = ?1 ORDER BY u.email",
        )?;
        let rows = stmt.query_map([org_id], member_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn change_member(&self, org_id: i64, user_id: i64, change: MemberChange) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let role: Option<String> = tx
            .query_row(
                "SELECT role FROM memberships WHERE org_id = ?1 AND user_id = ?2",
                params![org_id, user_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(role) = role else {
            return Err(StoreError::NotFound(format!(
                "user {user_id} is not a member of this organisation"
            )));
        };
        let stays_owner = matches!(change, MemberChange::Role(Role::Owner));
        if role_of(&role) == Role::Owner && !stays_owner && owners(&tx, org_id)? <= 1 {
            return Err(StoreError::Conflict(
                "this is the organisation's last owner: make another member an owner first".into(),
            ));
        }
        match change {
            MemberChange::Role(role) => tx.execute(
                "UPDATE memberships SET role = ?3 WHERE org_id = ?1 AND user_id = ?2",
                params![org_id, user_id, role.as_str()],
            )?,
            MemberChange::Remove => tx.execute(
                "DELETE FROM memberships WHERE org_id = ?1 AND user_id = ?2",
                params![org_id, user_id],
            )?,
        };
        tx.commit()?;
        Ok(())
    }

    fn create_invite(&self, new: &NewInvite) -> StoreResult<Invite> {
        let conn = self.conn()?;
        let id: i64 = conn.query_row(
            "INSERT INTO invites (org_id, token_hash, role, email, created_by, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![
                new.org_id,
                new.token_hash,
                new.role.as_str(),
                new.email,
                new.created_by,
                new.now,
                new.expires_at
            ],
            |r| r.get(0),
        )?;
        Ok(conn.query_row(
            &format!("{INVITE_SELECT} WHERE i.id = ?1"),
            [id],
            invite_from_row,
        )?)
    }

    fn invites(&self, org_id: i64, now: i64) -> StoreResult<Vec<Invite>> {
        let conn = self.conn()?;
        // Expired invitations go when the list is read: nothing else needs them.
        conn.execute("DELETE FROM invites WHERE expires_at <= ?1", [now])?;
        let mut stmt = conn.prepare(&format!(
            "{INVITE_SELECT} WHERE i.org_id = ?1 ORDER BY i.created_at DESC, i.id DESC"
        ))?;
        let rows = stmt.query_map([org_id], invite_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_invite(&self, org_id: i64, id: i64) -> StoreResult<()> {
        let gone = self.conn()?.execute(
            "DELETE FROM invites WHERE org_id = ?1 AND id = ?2",
            params![org_id, id],
        )?;
        if gone == 0 {
            return Err(StoreError::NotFound(format!("no pending invitation {id}")));
        }
        Ok(())
    }

    fn invite(&self, token_hash: &str, now: i64) -> StoreResult<Option<Invite>> {
        Ok(self
            .conn()?
            .query_row(
                &format!("{INVITE_SELECT} WHERE i.token_hash = ?1 AND i.expires_at > ?2"),
                params![token_hash, now],
                invite_from_row,
            )
            .optional()?)
    }

    fn accept_invite(&self, token_hash: &str, joiner: Joiner, now: i64) -> StoreResult<Joined> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let invite = tx
            .query_row(
                &format!("{INVITE_SELECT} WHERE i.token_hash = ?1 AND i.expires_at > ?2"),
                params![token_hash, now],
                invite_from_row,
            )
            .optional()?;
        let Some(invite) = invite else {
            return Ok(Joined::NotValid);
        };
        // A known person, or the new account's email and password hash.
        let who = match joiner {
            Joiner::Existing(id) => Ok(tx
                .query_row(
                    "SELECT id, email, created_at, last_login_at FROM users WHERE id = ?1",
                    [id],
                    super::accounts::user_from_row,
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("no user {id}")))?),
            Joiner::New {
                email,
                password_hash,
            } => {
                let taken: Option<i64> = tx
                    .query_row("SELECT id FROM users WHERE email = ?1", [email], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if taken.is_some() {
                    return Ok(Joined::EmailTaken);
                }
                Err((email, password_hash))
            }
        };
        let email = match &who {
            Ok(user) => user.email.as_str(),
            Err((email, _)) => email,
        };
        if invite
            .email
            .as_deref()
            .is_some_and(|wanted| wanted != email)
        {
            return Ok(Joined::OtherEmail);
        }
        let user = match who {
            Ok(user) => user,
            Err((email, password_hash)) => {
                super::accounts::insert_user(&tx, email, password_hash, now)?
            }
        };
        let member: Option<String> = tx
            .query_row(
                "SELECT role FROM memberships WHERE org_id = ?1 AND user_id = ?2",
                params![invite.org_id, user.id],
                |r| r.get(0),
            )
            .optional()?;
        if member.is_some() {
            return Ok(Joined::AlreadyMember);
        }
        tx.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES (?1, ?2, ?3)",
            params![user.id, invite.org_id, invite.role.as_str()],
        )?;
        tx.execute("DELETE FROM invites WHERE id = ?1", [invite.id])?;
        tx.commit()?;
        Ok(Joined::Member(
            user,
            Membership {
                org_id: invite.org_id,
                org: invite.org,
                role: invite.role,
            },
        ))
    }

    fn create_password_reset(
        &self,
        user_id: i64,
        token_hash: &str,
        created_by: Option<i64>,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT INTO password_resets (user_id, token_hash, created_by, expires_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash,
                 created_by = excluded.created_by, expires_at = excluded.expires_at",
            params![user_id, token_hash, created_by, expires_at],
        )?;
        Ok(())
    }

    fn password_reset_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<User>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT u.id, u.email, u.created_at, u.last_login_at
                 FROM password_resets r JOIN users u ON u.id = r.user_id
                 WHERE r.token_hash = ?1 AND r.expires_at > ?2",
                params![token_hash, now],
                super::accounts::user_from_row,
            )
            .optional()?)
    }

    fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<User>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let user_id: Option<i64> = tx
            .query_row(
                "DELETE FROM password_resets WHERE token_hash = ?1 AND expires_at > ?2
                 RETURNING user_id",
                params![token_hash, now],
                |r| r.get(0),
            )
            .optional()?;
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        let user = tx.query_row(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1
             RETURNING id, email, created_at, last_login_at",
            params![user_id, password_hash],
            super::accounts::user_from_row,
        )?;
        end_sessions(&tx, user_id, SessionsToEnd::All)?;
        tx.commit()?;
        Ok(Some(user))
    }

    fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![user_id, password_hash],
        )?;
        tx.execute("DELETE FROM password_resets WHERE user_id = ?1", [user_id])?;
        let which = keep_session.map_or(SessionsToEnd::All, SessionsToEnd::AllBut);
        let ended = end_sessions(&tx, user_id, which)?;
        tx.commit()?;
        Ok(ended)
    }

    fn web_sessions_of(&self, user_id: i64, now: i64) -> StoreResult<Vec<WebSessionInfo>> {
        let conn = self.conn()?;
        conn.execute(
            "DELETE FROM web_sessions WHERE user_id = ?1 AND expires_at <= ?2",
            params![user_id, now],
        )?;
        let mut stmt = conn.prepare(
            "SELECT id_hash, created_at, expires_at FROM web_sessions
             WHERE user_id = ?1 ORDER BY created_at DESC",
        )?;
        let rows = stmt.query_map([user_id], |r| {
            Ok(WebSessionInfo {
                id_hash: r.get(0)?,
                created_at: r.get(1)?,
                expires_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn end_web_sessions(&self, user_id: i64, which: SessionsToEnd) -> StoreResult<u64> {
        let conn = self.conn()?;
        Ok(end_sessions(&conn, user_id, which)?)
    }

    fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        let conn = self.conn()?;
        let now = spoor_core::time::now_ms();
        conn.execute(
            "INSERT INTO admin_tokens (org_id, name, token_hash, prefix, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token.org_id, token.name, token.hash, token.prefix, now],
        )?;
        Ok(TokenRecord {
            id: conn.last_insert_rowid(),
            org_id: token.org_id,
            name: token.name.clone(),
            prefix: token.prefix.clone(),
            created_at: now,
            last_used_at: None,
        })
    }

    fn use_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "UPDATE admin_tokens SET last_used_at = ?2 WHERE token_hash = ?1
             RETURNING id, org_id, name, prefix, created_at, last_used_at",
        )?;
        let found = stmt
            .query_row(params![hash, spoor_core::time::now_ms()], token_from_row)
            .optional()?;
        Ok(found)
    }

    fn tokens_of_org(&self, org_id: i64) -> StoreResult<Vec<TokenRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, org_id, name, prefix, created_at, last_used_at FROM admin_tokens
             WHERE org_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([org_id], token_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_token(&self, org_id: i64, id: i64) -> StoreResult<()> {
        let gone = self.conn()?.execute(
            "DELETE FROM admin_tokens WHERE org_id = ?1 AND id = ?2",
            params![org_id, id],
        )?;
        if gone == 0 {
            return Err(StoreError::NotFound(format!("no admin token {id}")));
        }
        Ok(())
    }
}
