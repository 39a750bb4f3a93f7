//! The codes of the HTTP layer's own errors (bodies, queries, paths, the key-value
//! routes, readiness), with their statuses. The cores declare theirs
//! (`AuthError::CODES`, `ExchangeError::CODES`); the OpenAPI document lists all three.

use axum::http::StatusCode;

/// Declares [`ErrorCode`] from rows of `Variant = ("wire_code", STATUS)`.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = ($code:literal, $status:ident),)*) => {
        /// The `code` of an error response; each has one status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
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

            /// What the code means (its documentation).
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => concat!($($doc),*).trim_ascii(),)*
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
    /// A required form or JSON field is absent or blank.
    MissingField = ("missing_field", BAD_REQUEST),
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
    /// Some keys of a key-value read do not exist (listed in `missing`).
    KeysNotFound = ("keys_not_found", NOT_FOUND),
    /// The route does not take this method.
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED),
    /// The body is over the limit.
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE),
    /// The content type is not accepted.
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE),
    /// The request headers are over the limit.
    HeadersTooLarge = ("headers_too_large", REQUEST_HEADER_FIELDS_TOO_LARGE),
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
