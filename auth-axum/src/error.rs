//! [`ErrorResponse`]: the JSON error answer, `{"message", "code"}`, with its status and
//! headers, for the cores' errors and an application's own.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use auth_core::AuthError;

/// A boxed cause, logged and never sent.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `WWW-Authenticate` of a 401 when no token was sent.
pub const CHALLENGE: &str = "Bearer";
/// `WWW-Authenticate` of a 401 that refuses a token that was sent (RFC 6750).
pub const CHALLENGE_INVALID: &str = "Bearer error=\"invalid_token\"";

/// An error answered as `{"message": ..., "code": ...}` with its status; a 401 carries
/// `WWW-Authenticate`, a 429 `Retry-After`. A 5xx logs its cause (`tracing`, level
/// error) and tells the client nothing of it.
///
/// `From<AuthError>` (and, with the feature `exchange`, `From<ExchangeError>`) takes
/// the status, code and wait the core states, so a handler returning
/// `Result<_, ErrorResponse>` answers a core error with `?`.
#[derive(Debug)]
pub struct ErrorResponse {
    status: StatusCode,
    code: &'static str,
    message: String,
    extra: Option<Box<Map<String, Value>>>,
    challenge: Option<&'static str>,
    retry_after: Option<u64>,
    source: Option<BoxError>,
}

/// The message of every 5xx but 503: the cause is logged, not sent.
const INTERNAL: &str = "the server failed to handle this request";
/// The message of a 503.
const UNAVAILABLE: &str = "the service is temporarily unavailable, try again shortly";

impl ErrorResponse {
    /// An error with this status, code and message; a 401 gets the plain `Bearer`
    /// challenge.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: None,
            challenge: (status == StatusCode::UNAUTHORIZED).then_some(CHALLENGE),
            retry_after: None,
            source: None,
        }
    }

    /// 500 `internal_error`, logging `source`.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            INTERNAL,
        )
        .with_source(source)
    }

    /// 503 `service_unavailable`, logging `source`: the store cannot be reached now.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            UNAVAILABLE,
        )
        .with_source(source)
    }

    /// The answer to a core error: its status, code and wait; a 5xx keeps its cause
    /// for the log and sends a generic message.
    fn from_core(
        status: u16,
        code: &'static str,
        retry_after: Option<time::Duration>,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match status {
            StatusCode::SERVICE_UNAVAILABLE => UNAVAILABLE.to_owned(),
            s if s.is_server_error() => INTERNAL.to_owned(),
            _ => error.to_string(),
        };
        let answer = Self::new(status, code, message);
        let answer = match retry_after {
            Some(wait) => answer.with_retry_after(wait),
            None => answer,
        };
        if status.is_server_error() {
            answer.with_source(error)
        } else {
            answer
        }
    }

    /// Sets the `WWW-Authenticate` challenge.
    pub fn with_challenge(mut self, challenge: &'static str) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Sets `Retry-After`, in whole seconds rounded up, at least 1.
    pub fn with_retry_after(mut self, wait: time::Duration) -> Self {
        self.retry_after = Some(wait.as_seconds_f64().ceil().max(1.0) as u64);
        self
    }

    /// Keeps `source` for the log of a 5xx.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Adds a field to the body beside `message` and `code`.
    pub fn with_field(mut self, key: &str, value: Value) -> Self {
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

    /// The message sent.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ErrorResponse {
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

impl From<AuthError> for ErrorResponse {
    fn from(e: AuthError) -> Self {
        // A token that was sent and refused says so in its challenge.
        let token_refused = matches!(
            e,
            AuthError::InvalidToken
                | AuthError::InvalidRefreshToken
                | AuthError::RefreshTokenReused
        );
        let answer = Self::from_core(e.status(), e.code(), e.retry_after(), e);
        if token_refused {
            answer.with_challenge(CHALLENGE_INVALID)
        } else {
            answer
        }
    }
}

#[cfg(feature = "exchange")]
impl From<exchange_core::ExchangeError> for ErrorResponse {
    fn from(e: exchange_core::ExchangeError) -> Self {
        Self::from_core(e.status(), e.code(), None, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parts(e: ErrorResponse) -> (StatusCode, axum::http::HeaderMap, Value) {
        let resp = e.into_response();
        let (status, headers) = (resp.status(), resp.headers().clone());
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, headers, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn a_core_error_answers_with_its_status_code_and_wait() {
        let wait = time::Duration::milliseconds(1500);
        let (status, headers, body) =
            parts(AuthError::Throttled { retry_after: wait }.into()).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "2", "rounded up");
        assert_eq!(body["code"], "throttled");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));

        let (status, headers, _) = parts(AuthError::InvalidRefreshToken.into()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], CHALLENGE_INVALID);
        let (_, headers, _) = parts(AuthError::InvalidCredentials.into()).await;
        assert_eq!(headers[header::WWW_AUTHENTICATE], CHALLENGE);
        let (status, headers, _) = parts(AuthError::Forbidden.into()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(!headers.contains_key(header::WWW_AUTHENTICATE));
    }

    #[tokio::test]
    async fn a_server_error_sends_nothing_of_its_cause() {
        let (status, _, body) =
            parts(AuthError::Unavailable("db at 10.1.2.3 refused".into()).into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "service_unavailable");
        let (status, _, body) = parts(AuthError::Internal("secret detail".into()).into()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let text = body.to_string();
        assert!(
            !text.contains("secret") && !text.contains("10.1.2.3"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn extra_fields_join_the_body() {
        let e = ErrorResponse::new(
            StatusCode::NOT_FOUND,
            "keys_not_found",
            "some keys are missing",
        )
        .with_field("missing", json!(["a"]));
        let (_, _, body) = parts(e).await;
        assert_eq!(
            body,
            json!({"message": "some keys are missing", "code": "keys_not_found", "missing": ["a"]})
        );
    }
}
