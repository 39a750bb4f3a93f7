//! Errors of the auth service and of its stores.

use std::error::Error as StdError;

use crate::domain::ValidationError;

/// A boxed error from a storage backend, kept for logs and never shown to clients.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Errors an [`AuthStore`](crate::AuthStore) returns; backend-neutral.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
/// Each variant is a distinct outcome a caller maps to a response:
/// [`AuthError::status`], [`AuthError::code`] and [`AuthError::retry_after`] say what
/// to answer, so an application needs no table of its own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// The password reset token is wrong, used or expired.
    #[error("invalid or expired password reset token")]
    InvalidResetToken,
    /// Too many failed attempts from this login or address; try again after
    /// `retry_after`. Nothing was checked.
    #[error("too many failed attempts; retry later")]
    Throttled {
        /// How long to wait.
        retry_after: time::Duration,
    },
    /// Too many requests of this kind from this address or account (registrations,
    /// refreshes, email changes, code resends); try again after `retry_after`.
    #[error("too many requests; retry later")]
    RateLimited {
        /// How long to wait.
        retry_after: time::Duration,
    },
    /// The login's budget of verification attempts is used up (a new code does not
    /// restore it); try again after `retry_after`. Nothing was checked.
    #[error("too many verification attempts")]
    TooManyAttempts {
        /// How long to wait.
        retry_after: time::Duration,
    },
    /// The refresh token is malformed, forged, expired, revoked or unknown.
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// A refresh token was used again after rotation; its session(s) are now revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// No access token was sent where one is needed: answer 401 with a plain
    /// `WWW-Authenticate: Bearer` challenge (unlike [`AuthError::InvalidToken`], which
    /// refuses a token that was sent).
    #[error("this needs an access token: Authorization: Bearer <token>")]
    MissingCredentials,
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
    /// The password was right and the account has a second factor: not a failure,
    /// but no tokens yet. Answer with the challenge;
    /// [`AuthService::verify_mfa`](crate::AuthService::verify_mfa) completes the login. An application unaware of
    /// second factors answers 401 `mfa_required`, which issues nothing.
    #[error("a second factor is required")]
    MfaRequired(crate::service::MfaChallenge),
    /// The second-factor code (TOTP or recovery code) is wrong or already used.
    #[error("invalid second-factor code")]
    InvalidMfaCode,
    /// The MFA challenge token is malformed, forged or expired.
    #[error("invalid or expired MFA token")]
    InvalidMfaToken,
    /// The change needs a recent re-authentication of this session
    /// ([`AuthService::reauthenticate`](crate::AuthService::reauthenticate)) with the
    /// password or the second factor; ask the user for it and try again.
    #[error("this change needs a recent re-authentication")]
    ReauthenticationRequired,
    /// A second factor is already active; disable it before enrolling again.
    #[error("a second factor is already active")]
    MfaActive,
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

impl AuthError {
    /// The HTTP status to answer with (a number, so no HTTP crate is needed): 400 bad
    /// input, 401 bad credentials or token, 403 not allowed, 404, 409 conflict, 429
    /// wait ([`AuthError::retry_after`]), 503 store unreachable, 500 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Validation(_)
            | AuthError::InvalidVerificationCode
            | AuthError::InvalidResetToken => 400,
            AuthError::InvalidCredentials
            | AuthError::InvalidRefreshToken
            | AuthError::RefreshTokenReused
            | AuthError::MissingCredentials
            | AuthError::InvalidToken
            | AuthError::MfaRequired(_)
            | AuthError::InvalidMfaCode
            | AuthError::InvalidMfaToken => 401,
            AuthError::Blocked
            | AuthError::EmailNotVerified
            | AuthError::WrongPassword
            | AuthError::ReauthenticationRequired
            | AuthError::Forbidden => 403,
            AuthError::NotFound(_) => 404,
            AuthError::LoginTaken
            | AuthError::EmailTaken
            | AuthError::RoleExists
            | AuthError::ProtectedRole
            | AuthError::OwnAccount
            | AuthError::MfaActive => 409,
            AuthError::Throttled { .. }
            | AuthError::RateLimited { .. }
            | AuthError::TooManyAttempts { .. } => 429,
            AuthError::Unavailable(_) => 503,
            AuthError::Internal(_) => 500,
        }
    }

    /// A stable snake_case code naming the outcome, for clients to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Validation(_) => "validation_failed",
            AuthError::LoginTaken => "login_taken",
            AuthError::EmailTaken => "email_taken",
            AuthError::RoleExists => "role_exists",
            AuthError::ProtectedRole => "protected_role",
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::Blocked => "account_blocked",
            AuthError::EmailNotVerified => "email_not_verified",
            AuthError::InvalidVerificationCode => "invalid_verification_code",
            AuthError::InvalidResetToken => "invalid_reset_token",
            AuthError::Throttled { .. } => "throttled",
            AuthError::RateLimited { .. } => "rate_limited",
            AuthError::TooManyAttempts { .. } => "too_many_attempts",
            AuthError::InvalidRefreshToken => "invalid_refresh_token",
            AuthError::RefreshTokenReused => "refresh_token_reused",
            AuthError::MissingCredentials => "missing_token",
            AuthError::InvalidToken => "invalid_token",
            AuthError::WrongPassword => "wrong_password",
            AuthError::Forbidden => "forbidden",
            AuthError::OwnAccount => "own_account",
            AuthError::MfaRequired(_) => "mfa_required",
            AuthError::InvalidMfaCode => "invalid_mfa_code",
            AuthError::InvalidMfaToken => "invalid_mfa_token",
            AuthError::MfaActive => "mfa_active",
            AuthError::ReauthenticationRequired => "reauthentication_required",
            AuthError::NotFound(_) => "not_found",
            AuthError::Unavailable(_) => "service_unavailable",
            AuthError::Internal(_) => "internal_error",
        }
    }

    /// How long the caller should wait before trying again, for the 429s.
    pub fn retry_after(&self) -> Option<time::Duration> {
        match self {
            AuthError::Throttled { retry_after }
            | AuthError::RateLimited { retry_after }
            | AuthError::TooManyAttempts { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
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
