//! [`RoleStore`] of the [`MemoryStore`]: roles and grants.

use async_trait::async_trait;
use uuid::Uuid;

use super::MemoryStore;
use crate::domain::RoleName;
use crate::error::StoreError;
use crate::store::*;

#[async_trait]
impl RoleStore for MemoryStore {
    async fn list_roles(&self) -> Result<Vec<Role>, StoreError> {
        Ok(self.lock().roles.values().cloned().collect())
    }

    async fn create_role(&self, role: Role, audit: Option<AuditEvent>) -> Result<Role, StoreError> {
        let mut st = self.lock();
        if st.roles.contains_key(&role.name) {
            return Err(StoreError::RoleExists);
        }
        st.roles.insert(role.name.clone(), role.clone());
        st.audit(audit);
        Ok(role)
    }

    async fn delete_role(
        &self,
        name: &RoleName,
        audit: Option<AuditEvent>,
    ) -> Result<(), StoreError> {
        let name = name.as_str();
        let mut st = self.lock();
        st.roles.remove(name).ok_or(StoreError::NotFound)?;
        for g in st.grants.values_mut() {
            g.remove(name);
        }
        st.audit(audit);
        Ok(())
    }

    async fn grant_role(
        &self,
        user_id: Uuid,
        role: &RoleName,
        audit: Option<AuditEvent>,
    ) -> Result<(), StoreError> {
        let mut st = self.lock();
        if !st.users.contains_key(&user_id) || !st.roles.contains_key(role) {
            return Err(StoreError::NotFound);
        }
        st.grants.entry(user_id).or_default().insert(role.clone());
        st.audit(audit);
        Ok(())
    }

    async fn revoke_role(
        &self,
        user_id: Uuid,
        role: &RoleName,
        audit: Option<AuditEvent>,
    ) -> Result<(), StoreError> {
        let role = role.as_str();
        let mut st = self.lock();
        if !st.users.contains_key(&user_id) || !st.roles.contains_key(role) {
            return Err(StoreError::NotFound);
        }
        if let Some(g) = st.grants.get_mut(&user_id) {
            g.remove(role);
        }
        st.audit(audit);
        Ok(())
    }
}
