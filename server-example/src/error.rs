//! The one error type of the HTTP layer and its JSON shape.

use auth_core::AuthError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use exchange_core::ExchangeError;
use serde_json::json;

pub use crate::codes::ErrorCode;

/// An error answered as `{"message", "code"}` with a status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    /// Extra fields merged into the body (e.g. `missing` for kv reads).
    extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    /// `WWW-Authenticate` value for 401s.
    challenge: Option<&'static str>,
    /// `Retry-After` in seconds, for 429s.
    retry_after: Option<u64>,
    /// Logged for 5xx, never sent.
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// `WWW-Authenticate` when no token was sent.
pub const CHALLENGE: &str = "Bearer";
/// `WWW-Authenticate` when a token was sent and rejected.
pub const CHALLENGE_INVALID: &str = "Bearer error=\"invalid_token\"";

impl ApiError {
    /// An error with this code (and the code's status) and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = code.status();
        let challenge = (status == StatusCode::UNAUTHORIZED).then_some(CHALLENGE);
        Self {
            status,
            code,
            message: message.into(),
            extra: None,
            challenge,
            retry_after: None,
            source: None,
        }
    }

    /// 401 for a token that was sent and rejected.
    pub fn invalid_token(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(code, message).with_challenge(CHALLENGE_INVALID)
    }

    /// 500 that logs `source` and tells the client nothing about it.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let mut e = Self::new(
            ErrorCode::InternalError,
            "the server failed to handle this request",
        );
        e.source = Some(source.into());
        e
    }

    /// 503 that logs `source`: the store cannot be reached right now.
    pub fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let mut e = Self::new(
            ErrorCode::ServiceUnavailable,
            "the service is temporarily unavailable, try again shortly",
        );
        e.source = Some(source.into());
        e
    }

    /// 413: the body is over the limit.
    pub fn payload_too_large() -> Self {
        Self::new(ErrorCode::PayloadTooLarge, "the request body is too large")
    }

    /// 429 with `Retry-After` (whole seconds, at least 1).
    pub fn too_many(
        code: ErrorCode,
        message: impl Into<String>,
        wait: std::time::Duration,
    ) -> Self {
        let mut e = Self::new(code, message);
        e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        e
    }

    /// Sets the `WWW-Authenticate` challenge.
    pub fn with_challenge(mut self, challenge: &'static str) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Adds a field to the body.
    pub fn with_field(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, code = self.code.as_str(), error = ?self.source, "request failed");
        }
        let mut body = json!({ "message": self.message, "code": self.code.as_str() });
        if let (Some(extra), Some(obj)) = (self.extra, body.as_object_mut()) {
            obj.extend(*extra);
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(ch) = self.challenge {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(ch));
        }
        resp
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Validation(v) => Self::new(ErrorCode::ValidationFailed, v.message),
            AuthError::LoginTaken => {
                Self::new(ErrorCode::LoginTaken, "this login is already taken")
            }
            AuthError::EmailTaken => {
                Self::new(ErrorCode::EmailTaken, "this email address is already used")
            }
            AuthError::RoleExists => Self::new(
                ErrorCode::RoleExists,
                "a role with this name already exists",
            ),
            AuthError::ProtectedRole => {
                Self::new(ErrorCode::ProtectedRole, "the admin role cannot be deleted")
            }
            AuthError::InvalidCredentials => {
                Self::new(ErrorCode::InvalidCredentials, "invalid login or password")
            }
            AuthError::Blocked => Self::new(ErrorCode::AccountBlocked, "this account is blocked"),
            AuthError::EmailNotVerified => Self::new(
                ErrorCode::EmailNotVerified,
                "the email address must be verified first",
            ),
            AuthError::InvalidVerificationCode => Self::new(
                ErrorCode::InvalidVerificationCode,
                "the verification code is wrong or expired",
            ),
            AuthError::Throttled { retry_after } => Self::too_many(
                ErrorCode::Throttled,
                "too many failed attempts; try again later",
                retry_after,
            ),
            AuthError::RateLimited { retry_after } => Self::too_many(
                ErrorCode::RateLimited,
                "too many requests of this kind; try again later",
                retry_after,
            ),
            AuthError::TooManyAttempts { retry_after } => Self::too_many(
                ErrorCode::TooManyAttempts,
                "too many wrong codes for this login; try again later",
                retry_after,
            ),
            AuthError::InvalidRefreshToken => Self::invalid_token(
                ErrorCode::InvalidRefreshToken,
                "the refresh token is invalid or expired",
            ),
            AuthError::RefreshTokenReused => Self::invalid_token(
                ErrorCode::RefreshTokenReused,
                "the refresh token was already used; sessions have been revoked",
            ),
            AuthError::InvalidToken => Self::invalid_token(
                ErrorCode::InvalidToken,
                "the access token is invalid, expired or revoked",
            ),
            AuthError::WrongPassword => {
                Self::new(ErrorCode::WrongPassword, "the current password is wrong")
            }
            AuthError::Forbidden => Self::new(
                ErrorCode::Forbidden,
                "this action needs a role you do not have",
            ),
            AuthError::OwnAccount => Self::new(
                ErrorCode::OwnAccount,
                "administrators cannot block or delete their own account or remove their own admin role",
            ),
            AuthError::NotFound(what) => {
                Self::new(ErrorCode::NotFound, format!("{what} not found"))
            }
            AuthError::Unavailable(e) => Self::unavailable(e),
            AuthError::Internal(e) => Self::internal(e),
        }
    }
}

