//! [`MfaStore`] of the [`PgStore`]: second factors.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::PgStore;

#[async_trait]
impl MfaStore for PgStore {
    async fn start_totp(&self, user_id: Uuid, secret: &[u8]) -> Result<bool> {
        // The user row is locked first, so a missing user is told apart from an
        // active factor and the upsert sees a settled row. NO KEY UPDATE: a
        // confirmation in flight holds the factor and then needs the key-share lock
        // of its recovery codes' foreign key, which FOR UPDATE would deadlock with.
        let mut tx = self.begin().await.db()?;
        let exists: Option<Uuid> = sqlx::query_scalar(
            &self.sql("SELECT id FROM auth_exchange.users WHERE id = $1 FOR NO KEY UPDATE"),
        )
        .bind(user_id)
        .fetch_optional(tx.exec())
        .await
        .db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let started = sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.totp_factors (user_id, secret, active, last_step) \
             VALUES ($1, $2, false, $3) \
             ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, last_step = EXCLUDED.last_step \
             WHERE NOT totp_factors.active",
        ))
        .bind(user_id)
        .bind(secret)
        .bind(i64::MIN)
        .execute(tx.exec())
        .await
        .db()?
        .rows_affected();
        // A factor not yet active changes no session.
        self.commit(tx, Changed::Nothing).await?;
        Ok(started == 1)
    }

    async fn totp_factor(&self, user_id: Uuid) -> Result<Option<TotpFactor>> {
        let row = sqlx::query(&self.sql(
            "SELECT secret, active, last_step FROM auth_exchange.totp_factors WHERE user_id = $1",
        ))
        .bind(user_id)
        .fetch_optional(self.exec())
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
        secret: &[u8],
        step: i64,
        recovery_hashes: Vec<Vec<u8>>,
        keep_session: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool> {
        let mut tx = self.begin().await.db()?;
        // Compare-and-set on the secret: a re-enrolment committed since the code was
        // checked leaves another secret, and nothing is activated.
        let activated = sqlx::query(&self.sql(
            "UPDATE auth_exchange.totp_factors SET active = true, last_step = $2 \
             WHERE user_id = $1 AND NOT active AND secret = $3",
        ))
        .bind(user_id)
        .bind(step)
        .bind(secret)
        .execute(tx.exec())
        .await
        .db()?
        .rows_affected();
        if activated == 0 {
            return Ok(false);
        }
        sqlx::query(&self.sql("DELETE FROM auth_exchange.recovery_codes WHERE user_id = $1"))
            .bind(user_id)
            .execute(tx.exec())
            .await
            .db()?;
        sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.recovery_codes (user_id, code_hash) \
             SELECT $1, h FROM unnest($2::bytea[]) AS t(h) ON CONFLICT DO NOTHING",
        ))
        .bind(user_id)
        .bind(&recovery_hashes)
        .execute(tx.exec())
        .await
        .db()?;
        self.revoke_all(&mut tx, user_id, keep_session).await?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await?;
        Ok(true)
    }

    async fn use_totp_step(&self, user_id: Uuid, step: i64) -> Result<bool> {
        let n = sqlx::query(&self.sql(
            "UPDATE auth_exchange.totp_factors SET last_step = $2 WHERE user_id = $1 AND active AND last_step < $2",
        ))
        .bind(user_id)
        .bind(step)
        .execute(self.exec())
        .await
        .db()?
        .rows_affected();
        Ok(n == 1)
    }

    async fn use_recovery_code(&self, user_id: Uuid, code_hash: &[u8]) -> Result<bool> {
        let n =
            sqlx::query(&self.sql(
                "DELETE FROM auth_exchange.recovery_codes WHERE user_id = $1 AND code_hash = $2",
            ))
            .bind(user_id)
            .bind(code_hash)
            .execute(self.exec())
            .await
            .db()?
            .rows_affected();
        Ok(n == 1)
    }

    async fn recovery_codes_left(&self, user_id: Uuid) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            &self.sql("SELECT count(*) FROM auth_exchange.recovery_codes WHERE user_id = $1"),
        )
        .bind(user_id)
        .fetch_one(self.exec())
        .await
        .db()?;
        Ok(n as u32)
    }

    async fn remove_totp(
        &self,
        user_id: Uuid,
        keep_session: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool> {
        let mut tx = self.begin().await.db()?;
        // One statement for both tables: one snapshot.
        let removed: bool = sqlx::query_scalar(&self.sql(
            "WITH codes AS (DELETE FROM auth_exchange.recovery_codes WHERE user_id = $1), \
             factor AS (DELETE FROM auth_exchange.totp_factors WHERE user_id = $1 RETURNING user_id) \
             SELECT EXISTS (SELECT 1 FROM factor)",
        ))
        .bind(user_id)
        .fetch_one(tx.exec())
        .await
        .db()?;
        if !removed {
            return Ok(false);
        }
        self.revoke_all(&mut tx, user_id, keep_session).await?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await?;
        Ok(true)
    }

    async fn put_mfa_challenge(
        &self,
        user_id: Uuid,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.mfa_challenges (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        ))
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at)
        .execute(self.exec())
        .await
        .db()?;
        Ok(())
    }

    async fn complete_mfa_challenge(
        &self,
        user_id: Uuid,
        token_hash: &[u8],
        now: OffsetDateTime,
        proof: FactorProof,
    ) -> Result<ChallengeOutcome> {
        let mut tx = self.begin().await.db()?;
        // Locks in the order every change of a factor takes them (the factor, then,
        // through the trigger, its challenges), so none of them deadlocks with this.
        sqlx::query(
            &self.sql("SELECT 1 FROM auth_exchange.totp_factors WHERE user_id = $1 FOR UPDATE"),
        )
        .bind(user_id)
        .execute(tx.exec())
        .await
        .db()?;
        // The challenge row is locked: a concurrent completion waits and then finds it
        // gone; a concurrent change of the account (whose trigger deletes it) waits too.
        let status: Option<String> = sqlx::query_scalar(&self.sql(
            "SELECT u.status FROM auth_exchange.mfa_challenges c JOIN auth_exchange.users u ON u.id = c.user_id \
             WHERE c.token_hash = $1 AND c.user_id = $2 AND c.expires_at > $3 FOR UPDATE OF c",
        ))
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .fetch_optional(tx.exec())
        .await
        .db()?;
        match status.as_deref().map(super::status) {
            None => return Ok(ChallengeOutcome::Invalid),
            Some(UserStatus::Blocked) => return Ok(ChallengeOutcome::Blocked),
            Some(UserStatus::Active) => {}
        }
        let used = match &proof {
            FactorProof::Totp { secret, step } => sqlx::query(&self.sql(
                "UPDATE auth_exchange.totp_factors SET last_step = $2 \
                 WHERE user_id = $1 AND active AND secret = $3 AND last_step < $2",
            ))
            .bind(user_id)
            .bind(step)
            .bind(secret)
            .execute(tx.exec())
            .await
            .db()?
            .rows_affected(),
            FactorProof::Recovery { code_hash } => sqlx::query(&self.sql(
                "DELETE FROM auth_exchange.recovery_codes WHERE user_id = $1 AND code_hash = $2 \
                 AND EXISTS (SELECT 1 FROM auth_exchange.totp_factors WHERE user_id = $1 AND active)",
            ))
            .bind(user_id)
            .bind(code_hash)
            .execute(tx.exec())
            .await
            .db()?
            .rows_affected(),
            FactorProof::Passkey(u) => u64::from(self.record_passkey_use(tx.exec(), u).await?),
        };
        if used == 0 {
            return Ok(ChallengeOutcome::WrongCode);
        }
        let row = sqlx::query(&self.sql(concat!(
            "WITH used AS (DELETE FROM auth_exchange.mfa_challenges WHERE token_hash = $1) \
             SELECT ",
            user_columns!(),
            " FROM auth_exchange.users u WHERE u.id = $2"
        )))
        .bind(token_hash)
        .bind(user_id)
        .fetch_one(tx.exec())
        .await
        .db()?;
        let user = user_from(&row)?;
        self.commit(tx, Changed::Nothing).await?;
        Ok(ChallengeOutcome::Completed(user))
    }

    async fn purge_mfa_challenges(&self, now: OffsetDateTime) -> Result<u64> {
        self.purge("mfa_challenges", "expires_at", now).await
    }
}
