//! Accounts: creation, lookup, profile, password hash, status and deletion.

use time::OffsetDateTime;
use uuid::Uuid;

use super::AuditEvent;
use crate::domain::{Email, Login, PersonName, RoleName};
use crate::error::StoreError;

/// Whether an account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum UserStatus {
    /// The account may sign in.
    Active,
    /// The account is blocked: no login, no refresh, no authentication.
    Blocked,
}

impl UserStatus {
    /// The lowercase name used in storage and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Blocked => "blocked",
        }
    }
}

/// A stored account. The password hash is deliberately not part of it: see
/// [`AccountStore::credentials_by_login`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct User {
    /// Stable id.
    pub id: Uuid,
    /// Login as registered.
    pub login: String,
    /// Lowercased email, if any.
    pub email: Option<String>,
    /// First name, if given.
    pub first_name: Option<String>,
    /// Last name, if given.
    pub last_name: Option<String>,
    /// Role names, sorted.
    pub roles: Vec<RoleName>,
    /// Active or blocked.
    pub status: UserStatus,
    /// Whether the email address has been verified.
    pub email_verified: bool,
    /// When the account was created.
    #[cfg_attr(feature = "serde", serde(with = "time::serde::rfc3339"))]
    pub created_at: OffsetDateTime,
}

/// A user to insert.
#[derive(Clone)]
pub struct NewUser {
    /// Id chosen by the caller.
    pub id: Uuid,
    /// Validated login.
    pub login: Login,
    /// Validated email.
    pub email: Option<Email>,
    /// Validated first name.
    pub first_name: Option<PersonName>,
    /// Validated last name.
    pub last_name: Option<PersonName>,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// Whether the email counts as verified from the start.
    pub email_verified: bool,
    /// Roles granted at creation; each must exist.
    pub roles: Vec<RoleName>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// A partial update of a user's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// New email; setting it also sets `email_verified` to the value given there.
    pub email: Option<Email>,
    /// New first name.
    pub first_name: Option<PersonName>,
    /// New last name.
    pub last_name: Option<PersonName>,
    /// New verification flag.
    pub email_verified: Option<bool>,
}

/// The data needed to check a password at login.
#[derive(Clone)]
pub struct Credentials {
    /// The account.
    pub user: User,
    /// PHC string of the password hash.
    pub password_hash: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

capability! {
    /// Storage of accounts.
    ///
    /// Logins and emails are compared case-insensitively. "Not found" is
    /// [`StoreError::NotFound`] unless a method returns an `Option`.
    ///
    /// One-time things are bound to the account's state: any change of a user's
    /// password hash, email or status deletes the user's password reset token and
    /// pending MFA challenges in the same transaction (as does any change of the
    /// user's second factor, see [`MfaStore`](super::MfaStore)).
    pub trait AccountStore {
        /// Inserts a user with its roles, atomically.
        ///
        /// Errors: [`StoreError::LoginTaken`] or [`StoreError::EmailTaken`] if another user
        /// has the same login or email (ignoring case); [`StoreError::NotFound`] if a role
        /// does not exist.
        async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;

        /// The user with this id, or `None`.
        async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError>;

        /// The user with this login (ignoring case) and its password hash, or `None`.
        async fn credentials_by_login(&self, login: &Login) -> Result<Option<Credentials>, StoreError>;

        /// The password hash of a user, or `None` if the user does not exist.
        async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>, StoreError>;

        /// Applies a profile update and returns the updated user; `audit`, when given,
        /// is recorded in the same transaction, unless it fails.
        ///
        /// Errors: [`StoreError::NotFound`]; [`StoreError::EmailTaken`].
        async fn update_user(
            &self,
            id: Uuid,
            update: UserUpdate,
            audit: Option<AuditEvent>
        ) -> Result<User, StoreError>;

        /// Replaces the password hash and, when `revoke_except` is given, revokes every
        /// other session of the user, atomically. Returns the number of sessions revoked.
        ///
        /// Errors: [`StoreError::NotFound`].
        /// `audit`, when given, is written in the same transaction, only if the change is made.
        async fn set_password_hash(&self, user_id: Uuid, password_hash: &str, revoke_except: Option<Uuid>, audit: Option<AuditEvent>) -> Result<u64, StoreError>;

        /// Deletes a user and, with it, its sessions, roles, keys and codes (not its
        /// audit events). `audit`, when given, is recorded with the deletion, in its
        /// transaction: only if the user existed.
        ///
        /// Errors: [`StoreError::NotFound`].
        async fn delete_user(&self, id: Uuid, audit: Option<AuditEvent>) -> Result<(), StoreError>;

        /// Users whose login, email, first or last name contains `query` (ignoring case),
        /// or all users when `query` is `None`; ordered by creation time then id.
        async fn list_users(&self, query: Option<String>, limit: u32, offset: u64) -> Result<Vec<User>, StoreError>;

        /// Sets the user's status; blocking also revokes every session of the user in the
        /// same transaction. Returns the number of sessions revoked. `audit`, when given,
        /// is recorded in that transaction too: only if the user exists.
        ///
        /// Errors: [`StoreError::NotFound`].
        async fn set_user_status(&self, id: Uuid, status: UserStatus, audit: Option<AuditEvent>) -> Result<u64, StoreError>;
    }
    mock accounts: MockAccountStore;
}
