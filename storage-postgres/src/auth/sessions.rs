//! [`SessionStore`] of the [`PgStore`]: sessions and the refresh rule in SQL.

use std::sync::LazyLock;

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use sqlx::postgres::PgArguments;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::attempts::{RESERVE_PARAMS, arg, reserve, reserve_args};
use super::*;
use crate::PgStore;

/// The liveness rule of `Session::is_live` in SQL, over sessions aliased `s`; `now`
/// and `idle_cutoff` (`now` less the idle timeout) name the statement's parameters.
fn live(now: &str, idle_cutoff: &str) -> String {
    format!("(NOT s.revoked AND s.expires_at > {now} AND s.last_refreshed_at > {idle_cutoff})")
}

/// The refresh statement: the compare-and-swap of the counter, a conditional UPDATE
/// returning the rotated session with its owner's roles. With `limited`, the
/// per-address reservation runs first in the same statement ([`reserve`]'s
/// parameters from `$1`) and gates the UPDATE, and the statement always returns one
/// row: `granted`, and the rotated session or NULLs. Without, it is the UPDATE alone,
/// returning the rotated session or no row. The session id, presented counter, `now`
/// and idle cutoff follow.
fn refresh_statement(limited: bool) -> String {
    let first = if limited { RESERVE_PARAMS + 1 } else { 1 };
    let [id, counter, now, idle_cutoff] = std::array::from_fn(|i| format!("${}", first + i));
    let granted = if limited {
        "EXISTS (SELECT 1 FROM reserved) AND "
    } else {
        ""
    };
    let update = format!(
        "UPDATE auth_exchange.sessions s SET counter = s.counter + 1, last_refreshed_at = {now} \
         FROM auth_exchange.users u \
         WHERE {granted}s.id = {id} AND s.counter = {counter} AND {live} \
           AND u.id = s.user_id AND u.status = 'active' \
         RETURNING {SESSION_COLUMNS}, u.roles",
        live = live(&now, &idle_cutoff),
    );
    if !limited {
        return update;
    }
    format!(
        "WITH reserved AS ({}), rot AS ({update}) \
         SELECT EXISTS (SELECT 1 FROM reserved) AS granted, rot.* \
         FROM (VALUES (1)) AS one (x) LEFT JOIN rot ON true",
        reserve(1)
    )
}

/// [`refresh_statement`] with and without the reservation.
static REFRESH_LIMITED: LazyLock<String> = LazyLock::new(|| refresh_statement(true));
static REFRESH: LazyLock<String> = LazyLock::new(|| refresh_statement(false));

/// Lists a user's live sessions, newest first.
static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS} FROM auth_exchange.sessions s \
         WHERE s.user_id = $1 AND {live} \
         ORDER BY s.created_at DESC, s.id DESC LIMIT $4 OFFSET $5",
        live = live("$2", "$3")
    )
});

/// Deletes every session that is no longer live.
static PURGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "DELETE FROM auth_exchange.sessions s WHERE NOT {}",
        live("$1", "$2")
    )
});

