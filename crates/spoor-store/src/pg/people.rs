//! Managing people on PostgreSQL: organisations' members and their roles,
//! invitations, password resets, the list of a person's sessions, and admin
//! tokens. A change that must keep an organisation with an owner first locks
//! the organisation's row, so two such changes run one after the other and
//! the second sees what the first did.

use super::now;
use crate::NewToken;
use postgres::{GenericClient, Row};

use super::accounts::user_from_row;
use super::{PgStore, token_from_row};
use crate::{
    Invite, Joined, Joiner, Member, MemberChange, Membership, NewInvite, Org, Role, SessionsToEnd,
    StoreError, StoreResult, TokenRecord, User, WebSessionInfo,
};

fn role_of(text: &str) -> Role {
    Role::parse(text).unwrap_or(Role::Viewer)
}

const INVITE_SELECT: &str = "SELECT i.id, i.org_id, o.name AS org, i.role, i.email,
        u.email AS created_by, i.created_at, i.expires_at
    FROM invites i JOIN orgs o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.created_by";

fn invite_from_row(r: &Row) -> Invite {
    Invite {
        id: r.get("id"),
        org_id: r.get("org_id"),
        org: r.get("org"),
        role: role_of(r.get("role")),
        email: r.get("email"),
        created_by: r.get("created_by"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
    }
}

fn end_sessions(
    client: &mut impl GenericClient,
    user_id: i64,
    which: SessionsToEnd,
) -> Result<u64, postgres::Error> {
    match which {
        SessionsToEnd::All => {
            client.execute("DELETE FROM web_sessions WHERE user_id = $1", &[&user_id])
        }
        SessionsToEnd::AllBut(keep) => client.execute(
            "DELETE FROM web_sessions WHERE user_id = $1 AND id_hash <> $2",
            &[&user_id, &keep],
        ),
        // starts_with, not LIKE: the id is matched as it is, never as a pattern.
        SessionsToEnd::Starting(id) => client.execute(
            "DELETE FROM web_sessions WHERE user_id = $1 AND starts_with(id_hash, $2)",
            &[&user_id, &id],
        ),
    }
}

impl crate::backend::PeopleStore for PgStore {
    fn create_org_owned_by(&self, name: &str, user_id: i64, now: i64) -> StoreResult<Org> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let made = tx.query_opt(
            "INSERT INTO orgs (name, created_at) VALUES ($1, $2)
             ON CONFLICT (name) DO NOTHING RETURNING id, name, created_at",
            &[&name, &now],
        )?;
        let Some(row) = made else {
            return Err(StoreError::Conflict(format!(
                "an organisation named {name:?} exists already; choose another name"
            )));
        };
        let org = Org {
            id: row.get(0),
            name: row.get(1),
            created_at: row.get(2),
        };
        tx.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES ($1, $2, 'owner')",
            &[&user_id, &org.id],
        )?;
        tx.commit()?;
        Ok(org)
    }

    fn org_members(&self, org_id: i64) -> StoreResult<Vec<Member>> {
        let rows = self.conn()?.query(
            "SELECT m.user_id, u.email, m.role, u.created_at, u.last_login_at
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = $1 ORDER BY u.email",
            &[&org_id],
        )?;
        Ok(rows
            .iter()
            .map(|r| Member {
                user_id: r.get(0),
                email: r.get(1),
                role: role_of(r.get(2)),
                created_at: r.get(3),
                last_login_at: r.get(4),
            })
            .collect())
    }

    fn change_member(&self, org_id: i64, user_id: i64, change: MemberChange) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute("SELECT id FROM orgs WHERE id = $1 FOR UPDATE", &[&org_id])?;
        let role: Option<String> = tx
            .query_opt(
                "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2",
                &[&org_id, &user_id],
            )?
            .map(|r| r.get(0));
        let Some(role) = role else {
            return Err(StoreError::NotFound(format!(
                "user {user_id} is not a member of this organisation"
            )));
        };
        let stays_owner = matches!(change, MemberChange::Role(Role::Owner));
        if role_of(&role) == Role::Owner && !stays_owner {
            let owners: i64 = tx
                .query_one(
                    "SELECT count(*) FROM memberships WHERE org_id = $1 AND role = 'owner'",
                    &[&org_id],
                )?
                .get(0);
            if owners <= 1 {
                return Err(StoreError::Conflict(
                    "this is the organisation's last owner: make another member an owner first"
                        .into(),
                ));
            }
        }
        match change {
            MemberChange::Role(role) => tx.execute(
                "UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2",
                &[&org_id, &user_id, &role.as_str()],
            )?,
            MemberChange::Remove => tx.execute(
                "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
                &[&org_id, &user_id],
            )?,
        };
        tx.commit()?;
        Ok(())
    }

    fn create_invite(&self, new: &NewInvite) -> StoreResult<Invite> {
        let row = self.conn()?.query_one(
            &format!(
                "WITH i AS (
                     INSERT INTO invites (org_id, token_hash, role, email, created_by, created_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *)
                 {}",
                INVITE_SELECT.replace("FROM invites i", "FROM i")
            ),
            &[
                &new.org_id,
                &new.token_hash,
                &new.role.as_str(),
                &new.email,
                &new.created_by,
                &new.now,
                &new.expires_at,
            ],
        )?;
        Ok(invite_from_row(&row))
    }

    fn invites(&self, org_id: i64, now: i64) -> StoreResult<Vec<Invite>> {
        let mut conn = self.conn()?;
        // Expired invitations go when the list is read: nothing else needs them.
        conn.execute("DELETE FROM invites WHERE expires_at <= $1", &[&now])?;
        let rows = conn.query(
            &format!("{INVITE_SELECT} WHERE i.org_id = $1 ORDER BY i.created_at DESC, i.id DESC"),
            &[&org_id],
        )?;
        Ok(rows.iter().map(invite_from_row).collect())
    }

    fn delete_invite(&self, org_id: i64, id: i64) -> StoreResult<()> {
        let gone = self.conn()?.execute(
            "DELETE FROM invites WHERE org_id = $1 AND id = $2",
            &[&org_id, &id],
        )?;
        if gone == 0 {
            return Err(StoreError::NotFound(format!("no pending invitation {id}")));
        }
        Ok(())
    }

    fn invite(&self, token_hash: &str, now: i64) -> StoreResult<Option<Invite>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!("{INVITE_SELECT} WHERE i.token_hash = $1 AND i.expires_at > $2"),
                &[&token_hash, &now],
            )?
            .map(|r| invite_from_row(&r)))
    }

    fn accept_invite(&self, token_hash: &str, joiner: Joiner, now: i64) -> StoreResult<Joined> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Locking the invitation's row: a second acceptance of the same link
        // waits for this one, then finds it used up.
        let invite = tx
            .query_opt(
                &format!(
                    "{INVITE_SELECT} WHERE i.token_hash = $1 AND i.expires_at > $2 FOR UPDATE OF i"
                ),
                &[&token_hash, &now],
            )?
            .map(|r| invite_from_row(&r));
        let Some(invite) = invite else {
            return Ok(Joined::NotValid);
        };
        // A known person, or the new account's email and password hash.
        let who = match joiner {
            Joiner::Existing(id) => Ok(tx
                .query_opt(
                    "SELECT id, email, created_at, last_login_at FROM users WHERE id = $1",
                    &[&id],
                )?
                .map(|r| user_from_row(&r))
                .ok_or_else(|| StoreError::NotFound(format!("no user {id}")))?),
            Joiner::New {
                email,
                password_hash,
            } => Err((email, password_hash)),
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
                let made = tx.query_opt(
                    "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (email) DO NOTHING
                     RETURNING id, email, created_at, last_login_at",
                    &[&email, &password_hash, &now],
                )?;
                match made {
                    Some(row) => user_from_row(&row),
                    None => return Ok(Joined::EmailTaken),
                }
            }
        };
        let added = tx.execute(
            "INSERT INTO memberships (user_id, org_id, role) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, org_id) DO NOTHING",
            &[&user.id, &invite.org_id, &invite.role.as_str()],
        )?;
        if added == 0 {
            return Ok(Joined::AlreadyMember);
        }
        tx.execute("DELETE FROM invites WHERE id = $1", &[&invite.id])?;
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
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash,
                 created_by = EXCLUDED.created_by, expires_at = EXCLUDED.expires_at",
            &[&user_id, &token_hash, &created_by, &expires_at],
        )?;
        Ok(())
    }

    fn password_reset_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<User>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT u.id, u.email, u.created_at, u.last_login_at
                 FROM password_resets r JOIN users u ON u.id = r.user_id
                 WHERE r.token_hash = $1 AND r.expires_at > $2",
                &[&token_hash, &now],
            )?
            .map(|r| user_from_row(&r)))
    }

    fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<User>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let user_id: Option<i64> = tx
            .query_opt(
                "DELETE FROM password_resets WHERE token_hash = $1 AND expires_at > $2
                 RETURNING user_id",
                &[&token_hash, &now],
            )?
            .map(|r| r.get(0));
        let Some(user_id) = user_id else {
            return Ok(None);
        };
        let user = user_from_row(&tx.query_one(
            "UPDATE users SET password_hash = $2 WHERE id = $1
             RETURNING id, email, created_at, last_login_at",
            &[&user_id, &password_hash],
        )?);
        end_sessions(&mut tx, user_id, SessionsToEnd::All)?;
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
        let mut tx = conn.transaction()?;
        tx.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&user_id, &password_hash],
        )?;
        tx.execute(
            "DELETE FROM password_resets WHERE user_id = $1",
            &[&user_id],
        )?;
        let which = keep_session.map_or(SessionsToEnd::All, SessionsToEnd::AllBut);
        let ended = end_sessions(&mut tx, user_id, which)?;
        tx.commit()?;
        Ok(ended)
    }

    fn web_sessions_of(&self, user_id: i64, now: i64) -> StoreResult<Vec<WebSessionInfo>> {
        let mut conn = self.conn()?;
        conn.execute(
            "DELETE FROM web_sessions WHERE user_id = $1 AND expires_at <= $2",
            &[&user_id, &now],
        )?;
        let rows = conn.query(
            "SELECT id_hash, created_at, expires_at FROM web_sessions
             WHERE user_id = $1 ORDER BY created_at DESC",
            &[&user_id],
        )?;
        Ok(rows
            .iter()
            .map(|r| WebSessionInfo {
                id_hash: r.get(0),
                created_at: r.get(1),
                expires_at: r.get(2),
            })
            .collect())
    }

    fn end_web_sessions(&self, user_id: i64, which: SessionsToEnd) -> StoreResult<u64> {
        let mut conn = self.conn()?;
        Ok(end_sessions(&mut **conn, user_id, which)?)
    }

    fn create_token(&self, token: &NewToken) -> StoreResult<TokenRecord> {
        let row = self.conn()?.query_one(
            "INSERT INTO admin_tokens (org_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)
             RETURNING id, org_id, name, prefix, created_at, last_used_at",
            &[&token.org_id, &token.name, &token.hash, &token.prefix, &now()],
        )?;
        Ok(token_from_row(&row))
    }

    fn use_token(&self, hash: &str) -> StoreResult<Option<TokenRecord>> {
        let row = self.conn()?.query_opt(
            "UPDATE admin_tokens SET last_used_at = $2 WHERE token_hash = $1
             RETURNING id, org_id, name, prefix, created_at, last_used_at",
            &[&hash, &now()],
        )?;
        Ok(row.map(|r| token_from_row(&r)))
    }

    fn tokens_of_org(&self, org_id: i64) -> StoreResult<Vec<TokenRecord>> {
        let rows = self.conn()?.query(
            "SELECT id, org_id, name, prefix, created_at, last_used_at FROM admin_tokens
             WHERE org_id = $1 ORDER BY id",
            &[&org_id],
        )?;
        Ok(rows.iter().map(token_from_row).collect())
    }

    fn delete_token(&self, org_id: i64, id: i64) -> StoreResult<()> {
        let gone = self.conn()?.execute(
            "DELETE FROM admin_tokens WHERE org_id = $1 AND id = $2",
            &[&org_id, &id],
        )?;
        if gone == 0 {
            return Err(StoreError::NotFound(format!("no admin token {id}")));
        }
        Ok(())
    }
}
