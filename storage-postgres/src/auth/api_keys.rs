//! [`ApiKeyStore`] of the [`PgStore`].

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::*;
use crate::{Changed, PgStore};

// Aliased, so a key's columns and its owner's (`user_columns!`) read from one row.
macro_rules! key_columns {
    () => {
        "k.id AS key_id, k.user_id AS key_user_id, k.name AS key_name, k.secret_hash, \
         k.roles AS key_roles, k.rate_limit, k.created_at AS key_created_at, k.expires_at, \
         k.last_used_at"
    };
}

fn key_from(row: &PgRow) -> Result<StoredApiKey> {
    let rate_limit: Option<i32> = row.try_get("rate_limit").db()?;
    Ok(StoredApiKey {
        id: row.try_get("key_id").db()?,
        user_id: row.try_get("key_user_id").db()?,
        name: row.try_get("key_name").db()?,
        secret_hash: row.try_get("secret_hash").db()?,
        roles: roles_in(row, "key_roles")?,
        rate_limit: rate_limit
            .map(u32::try_from)
            .transpose()
            .map_err(|e| StoreError::Backend(Box::new(e)))?,
        created_at: row.try_get("key_created_at").db()?,
        expires_at: row.try_get("expires_at").db()?,
        last_used_at: row.try_get("last_used_at").db()?,
    })
}

#[async_trait]
impl ApiKeyStore for PgStore {
    async fn add_api_key(&self, k: StoredApiKey, audit: Option<AuditEvent>) -> Result<bool> {
        let rate_limit = k
            .rate_limit
            .map(i32::try_from)
            .transpose()
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let roles: Vec<&str> = k.roles.iter().map(|r| r.as_str()).collect();
        let mut tx = self.begin().await.db()?;
        // One statement: the owner exists, and the unique (user, name) decides between
        // concurrent adds of one name.
        let row = sqlx::query(&self.sql(
            "WITH u AS (SELECT id FROM auth_exchange.users WHERE id = $2), \
             ins AS (INSERT INTO auth_exchange.api_keys \
                     (id, user_id, name, secret_hash, roles, rate_limit, created_at, expires_at, last_used_at) \
                     SELECT $1, u.id, $3, $4, $5, $6, $7, $8, $9 FROM u \
                     ON CONFLICT (user_id, name) DO NOTHING RETURNING 1) \
             SELECT EXISTS (SELECT 1 FROM u) AS owner, EXISTS (SELECT 1 FROM ins) AS added",
        ))
        .bind(k.id)
        .bind(k.user_id)
        .bind(&k.name)
        .bind(&k.secret_hash)
        .bind(&roles)
        .bind(rate_limit)
        .bind(k.created_at)
        .bind(k.expires_at)
        .bind(k.last_used_at)
        .fetch_one(tx.exec())
        .await
        .db()?;
        if !row.try_get::<bool, _>("owner").db()? {
            return Err(StoreError::NotFound);
        }
        if !row.try_get::<bool, _>("added").db()? {
            return Ok(false);
        }
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::Nothing).await?;
        Ok(true)
    }

    async fn api_keys(&self, user_id: Uuid) -> Result<Vec<StoredApiKey>> {
        let rows = sqlx::query(&self.sql(concat!(
            "SELECT ",
            key_columns!(),
            " FROM auth_exchange.api_keys k WHERE k.user_id = $1 ORDER BY k.created_at, k.id"
        )))
        .bind(user_id)
        .fetch_all(self.exec())
        .await
        .db()?;
        rows.iter().map(key_from).collect()
    }

    async fn api_key_status(&self, id: Uuid) -> Result<Option<ApiKeyStatus>> {
        self.through_cache(id, async {
            // One primary-key lookup joined to its owner, like `session_status`.
            let row = sqlx::query(&self.sql(concat!(
                "SELECT ",
                key_columns!(),
                ", ",
                user_columns!(),
                " FROM auth_exchange.api_keys k JOIN auth_exchange.users u ON u.id = k.user_id \
                 WHERE k.id = $1"
            )))
            .bind(id)
            .fetch_optional(self.exec())
            .await
            .db()?;
            row.map(|row| {
                Ok(ApiKeyStatus {
                    key: key_from(&row)?,
                    user: user_from(&row)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn touch_api_key(&self, id: Uuid, at: OffsetDateTime, every: Duration) -> Result<bool> {
        // The row lock queues concurrent touches; each re-checks against the committed
        // row, so one writes per interval.
        let done = sqlx::query(&self.sql(
            "UPDATE auth_exchange.api_keys SET last_used_at = $2 \
             WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
        ))
        .bind(id)
        .bind(at)
        .bind(at - every)
        .execute(self.exec())
        .await
        .db()?;
        let touched = done.rows_affected() == 1;
        if touched {
            // This instance's cached copy holds the old time: read it again next.
            self.changed(Changed::Session(id));
        }
        Ok(touched)
    }

    async fn revoke_api_key(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: Option<AuditEvent>,
    ) -> Result<bool> {
        let mut tx = self.begin().await.db()?;
        let done = sqlx::query(
            &self.sql("DELETE FROM auth_exchange.api_keys WHERE id = $1 AND user_id = $2"),
        )
        .bind(id)
        .bind(user_id)
        .execute(tx.exec())
        .await
        .db()?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await?;
        Ok(true)
    }
}