#[async_trait]
impl SessionStore for PgStore {
    async fn create_session(&self, s: Session, max_live: u32) -> Result<u64> {
        let mut tx = self.begin().await.db()?;
        // The user's row lock serialises the session inserts of one user, so the cap
        // below counts every session committed before this one.
        let inserted = sqlx::query(&self.sql(
            "WITH u AS (SELECT id FROM auth_exchange.users WHERE id = $2 FOR NO KEY UPDATE) \
             INSERT INTO auth_exchange.sessions (id, user_id, counter, created_at, last_refreshed_at, \
             expires_at, revoked, ip, user_agent, sign_in, reauthenticated_at) \
             SELECT $1, u.id, $3, $4, $5, $6, $7, $8::inet, $9, $10, $11 FROM u",
        ))
        .bind(s.id)
        .bind(s.user_id)
        .bind(i64::try_from(s.counter).map_err(|e| StoreError::Backend(Box::new(e)))?)
        .bind(s.created_at)
        .bind(s.last_refreshed_at)
        .bind(s.expires_at)
        .bind(s.revoked)
        .bind(ip_text(s.ip))
        .bind(&s.user_agent)
        .bind(s.sign_in.code())
        .bind(s.reauthenticated_at)
        .execute(tx.exec())
        .await
        .db()?
        .rows_affected();
        found(inserted)?;
        let revoked = if max_live == 0 {
            0
        } else {
            sqlx::query(&self.sql(
                "UPDATE auth_exchange.sessions SET revoked = true WHERE id IN ( \
                   SELECT id FROM auth_exchange.sessions \
                   WHERE user_id = $1 AND NOT revoked AND expires_at > $2 \
                   ORDER BY created_at DESC, id DESC OFFSET $3)",
            ))
            .bind(s.user_id)
            .bind(s.created_at)
            .bind(i64::from(max_live))
            .execute(tx.exec())
            .await
            .db()?
            .rows_affected()
        };
        let change = if revoked > 0 {
            Changed::User(s.user_id)
        } else {
            Changed::Nothing
        };
        self.commit(tx, change).await?;
        Ok(revoked)
    }