impl From<ExchangeError> for ApiError {
    fn from(e: ExchangeError) -> Self {
        match e {
            ExchangeError::Validation(v) => Self::new(ErrorCode::ValidationFailed, v.message),
            ExchangeError::SameCurrency => Self::new(
                ErrorCode::SameCurrency,
                "base and target currency must differ",
            ),
            ExchangeError::CurrencyExists => Self::new(
                ErrorCode::CurrencyExists,
                "a currency with this code already exists",
            ),
            ExchangeError::PairExists => Self::new(
                ErrorCode::PairExists,
                "an exchange rate for this pair already exists",
            ),
            ExchangeError::CurrencyInUse => Self::new(
                ErrorCode::CurrencyInUse,
                "the currency is used by exchange rates",
            ),
            ExchangeError::CurrencyNotFound => {
                Self::new(ErrorCode::CurrencyNotFound, "currency not found")
            }
            ExchangeError::RateNotFound => {
                Self::new(ErrorCode::RateNotFound, "exchange rate not found")
            }
            ExchangeError::NoRate => Self::new(
                ErrorCode::NoRate,
                "no exchange rate can be derived for this pair",
            ),
            ExchangeError::Overflow => Self::new(
                ErrorCode::AmountTooLarge,
                "the amount is too large to convert at this rate",
            ),
            ExchangeError::Unavailable(e) => Self::unavailable(e),
            ExchangeError::Internal(e) => Self::internal(e),
        }
    }
}

/// Gives framework-made error responses (404 of unknown routes, 405, 413, timeouts)
/// the JSON shape of every other error, keeping their status and headers.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (code, message) = framework_error(status);
    let (mut parts, _) = resp.into_parts();
    let mut fresh = ApiError::new(code, message);
    // The framework's status stands (a 408 keeps 408, say); the code names its kind.
    fresh.status = status;
    let fresh = fresh.into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED && !parts.headers.contains_key(header::WWW_AUTHENTICATE) {
        parts.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(CHALLENGE),
        );
    }
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, body)
}

/// The code and message of an error status the framework or hyper produced itself.
pub fn framework_error(status: StatusCode) -> (ErrorCode, &'static str) {
    match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "this method is not allowed on this route",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            (ErrorCode::PayloadTooLarge, "the request body is too large")
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            ErrorCode::HeadersTooLarge,
            "the request headers are too large",
        ),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
            ErrorCode::ServiceUnavailable,
            "the request took too long; try again shortly",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            (ErrorCode::UnsupportedMediaType, "unsupported content type")
        }
        s if s.is_server_error() => (
            ErrorCode::InternalError,
            "the server failed to handle this request",
        ),
        _ => (
            ErrorCode::BadRequest,
            "the request is not valid HTTP or is otherwise unusable",
        ),
    }
}
