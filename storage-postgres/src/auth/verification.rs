//! [`VerificationStore`] of the [`PgStore`]: verification codes.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::PgStore;

#[async_trait]
impl VerificationStore for PgStore {
    async fn put_verification_code(&self, code: VerificationCode) -> Result<()> {
        sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.verification_codes (user_id, code_hash, expires_at) \
             VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE \
             SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at",
        ))
        .bind(code.user_id)
        .bind(&code.code_hash)
        .bind(code.expires_at)
        .execute(self.exec())
        .await
        .db()?;
        Ok(())
    }

    async fn verification_code(&self, user_id: Uuid) -> Result<Option<VerificationCode>> {
        let row = sqlx::query(&self.sql(
            "SELECT user_id, code_hash, expires_at FROM auth_exchange.verification_codes WHERE user_id = $1",
        ))
        .bind(user_id)
        .fetch_optional(self.exec())
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(VerificationCode {
            user_id: row.try_get("user_id").db()?,
            code_hash: row.try_get("code_hash").db()?,
            expires_at: row.try_get("expires_at").db()?,
        }))
    }

    async fn complete_verification(&self, user_id: Uuid) -> Result<()> {
        let mut tx = self.begin().await.db()?;
        let n = sqlx::query(
            &self.sql("UPDATE auth_exchange.users SET email_verified = true WHERE id = $1"),
        )
        .bind(user_id)
        .execute(tx.exec())
        .await
        .db()?
        .rows_affected();
        found(n)?;
        sqlx::query(&self.sql("DELETE FROM auth_exchange.verification_codes WHERE user_id = $1"))
            .bind(user_id)
            .execute(tx.exec())
            .await
            .db()?;
        self.commit(tx, Changed::User(user_id)).await?;
        Ok(())
    }

    async fn purge_codes(&self, now: OffsetDateTime) -> Result<u64> {
        self.purge("verification_codes", "expires_at", now).await
    }
}
