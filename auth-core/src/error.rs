//! Errors of the auth service and of its stores.

use std::error::Error as StdError;

use crate::domain::ValidationError;

/// A boxed error from a storage backend, kept for logs and never shown to clients.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Errors an [`AuthStore`](crate::AuthStore) returns; backend-neutral.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another user already has this login (compared case-insensitively).
    #[error("login already taken")]
    LoginTaken,
    /// Another user already has this email address.
    #[error("email already taken")]
    EmailTaken,
    /// A role with this name already exists.
    #[error("role already exists")]
    RoleExists,
    /// The user, session or role the call names does not exist.
    #[error("not found")]
    NotFound,
    /// The backend cannot be reached right now (connection refused, pool timeout).
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other backend failure.
    #[error("store failure")]
    Backend(#[source] BoxError),
}

/// Errors of [`AuthService`](crate::AuthService) calls.
///
/// Each variant is a distinct outcome a caller maps to a response; the server maps
/// them to HTTP statuses in one place.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A field broke a validation rule; the message names the rule.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The login is already taken.
    #[error("login already taken")]
    LoginTaken,
    /// The email address is already used by another account.
    #[error("email already taken")]
    EmailTaken,
    /// The role already exists.
    #[error("role already exists")]
    RoleExists,
    /// The built-in `admin` role cannot be deleted.
    #[error("the admin role cannot be deleted")]
    ProtectedRole,
    /// Unknown login or wrong password; deliberately the same error for both.
    #[error("invalid login or password")]
    InvalidCredentials,
    /// The account is blocked.
    #[error("account is blocked")]
    Blocked,
    /// The account's email address must be verified before logging in.
    #[error("email address is not verified")]
    EmailNotVerified,
    /// The verification code is wrong, expired or was never issued.
    #[error("invalid or expired verification code")]
    InvalidVerificationCode,
    /// Too many failed attempts from this login or address; try again after
    /// `retry_after`. Nothing was checked.
    #[error("too many failed attempts; retry later")]
    Throttled {
        /// How long to wait.
        retry_after: std::time::Duration,
    },
    /// Too many requests of this kind from this address or account (registrations,
    /// refreshes, email changes, code resends); try again after `retry_after`.
    #[error("too many requests; retry later")]
    RateLimited {
        /// How long to wait.
        retry_after: std::time::Duration,
    },
    /// The login's budget of verification attempts is used up (a new code does not
    /// restore it); try again after `retry_after`. Nothing was checked.
    #[error("too many verification attempts")]
    TooManyAttempts {
        /// How long to wait.
        retry_after: std::time::Duration,
    },
    /// The refresh token is malformed, forged, expired, revoked or unknown.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// A refresh token was used again after rotation; its session(s) are now revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// The access token is malformed, forged, expired or its session is no longer alive.
    #[error("invalid access token")]
    InvalidToken,
    /// The current password given for a password change is wrong.
    #[error("current password is wrong")]
    WrongPassword,
    /// The caller lacks a required role.
    #[error("forbidden")]
    Forbidden,
    /// An administrator tried to block or delete their own account, or to remove
    /// their own `admin` role; another administrator can.
    #[error("administrators cannot lock their own account out")]
    OwnAccount,
    /// The named user, session or role does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The store cannot be reached right now.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// An internal failure (store or hashing); details are for logs only.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::LoginTaken => AuthError::LoginTaken,
            StoreError::EmailTaken => AuthError::EmailTaken,
            StoreError::RoleExists => AuthError::RoleExists,
            StoreError::NotFound => AuthError::NotFound("resource"),
            StoreError::Unavailable(e) => AuthError::Unavailable(e),
            StoreError::Backend(e) => AuthError::Internal(e),
        }
    }
}
