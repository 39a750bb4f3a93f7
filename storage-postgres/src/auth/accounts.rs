//! [`AccountStore`] of the [`PgStore`]: accounts.

use async_trait::async_trait;
use auth_core::Login;
use auth_core::store::*;
use sqlx::Row;
use uuid::Uuid;

use super::*;
use crate::PgStore;

#[async_trait]
impl AccountStore for PgStore {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        let mut tx = self.begin().await.db()?;
        sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.users (id, login, email, first_name, last_name, password_hash, \
             email_verified, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ))
        .bind(user.id)
        .bind(user.login.as_str())
        .bind(user.email.as_ref().map(|e| e.as_str()))
        .bind(user.first_name.as_ref().map(|n| n.as_str()))
        .bind(user.last_name.as_ref().map(|n| n.as_str()))
        .bind(&user.password_hash)
        .bind(user.email_verified)
        .bind(user.created_at)
        .execute(tx.exec())
        .await
        .db()?;
        if !user.roles.is_empty() {
            sqlx::query(&self.sql("INSERT INTO auth_exchange.user_roles (user_id, role) SELECT $1, unnest($2::text[])"))
                .bind(user.id)
                .bind(user.roles.iter().map(RoleName::as_str).collect::<Vec<_>>())
                .execute(tx.exec())
                .await
                .db()?;
        }
        let row = sqlx::query(&self.sql(concat!(
            "SELECT ",
            user_columns!(),
            " FROM auth_exchange.users u WHERE u.id = $1"
        )))
        .bind(user.id)
        .fetch_one(tx.exec())
        .await
        .db()?;
        // A new user has no session yet.
        self.commit(tx, Changed::Nothing).await?;
        Ok(user_from(&row)?)
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>> {
        let row = sqlx::query(&self.sql(concat!(
            "SELECT ",
            user_columns!(),
            " FROM auth_exchange.users u WHERE u.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.exec())
        .await
        .db()?;
        Ok(row.as_ref().map(user_from).transpose()?)
    }

    async fn credentials_by_login(&self, login: &Login) -> Result<Option<Credentials>> {
        let row = sqlx::query(&self.sql(concat!(
            "SELECT ",
            user_columns!(),
            ", u.password_hash FROM auth_exchange.users u WHERE lower(u.login) = lower($1)"
        )))
        .bind(login.as_str())
        .fetch_optional(self.exec())
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            user: user_from(&row)?,
            password_hash: row.try_get("password_hash").db()?,
        }))
    }

    async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            &self.sql("SELECT password_hash FROM auth_exchange.users WHERE id = $1"),
        )
        .bind(user_id)
        .fetch_optional(self.exec())
        .await
        .db()?)
    }

    async fn update_user(
        &self,
        id: Uuid,
        update: UserUpdate,
        audit: Option<AuditEvent>,
    ) -> Result<User> {
        let statement = self.sql(concat!(
            "UPDATE auth_exchange.users u SET email = COALESCE($2, u.email), \
             first_name = COALESCE($3, u.first_name), last_name = COALESCE($4, u.last_name), \
             email_verified = COALESCE($5, u.email_verified) \
             WHERE u.id = $1 RETURNING ",
            user_columns!()
        ));
        let query = sqlx::query(&statement)
            .bind(id)
            .bind(update.email.as_ref().map(|e| e.as_str()))
            .bind(update.first_name.as_ref().map(|n| n.as_str()))
            .bind(update.last_name.as_ref().map(|n| n.as_str()))
            .bind(update.email_verified);
        // A user's own edit is one statement; an audited one a transaction with its event.
        let row = match &audit {
            None => query.fetch_optional(self.exec()).await.db()?,
            Some(event) => {
                let mut tx = self.begin().await.db()?;
                let row = query.fetch_optional(tx.exec()).await.db()?;
                if row.is_some() {
                    self.write_audit(tx.exec(), event).await?;
                    tx.commit().await.db()?;
                }
                row
            }
        }
        .ok_or(StoreError::NotFound)?;
        self.changed(Changed::User(id));
        Ok(user_from(&row)?)
    }

    async fn set_password_hash(
        &self,
        user_id: Uuid,
        password_hash: &str,
        revoke_except: Option<Uuid>,
        audit: Option<AuditEvent>,
    ) -> Result<u64> {
        let mut tx = self.begin().await.db()?;
        let updated = sqlx::query(
            &self.sql("UPDATE auth_exchange.users SET password_hash = $2 WHERE id = $1"),
        )
        .bind(user_id)
        .bind(password_hash)
        .execute(tx.exec())
        .await
        .db()?
        .rows_affected();
        found(updated)?;
        let revoked = match revoke_except {
            Some(keep) => self.revoke_all(&mut tx, user_id, Some(keep)).await?,
            None => 0,
        };
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await?;
        Ok(revoked)
    }

    async fn delete_user(&self, id: Uuid, audit: Option<AuditEvent>) -> Result<()> {
        let mut tx = self.begin().await.db()?;
        let n = sqlx::query(&self.sql("DELETE FROM auth_exchange.users WHERE id = $1"))
            .bind(id)
            .execute(tx.exec())
            .await
            .db()?
            .rows_affected();
        found(n)?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(id)).await
    }

    async fn list_users(
        &self,
        query: Option<String>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<User>> {
        let rows = sqlx::query(&self.sql(concat!(
            "SELECT ",
            user_columns!(),
            " FROM auth_exchange.users u WHERE $1::text IS NULL \
             OR strpos(lower(u.login), lower($1)) > 0 \
             OR strpos(lower(coalesce(u.email, '')), lower($1)) > 0 \
             OR strpos(lower(coalesce(u.first_name, '')), lower($1)) > 0 \
             OR strpos(lower(coalesce(u.last_name, '')), lower($1)) > 0 \
             ORDER BY u.created_at, u.id LIMIT $2 OFFSET $3"
        )))
        .bind(query)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(self.exec())
        .await
        .db()?;
        Ok(rows.iter().map(user_from).collect::<Result<_>>()?)
    }

    async fn set_user_status(
        &self,
        id: Uuid,
        status: UserStatus,
        audit: Option<AuditEvent>,
    ) -> Result<u64> {
        let mut tx = self.begin().await.db()?;
        let n = sqlx::query(&self.sql("UPDATE auth_exchange.users SET status = $2 WHERE id = $1"))
            .bind(id)
            .bind(status.as_str())
            .execute(tx.exec())
            .await
            .db()?
            .rows_affected();
        found(n)?;
        let revoked = match status {
            UserStatus::Blocked => self.revoke_all(&mut tx, id, None).await?,
            UserStatus::Active => 0,
        };
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(id)).await?;
        Ok(revoked)
    }
}
