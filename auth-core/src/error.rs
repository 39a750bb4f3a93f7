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

/// The answer to a login that needs a second factor: a short-lived token, bound to
/// that login, to send back with a code to [`AuthService::verify_mfa`](crate::AuthService::verify_mfa).
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MfaChallenge {
    /// The challenge token.
    pub mfa_token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("mfa_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
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
    /// A passkey ceremony failed: an unknown, used or expired ceremony, an unknown or
    /// deleted passkey, or an answer that does not verify (wrong origin, RP id or
    /// challenge, no user verification, a signature counter that did not go up).
    #[error("passkey refused")]
    InvalidPasskey,
    /// The authenticator's credential is registered already.
    #[error("passkey already registered")]
    PasskeyExists,
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
    MfaRequired(MfaChallenge),
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
    /// The caller used an API key for what only a signed-in session may do (log out,
    /// re-authenticate, change the password, a factor or the keys themselves).
    #[error("this needs a signed-in session, not an API key")]
    SessionRequired,
    /// An API key with this name exists for this user already.
    #[error("an API key with this name exists")]
    ApiKeyExists,
    /// A second factor is already active; disable it before enrolling again.
    #[error("a second factor is already active")]
    MfaActive,
    /// Signing keys are not kept in the store ([`AuthConfig::key_rotation`](crate::AuthConfig::key_rotation) is off),
    /// so they cannot be rotated or revoked through the service.
    #[error("signing keys do not rotate in this deployment")]
    KeyRotationOff,
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

/// Declares `CODES` and `code`, `status` and `meaning` of an error enum from one row
/// per variant: `Variant(pattern) => ("code", status, "meaning")`. The match is
/// exhaustive: a variant without a row does not compile.
macro_rules! error_table {
    ($error:ident; $($variant:ident $(($($tuple:tt)*))? $({$($fields:tt)*})? => ($code:literal, $status:literal, $meaning:literal),)*) => {
        impl $error {
            /// Every variant's `(code, HTTP status, meaning)`, in declaration order; the
            /// one table an application's documentation or error map can be built from.
            pub const CODES: &'static [(&'static str, u16, &'static str)] =
                &[$(($code, $status, $meaning),)*];

            fn row(&self) -> (&'static str, u16, &'static str) {
                match self {
                    $($error::$variant $(($($tuple)*))? $({$($fields)*})? => ($code, $status, $meaning),)*
                }
            }

            /// A stable snake_case code naming the outcome, for clients to branch on.
            pub fn code(&self) -> &'static str {
                self.row().0
            }

            /// The HTTP status to answer with (a number, so no HTTP crate is needed).
            pub fn status(&self) -> u16 {
                self.row().1
            }

            /// What the code means, in a sentence for documentation.
            pub fn meaning(&self) -> &'static str {
                self.row().2
            }
        }
    };
}

// 400 bad input, 401 bad credentials or token, 403 not allowed, 404, 409 conflict,
// 429 wait (`retry_after`), 503 store unreachable, 500 otherwise.
error_table! { AuthError;
    Validation(_) => ("validation_failed", 400, "A field broke a rule; the message names it."),
    LoginTaken => ("login_taken", 409, "The login is taken (ignoring case)."),
    EmailTaken => ("email_taken", 409, "The email address is used by another account."),
    RoleExists => ("role_exists", 409, "A role with this name exists."),
    ProtectedRole => ("protected_role", 409, "The admin role cannot be deleted."),
    InvalidCredentials => ("invalid_credentials", 401, "Unknown login or wrong password (deliberately alike)."),
    Blocked => ("account_blocked", 403, "The account is blocked."),
    EmailNotVerified => ("email_not_verified", 403, "The account must verify its email first."),
    InvalidVerificationCode => ("invalid_verification_code", 400, "The verification code is wrong or expired."),
    InvalidResetToken => ("invalid_reset_token", 400, "The password reset token is wrong, used or expired."),
    Throttled { .. } => ("throttled", 429, "Too many failed attempts for this login or address; see Retry-After."),
    RateLimited { .. } => ("rate_limited", 429, "Too many requests of this kind; see Retry-After."),
    TooManyAttempts { .. } => ("too_many_attempts", 429, "The verification attempts are used up; see Retry-After."),
    InvalidRefreshToken => ("invalid_refresh_token", 401, "The refresh token is invalid, expired or revoked."),
    RefreshTokenReused => ("refresh_token_reused", 401, "An old refresh token was used again; its sessions are revoked."),
    MissingCredentials => ("missing_token", 401, "The route needs an access token and none was sent."),
    InvalidToken => ("invalid_token", 401, "The access token is invalid, expired or revoked."),
    WrongPassword => ("wrong_password", 403, "The current password given for a change is wrong."),
    Forbidden => ("forbidden", 403, "The caller lacks the role the route needs."),
    OwnAccount => ("own_account", 409, "An administrator acted on their own account or admin role."),
    MfaRequired(_) => ("mfa_required", 401, "A second factor is needed to complete the login."),
    InvalidMfaCode => ("invalid_mfa_code", 401, "The TOTP or recovery code is wrong or already used."),
    InvalidMfaToken => ("invalid_mfa_token", 401, "The MFA challenge token is malformed, forged or expired."),
    ReauthenticationRequired => ("reauthentication_required", 403, "The change needs a recent re-authentication of this session."),
    MfaActive => ("mfa_active", 409, "A second factor is already active."),
    SessionRequired => ("session_required", 403, "Only a signed-in session may do this, not an API key."),
    ApiKeyExists => ("api_key_exists", 409, "The user has an API key with this name already."),
    InvalidPasskey => ("invalid_passkey", 401, "The passkey was refused: unknown, deleted, or an answer that does not verify, or a used or expired ceremony."),
    PasskeyExists => ("passkey_exists", 409, "This authenticator's passkey is registered already."),
    KeyRotationOff => ("key_rotation_off", 409, "Signing keys are not kept in the store here; replace the key files instead."),
    NotFound(_) => ("not_found", 404, "No such user, session, role or route."),
    Unavailable(_) => ("service_unavailable", 503, "The store is unreachable or the request took too long."),
    Internal(_) => ("internal_error", 500, "The server failed; details are logged, never sent."),
}

impl AuthError {
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
