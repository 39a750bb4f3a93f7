//! [`MfaStore`] of the [`PgStore`]: second factors.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use uuid::Uuid;

use super::*;
use crate::PgStore;

#[async_trait]
impl MfaStore for PgStore {
    async fn start_totp(&self, user_id: Uuid, secret: &[u8]) -> Result<bool> {
        // The user row is locked first, so a missing user is told apart from an
        // active factor and the upsert sees a settled row.
        let mut tx = self.pool().begin().await.db()?;
        let exists: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let started = sqlx::query(
            "INSERT INTO totp_factors (user_id, secret, active, last_step) \
             VALUES ($1, $2, false, $3) \
             ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, last_step = EXCLUDED.last_step \
             WHERE NOT totp_factors.active",
        )
        .bind(user_id)
        .bind(secret)
        .bind(i64::MIN)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        tx.commit().await.db()?;
        Ok(started == 1)
    }

    async fn totp_factor(&self, user_id: Uuid) -> Result<Option<TotpFactor>> {
        let row =
            sqlx::query("SELECT secret, active, last_step FROM totp_factors WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(self.pool())
                .await
                .db()?;
        row.map(|r| {
            Ok(TotpFactor {
                secret: r.try_get("secret").db()?,
                active: r.try_get("active").db()?,
                last_step: r.try_get("last_step").db()?,
            })
        })
        .transpose()
    }

    async fn activate_totp(
        &self,
        user_id: Uuid,
        step: i64,
        recovery_hashes: Vec<Vec<u8>>,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await.db()?;
        let activated = sqlx::query(
            "UPDATE totp_factors SET active = true, last_step = $2 WHERE user_id = $1 AND NOT active",
        )
        .bind(user_id)
        .bind(step)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if activated == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash) \
             SELECT $1, h FROM unnest($2::bytea[]) AS t(h) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(&recovery_hashes)
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn use_totp_step(&self, user_id: Uuid, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE totp_factors SET last_step = $2 WHERE user_id = $1 AND active AND last_step < $2",
        )
        .bind(user_id)
        .bind(step)
        .execute(self.pool())
        .await
        .db()?
        .rows_affected();
        Ok(n == 1)
    }

    async fn use_recovery_code(&self, user_id: Uuid, code_hash: &[u8]) -> Result<bool> {
        let n = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2")
            .bind(user_id)
            .bind(code_hash)
            .execute(self.pool())
            .await
            .db()?
            .rows_affected();
        Ok(n == 1)
    }

    async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(self.pool())
            .await
            .db()?;
        Ok(n as u32)
    }

    async fn remove_totp(&self, user_id: Uuid) -> Result<bool> {
        // One statement: both tables, one snapshot.
        let removed: bool = sqlx::query_scalar(
            "WITH codes AS (DELETE FROM recovery_codes WHERE user_id = $1), \
             factor AS (DELETE FROM totp_factors WHERE user_id = $1 RETURNING user_id) \
             SELECT EXISTS (SELECT 1 FROM factor)",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await
        .db()?;
        Ok(removed)
    }
}
