//! [`RoleStore`] of the [`PgStore`]: roles and grants.

use async_trait::async_trait;
use auth_core::store::*;
use sqlx::Row;
use uuid::Uuid;

use super::*;
use crate::PgStore;

#[async_trait]
impl RoleStore for PgStore {
    async fn list_roles(&self) -> Result<Vec<Role>> {
        let rows = sqlx::query(
            &self.sql("SELECT name, description FROM auth_exchange.roles ORDER BY name"),
        )
        .fetch_all(self.exec())
        .await
        .db()?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(Role {
                    name: role_name(r.try_get("name").db()?)?,
                    description: r.try_get("description").db()?,
                })
            })
            .collect::<Result<_>>()?)
    }

    async fn create_role(&self, role: Role, audit: Option<AuditEvent>) -> Result<Role> {
        let mut tx = self.begin().await.db()?;
        sqlx::query(
            &self.sql("INSERT INTO auth_exchange.roles (name, description) VALUES ($1, $2)"),
        )
        .bind(role.name.as_str())
        .bind(&role.description)
        .execute(tx.exec())
        .await
        .db()?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::Nothing).await?;
        Ok(role)
    }

    async fn delete_role(&self, name: &RoleName, audit: Option<AuditEvent>) -> Result<()> {
        let name = name.as_str();
        let mut tx = self.begin().await.db()?;
        let n = sqlx::query(&self.sql("DELETE FROM auth_exchange.roles WHERE name = $1"))
            .bind(name)
            .execute(tx.exec())
            .await
            .db()?
            .rows_affected();
        found(n)?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        // Every holder lost it.
        self.commit(tx, Changed::Everyone).await
    }

    async fn grant_role(
        &self,
        user_id: Uuid,
        role: &RoleName,
        audit: Option<AuditEvent>,
    ) -> Result<()> {
        let role = role.as_str();
        let mut tx = self.begin().await.db()?;
        sqlx::query(&self.sql(
            "INSERT INTO auth_exchange.user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        ))
        .bind(user_id)
        .bind(role)
        .execute(tx.exec())
        .await
        .db()?;
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await
    }

    async fn revoke_role(
        &self,
        user_id: Uuid,
        role: &RoleName,
        audit: Option<AuditEvent>,
    ) -> Result<()> {
        let role = role.as_str();
        let mut tx = self.begin().await.db()?;
        let both_exist: bool = sqlx::query_scalar(&self.sql(
            "WITH gone AS (DELETE FROM auth_exchange.user_roles WHERE user_id = $1 AND role = $2) \
             SELECT EXISTS (SELECT 1 FROM auth_exchange.users WHERE id = $1) \
                AND EXISTS (SELECT 1 FROM auth_exchange.roles WHERE name = $2)",
        ))
        .bind(user_id)
        .bind(role)
        .fetch_one(tx.exec())
        .await
        .db()?;
        if !both_exist {
            return Err(StoreError::NotFound);
        }
        self.audit_in(&mut tx, audit.as_ref()).await?;
        self.commit(tx, Changed::User(user_id)).await
    }
}
