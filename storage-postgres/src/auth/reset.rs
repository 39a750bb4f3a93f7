//! [`ResetStore`] of the [`PgStore`]: password reset tokens.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::PgStore;

#[async_trait]
impl ResetStore for PgStore {
    async fn put_reset_token(
        &self,
        email: &str,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> Result<Option<ResetTarget>> {
        // One statement: the lookup and the upsert see the same user.
        let row = sqlx::query(&self.sql(
            "WITH u AS (SELECT id, login, email FROM auth_exchange.users \
                       WHERE lower(email) = lower($1) AND email_verified), \
             put AS (INSERT INTO auth_exchange.password_resets (user_id, token_hash, expires_at) \
                     SELECT id, $2, $3 FROM u \
                     ON CONFLICT (user_id) DO UPDATE \
                     SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at \
                     RETURNING user_id) \
             SELECT u.id, u.login, u.email FROM u JOIN put ON put.user_id = u.id",
        ))
        .bind(email)
        .bind(token_hash)
        .bind(expires_at)
        .fetch_optional(self.exec())
        .await
        .db()?;
        row.map(|r| {
            Ok(ResetTarget {
                user_id: r.try_get("id").db()?,
                login: r.try_get("login").db()?,
                email: r.try_get("email").db()?,
            })
        })
        .transpose()
    }

    async fn reset_token_user(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<Uuid>> {
        sqlx::query_scalar(&self.sql(
            "SELECT user_id FROM auth_exchange.password_resets WHERE token_hash = $1 AND expires_at > $2",
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.exec())
        .await
        .db()
    }

    async fn consume_reset_token(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
        password_hash: &str,
        audit: Option<AuditEvent>,
    ) -> Result<Option<(Uuid, u64)>> {
        let mut tx = self.begin().await.db()?;
        // One statement: of concurrent uses only one deletes the row.
        let row = sqlx::query(&self.sql(
            "WITH used AS (DELETE FROM auth_exchange.password_resets \
                           WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id), \
             pw AS (UPDATE auth_exchange.users SET password_hash = $3 FROM used \
                    WHERE users.id = used.user_id RETURNING users.id), \
             revoked AS (UPDATE auth_exchange.sessions SET revoked = true FROM pw \
                         WHERE sessions.user_id = pw.id AND NOT sessions.revoked \
                         RETURNING sessions.id) \
             SELECT pw.id, (SELECT count(*) FROM revoked) AS revoked FROM pw",
        ))
        .bind(token_hash)
        .bind(now)
        .bind(password_hash)
        .fetch_optional(tx.exec())
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let revoked: i64 = row.try_get("revoked").db()?;
        let user: Uuid = row.try_get("id").db()?;
        let audit = audit.map(|e| e.about(user));
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user)).await?;
        Ok(Some((user, revoked as u64)))
    }

    async fn purge_reset_tokens(&self, now: OffsetDateTime) -> Result<u64> {
        self.purge("password_resets", "expires_at", now).await
    }
}
