//! [`PasskeyStore`] of the [`PgStore`]: passkeys and ceremony states.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::{Changed, PgStore};

macro_rules! passkey_columns {
    () => {
        "id, user_id, credential_id, name, credential, counter, \
         backup_eligible, backup_state, created_at, last_used_at"
    };
}

fn passkey_from(row: &PgRow) -> Result<StoredPasskey> {
    let counter: i64 = row.try_get("counter").db()?;
    Ok(StoredPasskey {
        id: row.try_get("id").db()?,
        user_id: row.try_get("user_id").db()?,
        credential_id: row.try_get("credential_id").db()?,
        name: row.try_get("name").db()?,
        credential: row.try_get("credential").db()?,
        counter: u32::try_from(counter).map_err(|e| StoreError::Backend(Box::new(e)))?,
        backup_eligible: row.try_get("backup_eligible").db()?,
        backup_state: row.try_get("backup_state").db()?,
        created_at: row.try_get("created_at").db()?,
        last_used_at: row.try_get("last_used_at").db()?,
    })
}

impl PgStore {
    /// [`PasskeyStore::use_passkey`] on `db` (the pool, or the transaction of an MFA
    /// challenge's completion).
    pub(super) async fn record_passkey_use(
        &self,
        db: crate::pooler::Db<'_>,
        u: &PasskeyUse,
    ) -> Result<bool> {
        // The row lock queues concurrent uses; each re-checks the counter against the
        // committed row, so one counter value is accepted once. The counter rule is
        // the memory store's `counter_advances`.
        let done = sqlx::query(&self.sql(
            "UPDATE auth_exchange.passkeys SET counter = $3, backup_state = $4, last_used_at = $5, \
             credential = COALESCE($6, credential) \
             WHERE credential_id = $1 AND user_id = $2 AND ($3 > counter OR ($3 = 0 AND counter = 0))",
        ))
        .bind(&u.credential_id)
        .bind(u.user_id)
        .bind(i64::from(u.counter))
        .bind(u.backup_state)
        .bind(u.at)
        .bind(&u.credential)
        .execute(db)
        .await
        .db()?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl PasskeyStore for PgStore {
    async fn add_passkey(
        &self,
        p: StoredPasskey,
        keep_session: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool> {
        let mut tx = self.begin().await.db()?;
        // One statement: the owner exists, and the unique credential id decides
        // between concurrent registrations of one authenticator.
        let row = sqlx::query(&self.sql(concat!(
            "WITH u AS (SELECT id FROM auth_exchange.users WHERE id = $2), \
             ins AS (INSERT INTO auth_exchange.passkeys (",
            passkey_columns!(),
            ") \
                     SELECT $1, u.id, $3, $4, $5, $6, $7, $8, $9, $10 FROM u \
                     ON CONFLICT (credential_id) DO NOTHING RETURNING 1) \
             SELECT EXISTS (SELECT 1 FROM u) AS owner, EXISTS (SELECT 1 FROM ins) AS added"
        )))
        .bind(p.id)
        .bind(p.user_id)
        .bind(&p.credential_id)
        .bind(&p.name)
        .bind(&p.credential)
        .bind(i64::from(p.counter))
        .bind(p.backup_eligible)
        .bind(p.backup_state)
        .bind(p.created_at)
        .bind(p.last_used_at)
        .fetch_one(tx.exec())
        .await
        .db()?;
        if !row.try_get::<bool, _>("owner").db()? {
            return Err(StoreError::NotFound);
        }
        if !row.try_get::<bool, _>("added").db()? {
            return Ok(false);
        }
        self.revoke_all(&mut tx, p.user_id, keep_session).await?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(p.user_id)).await?;
        Ok(true)
    }

    async fn passkeys(&self, user_id: Uuid) -> Result<Vec<StoredPasskey>> {
        let rows = sqlx::query(&self.sql(concat!(
            "SELECT ",
            passkey_columns!(),
            " FROM auth_exchange.passkeys WHERE user_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(user_id)
        .fetch_all(self.exec())
        .await
        .db()?;
        rows.iter().map(passkey_from).collect()
    }

    async fn passkey_by_credential(&self, credential_id: &[u8]) -> Result<Option<StoredPasskey>> {
        let row = sqlx::query(&self.sql(concat!(
            "SELECT ",
            passkey_columns!(),
            " FROM auth_exchange.passkeys WHERE credential_id = $1"
        )))
        .bind(credential_id)
        .fetch_optional(self.exec())
        .await
        .db()?;
        row.as_ref().map(passkey_from).transpose()
    }

    async fn use_passkey(&self, u: PasskeyUse) -> Result<bool> {
        self.record_passkey_use(self.exec(), &u).await
    }

    async fn rename_passkey(&self, user_id: Uuid, id: Uuid, name: &str) -> Result<bool> {
        let done = sqlx::query(
            &self.sql("UPDATE auth_exchange.passkeys SET name = $3 WHERE id = $1 AND user_id = $2"),
        )
        .bind(id)
        .bind(user_id)
        .bind(name)
        .execute(self.exec())
        .await
        .db()?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        keep_session: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<bool> {
        let mut tx = self.begin().await.db()?;
        let done = sqlx::query(
            &self.sql("DELETE FROM auth_exchange.passkeys WHERE id = $1 AND user_id = $2"),
        )
        .bind(id)
        .bind(user_id)
        .execute(tx.exec())
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.revoke_all(&mut tx, user_id, keep_session).await?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await?;
        Ok(true)
    }

    async fn put_ceremony(&self, c: Ceremony, now: OffsetDateTime) -> Result<()> {
        let done = sqlx::query(&self.sql(
            "WITH gone AS (DELETE FROM auth_exchange.passkey_ceremonies WHERE expires_at <= $6) \
             INSERT INTO auth_exchange.passkey_ceremonies (id, kind, user_id, state, expires_at) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE $3::uuid IS NULL OR EXISTS (SELECT 1 FROM auth_exchange.users WHERE id = $3)",
        ))
        .bind(c.id)
        .bind(c.kind.as_str())
        .bind(c.user_id)
        .bind(&c.state)
        .bind(c.expires_at)
        .bind(now)
        .execute(self.exec())
        .await
        .db()?;
        found(done.rows_affected())
    }

    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        now: OffsetDateTime,
    ) -> Result<Option<Ceremony>> {
        // DELETE ... RETURNING: of concurrent takes, the row goes to one.
        let row = sqlx::query(&self.sql(
            "DELETE FROM auth_exchange.passkey_ceremonies WHERE id = $1 AND kind = $2 \
             RETURNING user_id, state, expires_at",
        ))
        .bind(id)
        .bind(kind.as_str())
        .fetch_optional(self.exec())
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let ceremony = Ceremony {
            id,
            kind,
            user_id: row.try_get("user_id").db()?,
            state: row.try_get("state").db()?,
            expires_at: row.try_get("expires_at").db()?,
        };
        Ok(Some(ceremony).filter(|c| c.expires_at > now))
    }
}
