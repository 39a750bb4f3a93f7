//! `/kv/*`: a per-user key-value resource protected by auth-core.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::dto::*;
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::kv::{KvError, compact};
use crate::state::AppState;
use auth_axum::Authenticated;
use serde_json::value::RawValue;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Longest key in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// Largest value, serialized, in bytes.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Most keys in one request.
pub const MAX_KEYS: usize = 1000;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(write))
        .routes(routes!(read))
}

impl From<KvError> for ApiError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Unavailable(e) => ApiError::unavailable(e),
            KvError::Backend(e) => ApiError::internal(e),
        }
    }
}

// NUL is refused in keys and anywhere in values: no Postgres text or jsonb value can
// hold it, and both stores must accept the same data.
fn check_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.contains('\0') {
        return Err(ErrorCode::InvalidKey.error(format!(
            "keys must be 1 to {MAX_KEY_BYTES} bytes long, without NUL characters"
        )));
    }
    Ok(())
}

fn check_count(n: usize) -> Result<(), ApiError> {
    if n == 0 {
        return Err(ErrorCode::NoKeys.error("at least one key is required"));
    }
    if n > MAX_KEYS {
        return Err(ErrorCode::TooManyKeys.error(format!("at most {MAX_KEYS} keys per request")));
    }
    Ok(())
}

/// Store values under keys that do not exist yet; existing keys are left alone.
#[utoipa::path(post, path = "/kv/write", tag = "kv", security(("bearer" = [])), request_body = KvWriteBody,
    responses(
        (status = 201, description = "Keys written and skipped", body = KvWriteResult),
        (status = 400, description = "No keys, a key empty, over 256 bytes or with NUL, a value over 64 KiB or with NUL", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
pub async fn write(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiJson(b): ApiJson<KvWriteBody>,
) -> Result<(StatusCode, Json<KvWriteResult>), ApiError> {
    check_count(b.data.len())?;
    let mut entries = Vec::with_capacity(b.data.len());
    for (k, v) in b.data {
        check_key(&k)?;
        let text = compact(v.get()).map_err(|problem| {
            ErrorCode::InvalidValue.error(format!(
                "the value of `{k}` {problem}, which cannot be stored"
            ))
        })?;
        if text.len() > MAX_VALUE_BYTES {
            return Err(ErrorCode::ValueTooLarge.error(format!(
                "the value of `{k}` is over {MAX_VALUE_BYTES} bytes"
            )));
        }
        let value = RawValue::from_string(text).map_err(ApiError::internal)?;
        entries.push((k, value));
    }
    let (written, skipped) = s.kv.write(who.user_id, entries).await?;
    Ok((
        StatusCode::CREATED,
        Json(KvWriteResult { written, skipped }),
    ))
}

/// Read values; every key must exist.
#[utoipa::path(post, path = "/kv/read", tag = "kv", security(("bearer" = [])), request_body = KvReadBody,
    responses(
        (status = 200, description = "The values", body = KvReadResult),
        (status = 400, description = "No keys, or a repeated key", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "Some keys do not exist", body = MissingKeysBody),
    ))]
pub async fn read(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiJson(b): ApiJson<KvReadBody>,
) -> Result<Json<KvReadResult>, ApiError> {
    check_count(b.keys.len())?;
    let mut seen = HashSet::new();
    for k in &b.keys {
        check_key(k)?;
        if !seen.insert(k.as_str()) {
            return Err(ErrorCode::RepeatedKey.error(format!("the key `{k}` is repeated")));
        }
    }
    let mut found = s.kv.read(who.user_id, &b.keys).await?;
    let missing: Vec<String> = b
        .keys
        .iter()
        .filter(|k| !found.contains_key(*k))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(ErrorCode::KeysNotFound
            .error("some keys do not exist")
            .with_field("missing", serde_json::json!(missing)));
    }
    let data = b
        .keys
        .iter()
        .filter_map(|k| found.remove(k).map(|v| (k.clone(), v)))
        .collect();
    Ok(Json(KvReadResult { data }))
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};
    use serde_json::value::RawValue;
    use utoipa::ToSchema;

    /// Values to store under the caller's namespace.
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct KvWriteBody {
        /// Key (1 to 256 bytes) to any JSON value (at most 64 KiB); at most 1000 keys.
        #[schema(value_type = Object)]
        pub data: BTreeMap<String, Box<RawValue>>,
    }

    /// What a write did.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct KvWriteResult {
        /// Keys stored by this call.
        pub written: Vec<String>,
        /// Keys that already existed and were left as they were.
        pub skipped: Vec<String>,
    }

    /// Keys to read.
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct KvReadBody {
        /// Distinct keys, each 1 to 256 bytes; at most 1000.
        #[schema(min_items = 1, max_items = 1000)]
        pub keys: Vec<String>,
    }

    /// Values read.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct KvReadResult {
        /// Key to value.
        #[schema(value_type = Object)]
        pub data: BTreeMap<String, Box<RawValue>>,
    }

    /// Error body of `/kv/read` when keys are missing.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct MissingKeysBody {
        /// A human-readable sentence.
        pub message: String,
        /// Always `keys_not_found`.
        pub code: String,
        /// The keys that do not exist.
        pub missing: Vec<String>,
    }
}
