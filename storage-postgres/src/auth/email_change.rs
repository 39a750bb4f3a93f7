//! [`EmailChangeStore`] of the [`PgStore`]: pending email changes.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::PgStore;

#[async_trait]
impl EmailChangeStore for PgStore {
    async fn put_email_change(&self, change: EmailChange) -> Result<()> {
        // One statement: the user exists and no other user has the address, as of its
        // snapshot; the unique index decides again when the change completes.
        let outcome: Option<bool> = sqlx::query_scalar(&self.sql(
            "WITH u AS (SELECT id FROM auth_exchange.users WHERE id = $1), \
             taken AS (SELECT EXISTS (SELECT 1 FROM auth_exchange.users WHERE lower(email) = $2 AND id <> $1) AS t), \
             put AS (INSERT INTO auth_exchange.email_changes (user_id, email, code_hash, expires_at) \
                     SELECT u.id, $2, $3, $4 FROM u, taken WHERE NOT taken.t \
                     ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, \
                     code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at \
                     RETURNING user_id) \
             SELECT taken.t FROM u, taken",
        ))
        .bind(change.user_id)
        .bind(&change.email)
        .bind(&change.code_hash)
        .bind(change.expires_at)
        .fetch_optional(self.exec())
        .await
        .db()?;
        match outcome {
            None => Err(StoreError::NotFound),
            Some(true) => Err(StoreError::EmailTaken),
            Some(false) => Ok(()),
        }
    }

    async fn email_change(&self, user_id: Uuid) -> Result<Option<EmailChange>> {
        let row = sqlx::query(&self.sql(
            "SELECT user_id, email, code_hash, expires_at FROM auth_exchange.email_changes WHERE user_id = $1",
        ))
        .bind(user_id)
        .fetch_optional(self.exec())
        .await
        .db()?;
        row.map(|r| {
            Ok(EmailChange {
                user_id: r.try_get("user_id").db()?,
                email: r.try_get("email").db()?,
                code_hash: r.try_get("code_hash").db()?,
                expires_at: r.try_get("expires_at").db()?,
            })
        })
        .transpose()
    }

    async fn complete_email_change(
        &self,
        user_id: Uuid,
        code_hash: &[u8],
        now: OffsetDateTime,
        audit: Option<AuditEvent>,
    ) -> Result<Option<User>> {
        let mut tx = self.begin().await.db()?;
        // One statement: of concurrent calls only one deletes the pending row; the
        // users update (and its trigger, which drops the reset token) sees that row.
        let row = sqlx::query(&self.sql(concat!(
            "WITH used AS (DELETE FROM auth_exchange.email_changes \
                           WHERE user_id = $1 AND code_hash = $2 AND expires_at > $3 \
                           RETURNING user_id, email) \
             UPDATE auth_exchange.users u SET email = used.email, email_verified = true FROM used \
             WHERE u.id = used.user_id RETURNING ",
            user_columns!()
        )))
        .bind(user_id)
        .bind(code_hash)
        .bind(now)
        .fetch_optional(tx.exec())
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = user_from(&row)?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await?;
        Ok(Some(user))
    }

    async fn purge_email_changes(&self, now: OffsetDateTime) -> Result<u64> {
        self.purge("email_changes", "expires_at", now).await
    }
}
