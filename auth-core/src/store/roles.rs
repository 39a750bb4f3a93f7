//! Roles and their grants to users.

use uuid::Uuid;

use super::AuditEvent;
use crate::domain::RoleName;
use crate::error::StoreError;

/// A role that can be granted to users.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Role {
    /// Unique name.
    pub name: RoleName,
    /// Free text.
    pub description: Option<String>,
}

capability! {
    /// Storage of roles and grants.
    pub trait RoleStore {
        /// Every role, ordered by name.
        async fn list_roles(&self) -> Result<Vec<Role>, StoreError>;

        /// Creates a role; `audit`, when given, is recorded in the same transaction,
        /// unless it fails. Errors: [`StoreError::RoleExists`].
        async fn create_role(&self, role: Role, audit: Option<AuditEvent>) -> Result<Role, StoreError>;

        /// Deletes a role and every grant of it; `audit`, when given, is recorded in the
        /// same transaction, unless it fails. Errors: [`StoreError::NotFound`].
        async fn delete_role(&self, name: &RoleName, audit: Option<AuditEvent>) -> Result<(), StoreError>;

        /// Grants a role; granting a role the user already has changes nothing. `audit`,
        /// when given, is recorded in the same transaction, unless it fails.
        ///
        /// Errors: [`StoreError::NotFound`] if the user or the role does not exist.
        async fn grant_role(&self, user_id: Uuid, role: &RoleName, audit: Option<AuditEvent>) -> Result<(), StoreError>;

        /// Revokes a role; revoking a role the user lacks changes nothing. `audit`, when
        /// given, is recorded in the same transaction, unless it fails.
        ///
        /// Errors: [`StoreError::NotFound`] if the user or the role does not exist.
        async fn revoke_role(&self, user_id: Uuid, role: &RoleName, audit: Option<AuditEvent>) -> Result<(), StoreError>;
    }
    mock roles: MockRoleStore;
}
