//! [`SigningKeyStore`] of the [`PgStore`].

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::*;
use crate::{Changed, PgStore};

fn key_from(row: &PgRow) -> Result<StoredSigningKey> {
    let state: String = row.try_get("state").db()?;
    Ok(StoredSigningKey {
        kid: row.try_get("kid").db()?,
        algorithm: row.try_get("algorithm").db()?,
        state: SigningKeyState::parse(&state)
            .ok_or_else(|| StoreError::Backend(format!("signing key state {state}").into()))?,
        sealed_key: row.try_get("sealed_key").db()?,
        created_at: row.try_get("created_at").db()?,
        activated_at: row.try_get("activated_at").db()?,
        retire_after: row.try_get("retire_after").db()?,
    })
}

#[async_trait]
impl SigningKeyStore for PgStore {
    async fn signing_keys(&self) -> Result<SigningKeys> {
        // One statement, so the keys and the generation are of one snapshot.
        let rows = sqlx::query(&self.sql(
            "SELECT g.generation, k.kid, k.algorithm, k.state, k.sealed_key, k.created_at, \
             k.activated_at, k.retire_after \
             FROM auth_exchange.signing_key_generation g \
             LEFT JOIN auth_exchange.signing_keys k ON true ORDER BY k.kid",
        ))
        .fetch_all(self.exec())
        .await
        .db()?;
        let generation = match rows.first() {
            Some(row) => row.try_get("generation").db()?,
            None => 0,
        };
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<String>, _>("kid").db()?.is_some() {
                keys.push(key_from(row)?);
            }
        }
        Ok(SigningKeys { generation, keys })
    }

    async fn replace_signing_keys(
        &self,
        generation: i64,
        keys: Vec<StoredSigningKey>,
        audit: Option<AuditEvent>,
    ) -> Result<Option<i64>> {
        check_signing_keys(&keys)?;
        let mut tx = self.begin().await.db()?;
        // The compare-and-set: the row lock serialises concurrent writers, and a
        // writer that read an older generation changes nothing.
        let moved = sqlx::query(&self.sql(
            "UPDATE auth_exchange.signing_key_generation SET generation = generation + 1 \
             WHERE generation = $1",
        ))
        .bind(generation)
        .execute(tx.exec())
        .await
        .db()?;
        if moved.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query(&self.sql("DELETE FROM auth_exchange.signing_keys"))
            .execute(tx.exec())
            .await
            .db()?;
        for k in &keys {
            sqlx::query(&self.sql(
                "INSERT INTO auth_exchange.signing_keys \
                 (kid, algorithm, state, sealed_key, created_at, activated_at, retire_after) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            ))
            .bind(&k.kid)
            .bind(&k.algorithm)
            .bind(k.state.as_str())
            .bind(&k.sealed_key)
            .bind(k.created_at)
            .bind(k.activated_at)
            .bind(k.retire_after)
            .execute(tx.exec())
            .await
            .db()?;
        }
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::Nothing).await?;
        Ok(Some(generation + 1))
    }

    async fn signing_key_changes(&self) -> Result<Option<tokio::sync::watch::Receiver<u64>>> {
        // The notices come through the session-status cache's listener; without the
        // cache, the service polls alone.
        Ok(self.cache().map(|c| c.signing_key_changes()))
    }
}
