//! The one error type of the HTTP layer and its JSON shape.

use auth_core::AuthError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use crate::codes::ErrorCode;

/// An error answered as `{"message", "code"}` with a status: the adapter's response,
/// for the cores' errors (converted by `?`) and the server's own codes
/// ([`ErrorCode::error`]).
pub type ApiError = auth_axum::ErrorResponse;

impl ErrorCode {
    /// An error with this code, its status and `message`.
    pub fn error(self, message: impl Into<String>) -> ApiError {
        ApiError::new(self.status(), self.as_str(), message)
    }
}

/// 413: the body is over the limit.
pub fn payload_too_large() -> ApiError {
    ErrorCode::PayloadTooLarge.error("the request body is too large")
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
    // The framework's status stands (a 408 keeps 408, say); the code names its kind.
    let fresh = ApiError::new(status, code, message).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::UNAUTHORIZED && !parts.headers.contains_key(header::WWW_AUTHENTICATE) {
        parts.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(auth_axum::CHALLENGE),
        );
    }
    let (_, body) = fresh.into_parts();
    Response::from_parts(parts, body)
}

/// The code and message of an error status the framework or hyper produced itself;
/// codes the cores declare are taken from them.
pub fn framework_error(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => (AuthError::NotFound("route").code(), "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed.as_str(),
            "this method is not allowed on this route",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge.as_str(),
            "the request body is too large",
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            ErrorCode::HeadersTooLarge.as_str(),
            "the request headers are too large",
        ),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
            AuthError::Unavailable("timeout".into()).code(),
            "the request took too long; try again shortly",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType.as_str(),
            "unsupported content type",
        ),
        s if s.is_server_error() => (
            AuthError::Internal("framework".into()).code(),
            "the server failed to handle this request",
        ),
        _ => (
            ErrorCode::BadRequest.as_str(),
            "the request is not valid HTTP or is otherwise unusable",
        ),
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use auth_core::ValidationError as AuthValidation;
    use exchange_core::{ExchangeError, ValidationError as ExchangeValidation};

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
            AuthError::InvalidPasskey,
            AuthError::PasskeyExists,
            AuthError::SessionRequired,
            AuthError::ApiKeyExists,
            AuthError::KeyRotationOff,
            AuthError::Throttled { retry_after: wait },
            AuthError::RateLimited { retry_after: wait },
            AuthError::TooManyAttempts { retry_after: wait },
            AuthError::InvalidRefreshToken,
            AuthError::RefreshTokenReused,
            AuthError::MissingCredentials,
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

    /// Each code is declared once: the server's table holds none of the cores' codes,
    /// and a code both cores declare has one status.
    #[test]
    fn every_code_is_declared_once_with_one_status() {
        let mut seen = std::collections::HashMap::new();
        for (code, status, _) in AuthError::CODES.iter().chain(ExchangeError::CODES) {
            let first = *seen.entry(*code).or_insert(*status);
            assert_eq!(first, *status, "{code}");
        }
        for code in ErrorCode::ALL {
            assert!(
                !seen.contains_key(code.as_str()),
                "{} is a core's code",
                code.as_str()
            );
        }
        assert_eq!(
            AuthError::CODES.len(),
            every_auth_error().len(),
            "the test lists every variant"
        );
        assert_eq!(ExchangeError::CODES.len(), every_exchange_error().len());
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