    async fn session(&self, id: Uuid) -> Result<Option<Session>> {
        let row = sqlx::query(&self.sql(concat!(
            "SELECT ",
            session_columns!(),
            " FROM auth_exchange.sessions s WHERE s.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.exec())
        .await
        .db()?;
        Ok(row.as_ref().map(session_from).transpose()?)
    }

    async fn session_status(&self, id: Uuid) -> Result<Option<SessionStatus>> {
        self.through_cache(id, async {
            // One primary-key lookup joined to its user: the hot path of every request.
            let row = sqlx::query(&self.sql(concat!("SELECT s.revoked, s.expires_at, s.last_refreshed_at, ", user_columns!(), " \
                 FROM auth_exchange.sessions s JOIN auth_exchange.users u ON u.id = s.user_id WHERE s.id = $1")))
            .bind(id)
            .fetch_optional(self.exec())
            .await
            .db()?;
            row.map(|row| {
                Ok(SessionStatus {
                    revoked: row.try_get("revoked").db()?,
                    expires_at: row.try_get("expires_at").db()?,
                    last_refreshed_at: row.try_get("last_refreshed_at").db()?,
                    user: user_from(&row)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn refresh_session(&self, req: RefreshRequest) -> Result<RefreshOutcome> {
        let Ok(counter) = i64::try_from(req.counter) else {
            return Ok(RefreshOutcome::Rejected);
        };
        let idle_cutoff = req.now - req.idle_timeout;
        // One statement: the per-address reservation (when asked), then the
        // compare-and-swap. Concurrent callers queue on the row lock and re-check the
        // counter against the committed row, so exactly one of them rotates.
        let mut args = PgArguments::default();
        let statement = match &req.limit {
            Some(k) => {
                reserve_args(&mut args, Some(&k.key), k.limit, req.now)?;
                &*REFRESH_LIMITED
            }
            None => &*REFRESH,
        };
        arg(&mut args, req.session_id)?;
        arg(&mut args, counter)?;
        arg(&mut args, req.now)?;
        arg(&mut args, idle_cutoff)?;
        let row = sqlx::query_with(&self.sql(statement), args)
            .fetch_optional(self.exec())
            .await
            .db()?;
        if let (Some(k), Some(row)) = (&req.limit, &row)
            && !row.try_get::<bool, _>("granted").db()?
        {
            return Ok(RefreshOutcome::Limited {
                until: self.refused_until(&k.key, k.limit, req.now).await?,
            });
        }
        if let Some(row) = row
            && row.try_get::<Option<Uuid>, _>("id").db()?.is_some()
        {
            self.changed(Changed::Session(req.session_id));
            return Ok(RefreshOutcome::Rotated {
                session: session_from(&row)?,
                roles: roles_from(&row)?,
            });
        }

        let row = sqlx::query(&self.sql(concat!("SELECT ", session_columns!(), ", u.status, u.roles \
             FROM auth_exchange.sessions s JOIN auth_exchange.users u ON u.id = s.user_id WHERE s.id = $1")))
        .bind(req.session_id)
        .fetch_optional(self.exec())
        .await.db()?;
        let Some(row) = row else {
            return Ok(RefreshOutcome::Rejected);
        };
        let session = session_from(&row)?;
        let active = status(row.try_get("status").db()?) == UserStatus::Active;
        let alive = session.is_live(req.now, req.idle_timeout) && active;
        // `counter == current` here means the UPDATE lost to a concurrent change that
        // killed the session; either way it is not ours to rotate.
        if !alive || req.counter >= session.counter {
            return Ok(RefreshOutcome::Rejected);
        }
        if req.counter + 1 == session.counter
            && req.now - session.last_refreshed_at <= req.reuse_grace
        {
            return Ok(RefreshOutcome::Retried {
                session,
                roles: roles_from(&row)?,
            });
        }
        // Reuse: the revocation (with its audit event) is committed here, whatever the
        // caller does with the error it gets.
        let mut tx = self.begin().await.db()?;
        let revoked = match req.reuse_policy {
            ReusePolicy::RevokeUser => {
                sqlx::query(&self.sql("UPDATE auth_exchange.sessions SET revoked = true WHERE user_id = $1 AND NOT revoked"))
                    .bind(session.user_id)
                    .execute(tx.exec())
                    .await
                    .db()?
                    .rows_affected()
            }
            ReusePolicy::RevokeSession => {
                sqlx::query(&self.sql("UPDATE auth_exchange.sessions SET revoked = true WHERE id = $1 AND NOT revoked"))
                    .bind(session.id)
                    .execute(tx.exec())
                    .await
                    .db()?
                    .rows_affected()
            }
        };
        let audit = req.reuse_audit.map(|e| e.about(session.user_id));
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(session.user_id)).await?;
        Ok(RefreshOutcome::Reused {
            user_id: session.user_id,
            revoked,
        })
    }

    async fn mark_reauthenticated(
        &self,
        id: Uuid,
        user_id: Uuid,
        at: OffsetDateTime,
    ) -> Result<bool> {
        let n = sqlx::query(&self.sql(
            "UPDATE auth_exchange.sessions SET reauthenticated_at = $3 \
             WHERE id = $1 AND user_id = $2 AND NOT revoked AND expires_at > $3",
        ))
        .bind(id)
        .bind(user_id)
        .bind(at)
        .execute(self.exec())
        .await
        .db()?
        .rows_affected();
        Ok(n == 1)
    }

    async fn revoke_session(
        &self,
        id: Uuid,
        user_id: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool> {
        let mut tx = self.begin().await.db()?;
        let owner: Option<Uuid> = sqlx::query_scalar(&self.sql(
            "UPDATE auth_exchange.sessions SET revoked = true \
             WHERE id = $1 AND NOT revoked AND ($2::uuid IS NULL OR user_id = $2) \
             RETURNING user_id",
        ))
        .bind(id)
        .bind(user_id)
        .fetch_optional(tx.exec())
        .await
        .db()?;
        let Some(owner) = owner else {
            return Ok(false);
        };
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(owner)).await?;
        Ok(true)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<u64> {
        let mut tx = self.begin().await.db()?;
        let n = self.revoke_all(&mut tx, user_id, except).await?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await?;
        Ok(n)
    }

    async fn list_sessions(
        &self,
        user_id: Uuid,
        now: OffsetDateTime,
        idle_timeout: Duration,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<Session>> {
        let rows = sqlx::query(&self.sql(&LIST))
            .bind(user_id)
            .bind(now)
            .bind(now - idle_timeout)
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(self.exec())
            .await
            .db()?;
        Ok(rows.iter().map(session_from).collect::<Result<_>>()?)
    }

    async fn purge_sessions(&self, now: OffsetDateTime, idle_timeout: Duration) -> Result<u64> {
        Ok(sqlx::query(&self.sql(&PURGE))
            .bind(now)
            .bind(now - idle_timeout)
            .execute(self.exec())
            .await
            .db()?
            .rows_affected())
    }
}
