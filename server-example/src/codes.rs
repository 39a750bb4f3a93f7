//! Every `code` an error response can carry, with its status: the one table of the
//! wire's error codes.

use axum::http::StatusCode;

/// Declares [`ErrorCode`] from rows of `Variant = ("wire_code", STATUS)`.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = ($code:literal, $status:ident),)*) => {
        /// The `code` of an error response; each has one status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as sent, in snake case.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The status answered with this code.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    /// The body is not a JSON object or form of the expected shape.
    InvalidBody = ("invalid_body", BAD_REQUEST),
    /// A query parameter is missing, malformed or out of range.
    InvalidQuery = ("invalid_query", BAD_REQUEST),
    /// A path parameter is malformed (a user id that is not a UUID, say).
    InvalidPath = ("invalid_path", BAD_REQUEST),
    /// A field broke a rule; the message names it.
    ValidationFailed = ("validation_failed", BAD_REQUEST),
    /// A required form or JSON field is absent or blank.
    MissingField = ("missing_field", BAD_REQUEST),
    /// Base and target currency are the same.
    SameCurrency = ("same_currency", BAD_REQUEST),
    /// The converted amount would overflow.
    AmountTooLarge = ("amount_too_large", BAD_REQUEST),
    /// The verification code is wrong or expired (or the login unknown or verified).
    InvalidVerificationCode = ("invalid_verification_code", BAD_REQUEST),
    /// The password reset token is wrong, used or expired.
    InvalidResetToken = ("invalid_reset_token", BAD_REQUEST),
    /// A key-value request names no key.
    NoKeys = ("no_keys", BAD_REQUEST),
    /// A key-value request names more keys than allowed.
    TooManyKeys = ("too_many_keys", BAD_REQUEST),
    /// A key-value read names a key twice.
    RepeatedKey = ("repeated_key", BAD_REQUEST),
    /// A key is empty, too long or holds NUL.
    InvalidKey = ("invalid_key", BAD_REQUEST),
    /// A stored value holds NUL.
    InvalidValue = ("invalid_value", BAD_REQUEST),
    /// A stored value is over its size limit.
    ValueTooLarge = ("value_too_large", BAD_REQUEST),
    /// The request is not valid HTTP or is otherwise unusable.
    BadRequest = ("bad_request", BAD_REQUEST),
    /// The route needs an access token and none was sent.
    MissingToken = ("missing_token", UNAUTHORIZED),
    /// The access token is invalid, expired or revoked.
    InvalidToken = ("invalid_token", UNAUTHORIZED),
    /// Unknown login or wrong password (deliberately alike).
    InvalidCredentials = ("invalid_credentials", UNAUTHORIZED),
    /// The refresh token is invalid, expired or revoked.
    InvalidRefreshToken = ("invalid_refresh_token", UNAUTHORIZED),
    /// An old refresh token was used again; its sessions are revoked.
    RefreshTokenReused = ("refresh_token_reused", UNAUTHORIZED),
    /// A second factor is needed: answered by a core unaware of it (the login route
    /// answers the challenge instead).
    MfaRequired = ("mfa_required", UNAUTHORIZED),
    /// The TOTP or recovery code is wrong or already used.
    InvalidMfaCode = ("invalid_mfa_code", UNAUTHORIZED),
    /// The MFA challenge token is malformed, forged or expired.
    InvalidMfaToken = ("invalid_mfa_token", UNAUTHORIZED),
    /// The caller lacks the role the route needs.
    Forbidden = ("forbidden", FORBIDDEN),
    /// The account is blocked.
    AccountBlocked = ("account_blocked", FORBIDDEN),
    /// The account must verify its email first.
    EmailNotVerified = ("email_not_verified", FORBIDDEN),
    /// The current password given for a change is wrong.
    WrongPassword = ("wrong_password", FORBIDDEN),
    /// The change needs a recent `/auth/reauthenticate` of this session.
    ReauthenticationRequired = ("reauthentication_required", FORBIDDEN),
    /// No such route, user, session, role or file.
    NotFound = ("not_found", NOT_FOUND),
    /// No such currency.
    CurrencyNotFound = ("currency_not_found", NOT_FOUND),
    /// No exchange rate for this pair.
    RateNotFound = ("rate_not_found", NOT_FOUND),
    /// No rate can be derived for this conversion.
    NoRate = ("no_rate", NOT_FOUND),
    /// Some keys of a key-value read do not exist (listed in `missing`).
    KeysNotFound = ("keys_not_found", NOT_FOUND),
    /// The route does not take this method.
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED),
    /// The login is taken (ignoring case).
    LoginTaken = ("login_taken", CONFLICT),
    /// The email address is used by another account.
    EmailTaken = ("email_taken", CONFLICT),
    /// A role with this name exists.
    RoleExists = ("role_exists", CONFLICT),
    /// The admin role cannot be deleted.
    ProtectedRole = ("protected_role", CONFLICT),
    /// An administrator acted on their own account or admin role.
    OwnAccount = ("own_account", CONFLICT),
    /// A second factor is already active.
    MfaActive = ("mfa_active", CONFLICT),
    /// A currency with this code exists.
    CurrencyExists = ("currency_exists", CONFLICT),
    /// An exchange rate for this pair exists.
    PairExists = ("pair_exists", CONFLICT),
    /// Exchange rates still use the currency.
    CurrencyInUse = ("currency_in_use", CONFLICT),
    /// The body is over the limit.
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE),
    /// A rate the conversion needs is older than the maximum age.
    StaleRate = ("stale_rate", UNPROCESSABLE_ENTITY),
    /// The content type is not accepted.
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE),
    /// The request headers are over the limit.
    HeadersTooLarge = ("headers_too_large", REQUEST_HEADER_FIELDS_TOO_LARGE),
    /// Too many failed attempts for this login or address; see Retry-After.
    Throttled = ("throttled", TOO_MANY_REQUESTS),
    /// Too many requests of this kind; see Retry-After.
    RateLimited = ("rate_limited", TOO_MANY_REQUESTS),
    /// The login's verification attempts are used up; see Retry-After.
    TooManyAttempts = ("too_many_attempts", TOO_MANY_REQUESTS),
    /// A rate feed could not be fetched or was malformed; nothing of it was recorded.
    RateFeedFailed = ("rate_feed_failed", BAD_GATEWAY),
    /// The server failed; details are logged, never sent.
    InternalError = ("internal_error", INTERNAL_SERVER_ERROR),
    /// The store is unreachable or the request took too long.
    ServiceUnavailable = ("service_unavailable", SERVICE_UNAVAILABLE),
    /// The store does not answer (readiness).
    NotReady = ("not_ready", SERVICE_UNAVAILABLE),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_errors() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }
}
