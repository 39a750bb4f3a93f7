//! Administration: users, blocking, roles and the first administrator.

use uuid::Uuid;

use super::{AuthService, Principal, ProfileUpdate, not_found, plain_text};
use crate::domain::{Login, Password, RoleName};
use crate::error::{AuthError, StoreError};
use crate::store::{AuditKind, NewUser, Role, User, UserStatus};

impl AuthService {
    /// Users matching `query` (login, email or names, ignoring case), paginated;
    /// `limit` is clamped to 1..=100. Errors: [`AuthError::Validation`] for a query
    /// over 256 characters or with control characters.
    pub async fn list_users(
        &self,
        query: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<User>, AuthError> {
        let query = query
            .map(|q| plain_text("query", q, 256))
            .transpose()?
            .filter(|q| !q.is_empty());
        Ok(self
            .store
            .list_users(query, limit.clamp(1, 100), offset)
            .await?)
    }

    /// Administrative profile update on `actor`'s behalf (recorded in the audit log,
    /// with the fields set); may also set `email_verified`.
    pub async fn admin_update_user(
        &self,
        actor: &Principal,
        user_id: Uuid,
        update: ProfileUpdate,
    ) -> Result<User, AuthError> {
        self.apply_update(user_id, update, None, Some(actor)).await
    }

    /// Deletes a user with all its data. Errors: [`AuthError::NotFound`].
    ///
    /// `actor` must have the `admin` role ([`AuthError::Forbidden`]) and cannot delete
    /// their own account ([`AuthError::OwnAccount`]).
    pub async fn delete_user(&self, actor: &Principal, user_id: Uuid) -> Result<(), AuthError> {
        Self::admin_acting_on_another(actor, user_id)?;
        let event = self.audit_event(AuditKind::UserDeleted, actor, user_id, None);
        self.store
            .delete_user(user_id, Some(event))
            .await
            .map_err(|e| not_found(e, "user"))
    }

    /// Blocks a user and revokes every session of it at once.
    ///
    /// `actor` must have the `admin` role ([`AuthError::Forbidden`]) and cannot block
    /// their own account ([`AuthError::OwnAccount`]).
    pub async fn block_user(&self, actor: &Principal, user_id: Uuid) -> Result<(), AuthError> {
        Self::admin_acting_on_another(actor, user_id)?;
        let event = self.audit_event(AuditKind::UserBlocked, actor, user_id, None);
        self.store
            .set_user_status(user_id, UserStatus::Blocked, Some(event))
            .await
            .map_err(|e| not_found(e, "user"))?;
        Ok(())
    }

    /// Unblocks a user, on `actor`'s behalf (recorded in the audit log); the user must
    /// log in again.
    pub async fn unblock_user(&self, actor: &Principal, user_id: Uuid) -> Result<(), AuthError> {
        let event = self.audit_event(AuditKind::UserUnblocked, actor, user_id, None);
        self.store
            .set_user_status(user_id, UserStatus::Active, Some(event))
            .await
            .map_err(|e| not_found(e, "user"))?;
        Ok(())
    }

    /// Revokes every session of a user on `actor`'s behalf (recorded in the audit
    /// log); returns how many.
    pub async fn revoke_user_sessions(
        &self,
        actor: &Principal,
        user_id: Uuid,
    ) -> Result<u64, AuthError> {
        self.user(user_id).await?;
        let event = self.audit_event(AuditKind::SessionsRevoked, actor, user_id, None);
        Ok(self
            .store
            .revoke_user_sessions(user_id, None, Some(event))
            .await?)
    }

    /// Every role.
    pub async fn roles(&self) -> Result<Vec<Role>, AuthError> {
        Ok(self.store.list_roles().await?)
    }

    /// Creates a role on `actor`'s behalf (recorded in the audit log). Errors:
    /// [`AuthError::Validation`] (name rules, or a description over 256 characters or
    /// with control characters), [`AuthError::RoleExists`].
    pub async fn create_role(
        &self,
        actor: &Principal,
        name: &str,
        description: Option<String>,
    ) -> Result<Role, AuthError> {
        let name = RoleName::parse(name)?;
        let description = description
            .map(|d| plain_text("description", &d, 256))
            .transpose()?
            .filter(|d| !d.is_empty());
        let event = self.untargeted_event(AuditKind::RoleCreated, Some(actor), name.to_string());
        Ok(self
            .store
            .create_role(Role { name, description }, Some(event))
            .await?)
    }

    /// Deletes a role on `actor`'s behalf (recorded in the audit log). Errors:
    /// [`AuthError::ProtectedRole`] for `admin`, [`AuthError::NotFound`].
    pub async fn delete_role(&self, actor: &Principal, name: &str) -> Result<(), AuthError> {
        if name == RoleName::ADMIN {
            return Err(AuthError::ProtectedRole);
        }
        let name = RoleName::parse(name).map_err(|_| AuthError::NotFound("role"))?;
        let event = self.untargeted_event(AuditKind::RoleDeleted, Some(actor), name.to_string());
        self.store
            .delete_role(&name, Some(event))
            .await
            .map_err(|e| not_found(e, "role"))
    }

    /// Grants a role on `actor`'s behalf (recorded in the audit log). Errors:
    /// [`AuthError::NotFound`] for an unknown user or role.
    pub async fn grant_role(
        &self,
        actor: &Principal,
        user_id: Uuid,
        role: &str,
    ) -> Result<(), AuthError> {
        let role = RoleName::parse(role).map_err(|_| AuthError::NotFound("user or role"))?;
        let event = self.audit_event(
            AuditKind::RoleGranted,
            actor,
            user_id,
            Some(role.to_string()),
        );
        self.store
            .grant_role(user_id, &role, Some(event))
            .await
            .map_err(|e| not_found(e, "user or role"))
    }

    /// Revokes a role. Errors: [`AuthError::NotFound`] for an unknown user or role.
    ///
    /// `actor` must have the `admin` role ([`AuthError::Forbidden`]) and cannot remove
    /// their own `admin` role ([`AuthError::OwnAccount`]).
    pub async fn revoke_role(
        &self,
        actor: &Principal,
        user_id: Uuid,
        role: &str,
    ) -> Result<(), AuthError> {
        actor.require_role(RoleName::ADMIN)?;
        if role == RoleName::ADMIN {
            Self::admin_acting_on_another(actor, user_id)?;
        }
        let role = RoleName::parse(role).map_err(|_| AuthError::NotFound("user or role"))?;
        let event = self.audit_event(
            AuditKind::RoleRevoked,
            actor,
            user_id,
            Some(role.to_string()),
        );
        self.store
            .revoke_role(user_id, &role, Some(event))
            .await
            .map_err(|e| not_found(e, "user or role"))
    }

    /// Makes sure an administrator account exists: creates `login` with the `admin`
    /// role and a verified email if absent, or grants `admin` to the existing account.
    pub async fn ensure_admin(&self, login: &str, password: &str) -> Result<User, AuthError> {
        let login = Login::parse_with(login, &self.config.login_policy)?;
        if let Some(user) = self.grant_admin_if_exists(&login).await? {
            return Ok(user);
        }
        let password = Password::parse(password, &self.config.password_policy)?;
        let password_hash = self.hasher.hash(&password).await?;
        let created = self
            .store
            .create_user(NewUser {
                id: Uuid::now_v7(),
                login: login.clone(),
                email: None,
                first_name: None,
                last_name: None,
                password_hash,
                email_verified: true,
                roles: vec![RoleName::admin()],
                created_at: self.clock.now(),
            })
            .await;
        match created {
            Ok(u) => Ok(u),
            // Another instance created it between our read and our insert.
            Err(StoreError::LoginTaken) => self
                .grant_admin_if_exists(&login)
                .await?
                .ok_or(AuthError::LoginTaken),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn grant_admin_if_exists(
        &self,
        login: &Login,
    ) -> Result<Option<User>, AuthError> {
        let Some(creds) = self.store.credentials_by_login(login).await? else {
            return Ok(None);
        };
        if !creds.user.roles.iter().any(|r| r == RoleName::ADMIN) {
            // The service's own doing (ADMIN_LOGIN at start), recorded as the system's.
            let event = self.system_event(
                AuditKind::RoleGranted,
                creds.user.id,
                Some(RoleName::ADMIN.to_owned()),
            );
            self.store
                .grant_role(creds.user.id, &RoleName::admin(), Some(event))
                .await?;
        }
        self.user(creds.user.id).await.map(Some)
    }

    /// An administrator's action that would lock their own account out (blocking or
    /// deleting it, removing its `admin` role) is refused; another administrator can.
    fn admin_acting_on_another(actor: &Principal, user_id: Uuid) -> Result<(), AuthError> {
        actor.require_role(RoleName::ADMIN)?;
        if actor.user_id == user_id {
            return Err(AuthError::OwnAccount);
        }
        Ok(())
    }
}
