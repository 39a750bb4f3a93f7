//! Extractors whose rejections answer in the API's JSON error shape.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::{ApiError, ErrorCode};

fn body_rejection(status: StatusCode, text: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => crate::error::payload_too_large(),
        // The contract answers every unusable body with 400, wrong content type included.
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ErrorCode::InvalidBody.error("expected a JSON body with Content-Type: application/json")
        }
        _ => ErrorCode::InvalidBody.error(text),
    }
}

/// JSON object body; anything else is 400 and oversized bodies 413, all in the JSON
/// shape. Arrays are refused even where serde would read one into a struct.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(body_rejection(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                String::new(),
            ));
        }
        json_object(&read_body(req, state).await?).map(Self)
    }
}

/// `application/json`, or any `application/*+json`, parameters ignored.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    // Compared as bytes, case-insensitively: no allocation on every JSON request.
    let essence = ct.split(';').next().unwrap_or_default().trim().as_bytes();
    let (prefix, suffix) = (b"application/", b"+json");
    essence.eq_ignore_ascii_case(b"application/json")
        || (essence.len() > prefix.len() + suffix.len()
            && essence[..prefix.len()].eq_ignore_ascii_case(prefix)
            && essence[essence.len() - suffix.len()..].eq_ignore_ascii_case(suffix))
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e| body_rejection(e.status(), e.body_text()))
}

/// Parses a body that must be a JSON object into `T`.
pub fn json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ErrorCode::InvalidBody.error("the body must be a JSON object"));
    }
    axum::Json::<T>::from_bytes(body)
        .map(|axum::Json(v)| v)
        .map_err(|e: JsonRejection| body_rejection(e.status(), e.body_text()))
}

/// A body sent as `application/x-www-form-urlencoded` (the exchange spec's format) or
/// as a JSON object with the same field names.
#[derive(Debug)]
pub struct FormOrJson<T>(pub T);

/// A body read by [`FormOrJson`].
pub trait FormBody: DeserializeOwned {
    /// Fields holding decimals. A JSON number there reaches the field as its exact
    /// text, as a form would send it, instead of being rounded through `f64`.
    const DECIMAL_FIELDS: &'static [&'static str];
}

impl<T: FormBody, S: Send + Sync> FromRequest<S> for FormOrJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if is_json(req.headers()) {
            json_form(&read_body(req, state).await?).map(Self)
        } else if is_form(req.headers()) {
            form(&read_body(req, state).await?).map(Self)
        } else {
            Err(ErrorCode::InvalidBody.error(
                "expected a form body (Content-Type: application/x-www-form-urlencoded) \
                 or a JSON object (Content-Type: application/json)",
            ))
        }
    }
}

/// A JSON object whose numbers in [`FormBody::DECIMAL_FIELDS`] are read as their text.
fn json_form<T: FormBody>(body: &[u8]) -> Result<T, ApiError> {
    let raw: BTreeMap<String, Box<RawValue>> = json_object(body)?;
    let mut fields = serde_json::Map::new();
    for (name, value) in raw {
        let text = value.get();
        let value = if T::DECIMAL_FIELDS.contains(&name.as_str())
            && text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
        {
            serde_json::Value::String(text.to_owned())
        } else {
            serde_json::from_str(text).map_err(|e| invalid_json(&e))?
        };
        fields.insert(name, value);
    }
    T::deserialize(serde_json::Value::Object(fields)).map_err(|e| invalid_json(&e))
}

fn invalid_json(e: &serde_json::Error) -> ApiError {
    ErrorCode::InvalidBody.error(format!(
        "Failed to deserialize the JSON body into the target type: {e}"
    ))
}

/// `application/x-www-form-urlencoded`, parameters ignored.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|e| {
            e.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Parses a form body whose decoded text must be UTF-8: the usual decoder would put
/// U+FFFD in place of bad bytes and store that.
fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if percent_encoding::percent_decode(body)
        .decode_utf8()
        .is_err()
    {
        return Err(ErrorCode::InvalidBody.error("the form body is not valid UTF-8 once decoded"));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ErrorCode::InvalidBody.error(format!("Failed to deserialize form body: {e}")))
}

/// Query string; bad parameters are 400.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| ErrorCode::InvalidQuery.error(e.body_text()))
    }
}

/// Path parameters; unparsable ones (a user id that is not a UUID) are 400.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| ErrorCode::InvalidPath.error(e.body_text()))
    }
}
