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
    /// The wire code: an [`ErrorCode`] of the server's, or a core error's own code.
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
    /// An error with this code (and the code's status) and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = code.status();
        let challenge = (status == StatusCode::UNAUTHORIZED).then_some(CHALLENGE);
        Self {
            status,
            code: code.as_str(),
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

impl ApiError {
    /// The answer to a core error: its status, code and wait as the core states them.
    /// 5xx tell the client nothing of the cause (it is logged).
    fn from_core(
        status: u16,
        code: &'static str,
        retry_after: Option<time::Duration>,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (message, source) = match status {
            StatusCode::SERVICE_UNAVAILABLE => (
                "the service is temporarily unavailable, try again shortly".to_owned(),
                Some(error.into()),
            ),
            s if s.is_server_error() => (
                "the server failed to handle this request".to_owned(),
                Some(error.into()),
            ),
            _ => (error.to_string(), None),
        };
        Self {
            status,
            code,
            message,
            extra: None,
            challenge: (status == StatusCode::UNAUTHORIZED).then_some(CHALLENGE),
            retry_after: retry_after.map(retry_secs),
            source,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        // A token that was sent and refused says so in its challenge.
        let token_refused = matches!(
            e,
            AuthError::InvalidToken
                | AuthError::InvalidRefreshToken
                | AuthError::RefreshTokenReused
        );
        let api = Self::from_core(e.status(), e.code(), e.retry_after(), e);
        if token_refused {
            api.with_challenge(CHALLENGE_INVALID)
        } else {
            api
        }
    }
}

impl From<ExchangeError> for ApiError {
    fn from(e: ExchangeError) -> Self {
        Self::from_core(e.status(), e.code(), None, e)
    }
}

/// `Retry-After` in whole seconds, at least 1.
fn retry_secs(wait: time::Duration) -> u64 {
    wait.as_seconds_f64().ceil().max(1.0) as u64
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

#[cfg(test)]
mod tests {
    use time::Duration;

    use auth_core::ValidationError as AuthValidation;
    use exchange_core::ValidationError as ExchangeValidation;

    use super::*;

    fn every_auth_error() -> Vec<AuthError> {
        let wait = Duration::seconds(3);
        vec![
            AuthError::Validation(AuthValidation::new("login", "bad")),
            AuthError::LoginTaken,
            AuthError::EmailTaken,
            AuthError::RoleExists,
            AuthError::ProtectedRole,
            AuthError::InvalidCredentials,
            AuthError::Blocked,
            AuthError::EmailNotVerified,
            AuthError::InvalidVerificationCode,
            AuthError::InvalidResetToken,
            AuthError::MfaRequired(auth_core::MfaChallenge {
                mfa_token: "t".into(),
                expires_in: 300,
            }),
            AuthError::InvalidMfaCode,
            AuthError::ReauthenticationRequired,
            AuthError::InvalidMfaToken,
            AuthError::MfaActive,
            AuthError::Throttled { retry_after: wait },
            AuthError::RateLimited { retry_after: wait },
            AuthError::TooManyAttempts { retry_after: wait },
            AuthError::InvalidRefreshToken,
            AuthError::RefreshTokenReused,
            AuthError::InvalidToken,
            AuthError::WrongPassword,
            AuthError::Forbidden,
            AuthError::OwnAccount,
            AuthError::NotFound("user"),
            AuthError::Unavailable("down".into()),
            AuthError::Internal("broken".into()),
        ]
    }

    fn every_exchange_error() -> Vec<ExchangeError> {
        vec![
            ExchangeError::Validation(ExchangeValidation {
                field: "rate",
                message: "bad".into(),
            }),
            ExchangeError::SameCurrency,
            ExchangeError::CurrencyExists,
            ExchangeError::PairExists,
            ExchangeError::CurrencyInUse,
            ExchangeError::CurrencyNotFound,
            ExchangeError::RateNotFound,
            ExchangeError::NoRate,
            ExchangeError::Overflow,
            ExchangeError::StaleRate,
            ExchangeError::Feed(exchange_core::source::SourceError::Malformed(
                "no rates".into(),
            )),
            ExchangeError::Unavailable("down".into()),
            ExchangeError::Internal("broken".into()),
        ]
    }

    /// The cores decide each error's code and status; the server's table lists every
    /// wire code. They must agree.
    #[test]
    fn every_core_error_code_is_in_the_table_with_its_status() {
        let codes: Vec<(&str, u16)> = every_auth_error()
            .iter()
            .map(|e| (e.code(), e.status()))
            .chain(
                every_exchange_error()
                    .iter()
                    .map(|e| (e.code(), e.status())),
            )
            .collect();
        for (code, status) in codes {
            let row = ErrorCode::ALL
                .iter()
                .find(|c| c.as_str() == code)
                .unwrap_or_else(|| panic!("{code} is not in the ErrorCode table"));
            assert_eq!(row.status().as_u16(), status, "{code}");
        }
    }

    #[tokio::test]
    async fn core_errors_answer_with_their_status_code_and_wait_and_hide_causes() {
        for e in every_auth_error() {
            let (status, code, wait) = (e.status(), e.code(), e.retry_after());
            let resp = ApiError::from(e).into_response();
            assert_eq!(resp.status().as_u16(), status, "{code}");
            assert_eq!(
                resp.headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.to_str().unwrap().to_owned()),
                wait.map(|w| w.whole_seconds().to_string()),
                "{code}"
            );
            let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["code"], code);
            let text = String::from_utf8_lossy(&body);
            assert!(!text.contains("broken") && !text.contains("down"), "{text}");
        }
    }
}
