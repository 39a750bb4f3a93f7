//! `AuthStore` for `PgStore`: one file per capability trait, and here what they share
//! (column lists, row decoding, the error helper).

use std::net::IpAddr;

use auth_core::store::*;
use auth_core::{RoleName, StoreError};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::pooler::Tx;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Changed;
use crate::error::auth_error;

// The column lists as literals, so statements that use them are put together at
// compile time (`concat!`); `SESSION_COLUMNS` is the same text, for those built at
// start.
macro_rules! user_columns {
    () => {
        "u.id, u.login, u.email, u.first_name, u.last_name, u.status, \
     u.email_verified, u.created_at, u.roles"
    };
}
macro_rules! session_columns {
    () => {
        "s.id, s.user_id, s.counter, s.created_at, s.last_refreshed_at, \
     s.expires_at, s.revoked, host(s.ip) AS ip, s.user_agent, s.sign_in, \
     s.reauthenticated_at"
    };
}

mod accounts;
mod api_keys;
mod attempts;
mod audit;
mod email_change;
mod mfa;
mod passkeys;
mod reset;
mod roles;
mod sessions;
mod signing_keys;
mod verification;

pub(super) type Result<T> = std::result::Result<T, StoreError>;

impl crate::PgStore {
    /// What `read` answers for `id` (a session's or a key's), from the session-status
    /// cache when it holds a fresh entry; a read's answer is kept unless an
    /// invalidation came in while it ran.
    async fn through_cache<T: crate::cache::Cacheable + Clone>(
        &self,
        id: Uuid,
        read: impl Future<Output = Result<Option<T>>>,
    ) -> Result<Option<T>> {
        let ticket = match self.cache().map(|c| c.get(id, std::time::Instant::now())) {
            Some(Ok(cached)) => return Ok(Some(cached)),
            Some(Err(ticket)) => ticket,
            None => None,
        };
        let status = read.await?;
        if let (Some(cache), Some(ticket), Some(status)) = (self.cache(), ticket, &status) {
            cache.store(ticket, id, status.clone(), std::time::Instant::now());
        }
        Ok(status)
    }
}

pub(super) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(auth_error)
    }
}

pub(super) const SESSION_COLUMNS: &str = session_columns!();

pub(super) fn status(s: &str) -> UserStatus {
    if s == "blocked" {
        UserStatus::Blocked
    } else {
        UserStatus::Active
    }
}

pub(super) fn user_from(row: &PgRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id").db()?,
        login: row.try_get("login").db()?,
        email: row.try_get("email").db()?,
        first_name: row.try_get("first_name").db()?,
        last_name: row.try_get("last_name").db()?,
        roles: roles_from(row)?,
        status: status(row.try_get("status").db()?),
        email_verified: row.try_get("email_verified").db()?,
        created_at: row.try_get("created_at").db()?,
    })
}

/// A stored role name, held to the rule it was checked against when written.
pub(super) fn role_name(stored: String) -> Result<RoleName> {
    RoleName::parse(&stored).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// The `roles` column: the user's role names, sorted (the row's copy is unordered).
pub(super) fn roles_from(row: &PgRow) -> Result<Vec<RoleName>> {
    roles_in(row, "roles")
}

/// Role names kept in `column` (a `text[]`), sorted.
pub(super) fn roles_in(row: &PgRow, column: &str) -> Result<Vec<RoleName>> {
    let mut stored: Vec<String> = row.try_get(column).db()?;
    stored.sort_unstable();
    stored.into_iter().map(role_name).collect()
}

pub(super) fn ip_from(row: &PgRow) -> Result<Option<IpAddr>> {
    Ok(row
        .try_get::<Option<String>, _>("ip")
        .db()?
        .and_then(|s| s.parse().ok()))
}

pub(super) fn counter_from(row: &PgRow) -> Result<u64> {
    let c: i64 = row.try_get("counter").db()?;
    u64::try_from(c).map_err(|e| StoreError::Backend(Box::new(e)))
}

pub(super) fn session_from(row: &PgRow) -> Result<Session> {
    Ok(Session {
        id: row.try_get("id").db()?,
        user_id: row.try_get("user_id").db()?,
        counter: counter_from(row)?,
        created_at: row.try_get("created_at").db()?,
        last_refreshed_at: row.try_get("last_refreshed_at").db()?,
        expires_at: row.try_get("expires_at").db()?,
        revoked: row.try_get("revoked").db()?,
        ip: ip_from(row)?,
        user_agent: row.try_get("user_agent").db()?,
        sign_in: SignIn::from_code(row.try_get("sign_in").db()?)
            .ok_or_else(|| StoreError::Backend("unknown sign-in method".into()))?,
        reauthenticated_at: row.try_get("reauthenticated_at").db()?,
    })
}

/// `NotFound` when a statement that names one row affected none.
pub(super) fn found(rows_affected: u64) -> Result<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(super) fn ip_text(ip: Option<IpAddr>) -> Option<String> {
    ip.map(|i| i.to_string())
}

impl crate::PgStore {
    /// Deletes the rows of `table` whose `column` is `at` or earlier; how many went.
    pub(super) async fn purge(
        &self,
        table: &'static str,
        column: &'static str,
        at: OffsetDateTime,
    ) -> Result<u64> {
        let statement = format!("DELETE FROM auth_exchange.{table} WHERE {column} <= $1");
        Ok(sqlx::query(&self.sql(&statement))
            .bind(at)
            .execute(self.exec())
            .await
            .db()?
            .rows_affected())
    }

    /// Commits `tx`, then drops what it changed from the session-status cache.
    pub(super) async fn commit(&self, tx: Tx, change: Changed) -> Result<()> {
        tx.commit().await.db()?;
        self.changed(change);
        Ok(())
    }

    /// Revokes every live session of `user_id` but `except`, in `tx`.
    pub(super) async fn revoke_all(
        &self,
        tx: &mut Tx,
        user_id: Uuid,
        except: Option<Uuid>,
    ) -> Result<u64> {
        Ok(sqlx::query(&self.sql(
            "UPDATE auth_exchange.sessions SET revoked = true \
             WHERE user_id = $1 AND NOT revoked AND ($2::uuid IS NULL OR id <> $2)",
        ))
        .bind(user_id)
        .bind(except)
        .execute(tx.exec())
        .await
        .db()?
        .rows_affected())
    }
}
