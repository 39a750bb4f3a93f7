//! The one error type of the HTTP layer and its JSON shape.

use auth_core::AuthError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use exchange_core::ExchangeError;
use serde_json::json;

/// An error answered as `{"message", "code"}` with a status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
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
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
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

    /// 400 with a code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 401 for a token that was sent and rejected.
    pub fn invalid_token(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message).with_challenge(CHALLENGE_INVALID)
    }

    /// 500 that logs `source` and tells the client nothing about it.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed to handle this request",
        );
        e.source = Some(source.into());
        e
    }

    fn unavailable(source: Box<dyn std::error::Error + Send + Sync>) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "the service is temporarily unavailable, try again shortly",
        );
        e.source = Some(source);
        e
    }

    /// 413: the body is over the limit.
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        )
    }

    /// 429 with `Retry-After` (whole seconds, at least 1).
    pub fn too_many(
        code: &'static str,
        message: impl Into<String>,
        wait: std::time::Duration,
    ) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, code, message);
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

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = %self.status, code = self.code, error = ?self.source, "request failed");
        }
        let mut body = json!({ "message": self.message, "code": self.code });
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
        use StatusCode as S;
        match e {
            AuthError::Validation(v) => Self::bad_request("validation_failed", v.message),
            AuthError::LoginTaken => {
                Self::new(S::CONFLICT, "login_taken", "this login is already taken")
            }
            AuthError::EmailTaken => Self::new(
                S::CONFLICT,
                "email_taken",
                "this email address is already used",
            ),
            AuthError::RoleExists => Self::new(
                S::CONFLICT,
                "role_exists",
                "a role with this name already exists",
            ),
            AuthError::ProtectedRole => Self::new(
                S::CONFLICT,
                "protected_role",
                "the admin role cannot be deleted",
            ),
            AuthError::InvalidCredentials => Self::new(
                S::UNAUTHORIZED,
                "invalid_credentials",
                "invalid login or password",
            ),
            AuthError::Blocked => {
                Self::new(S::FORBIDDEN, "account_blocked", "this account is blocked")
            }
            AuthError::EmailNotVerified => Self::new(
                S::FORBIDDEN,
                "email_not_verified",
                "the email address must be verified first",
            ),
            AuthError::InvalidVerificationCode => Self::bad_request(
                "invalid_verification_code",
                "the verification code is wrong or expired",
            ),
            AuthError::Throttled { retry_after } => Self::too_many(
                "throttled",
                "too many failed attempts; try again later",
                retry_after,
            ),
            AuthError::RateLimited { retry_after } => Self::too_many(
                "rate_limited",
                "too many requests of this kind; try again later",
                retry_after,
            ),
            AuthError::TooManyAttempts { retry_after } => Self::too_many(
                "too_many_attempts",
                "too many wrong codes for this login; try again later",
                retry_after,
            ),
            AuthError::InvalidRefreshToken => Self::invalid_token(
                "invalid_refresh_token",
                "the refresh token is invalid or expired",
            ),
            AuthError::RefreshTokenReused => Self::invalid_token(
                "refresh_token_reused",
                "the refresh token was already used; sessions have been revoked",
            ),
            AuthError::InvalidToken => Self::invalid_token(
                "invalid_token",
                "the access token is invalid, expired or revoked",
            ),
            AuthError::WrongPassword => Self::new(
                S::FORBIDDEN,
                "wrong_password",
                "the current password is wrong",
            ),
            AuthError::Forbidden => Self::new(
                S::FORBIDDEN,
                "forbidden",
                "this action needs a role you do not have",
            ),
            AuthError::OwnAccount => Self::new(
                S::CONFLICT,
                "own_account",
                "administrators cannot block or delete their own account or remove their own admin role",
            ),
            AuthError::NotFound(what) => Self::not_found("not_found", format!("{what} not found")),
            AuthError::Unavailable(e) => Self::unavailable(e),
            AuthError::Internal(e) => Self::internal(e),
        }
    }
}

impl From<ExchangeError> for ApiError {
    fn from(e: ExchangeError) -> Self {
        use StatusCode as S;
        match e {
            ExchangeError::Validation(v) => Self::bad_request("validation_failed", v.message),
            ExchangeError::SameCurrency => {
                Self::bad_request("same_currency", "base and target currency must differ")
            }
            ExchangeError::CurrencyExists => Self::new(
                S::CONFLICT,
                "currency_exists",
                "a currency with this code already exists",
            ),
            ExchangeError::PairExists => Self::new(
                S::CONFLICT,
                "pair_exists",
                "an exchange rate for this pair already exists",
            ),
            ExchangeError::CurrencyInUse => Self::new(
                S::CONFLICT,
                "currency_in_use",
                "the currency is used by exchange rates",
            ),
            ExchangeError::CurrencyNotFound => {
                Self::not_found("currency_not_found", "currency not found")
            }
            ExchangeError::RateNotFound => {
                Self::not_found("rate_not_found", "exchange rate not found")
            }
            ExchangeError::NoRate => {
                Self::not_found("no_rate", "no exchange rate can be derived for this pair")
            }
            ExchangeError::Overflow => Self::bad_request(
                "amount_too_large",
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
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this method is not allowed on this route",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
            "service_unavailable",
            "the request took too long; try again shortly",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        s if s.is_server_error() => ("internal_error", "the server failed to handle this request"),
        _ => ("bad_request", "the request is invalid"),
    };
    let (mut parts, _) = resp.into_parts();
    let fresh = ApiError::new(status, code, message).into_response();
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
