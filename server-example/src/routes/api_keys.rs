//! API keys: `/users/me/api-keys` for the caller's own, `/admin/users/{id}/api-keys`
//! for an administrator. A key is sent like an access token
//! (`Authorization: Bearer ak_...`) and is accepted wherever one is.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use auth_axum::{Admin, Authenticated, RequireRole};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use wire::*;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(revoke))
        .routes(routes!(admin_create, admin_list))
        .routes(routes!(admin_revoke))
}

/// Create an API key for the caller (needs a recent `/auth/reauthenticate`); the key
/// is in this answer only.
#[utoipa::path(post, path = "/users/me/api-keys", tag = "users", security(("bearer" = [])),
    request_body = ApiKeyBody,
    responses(
        (status = 201, description = "The key, shown this once", body = CreatedApiKeyDto),
        (status = 400, description = "Malformed body, or a name, role, expiry or limit that breaks a rule", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`reauthentication_required`, or `session_required`: an API key cannot create keys", body = ErrorBody),
        (status = 409, description = "`api_key_exists`: the caller has a key of this name", body = ErrorBody),
    ))]
pub async fn create(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiJson(b): ApiJson<ApiKeyBody>,
) -> Result<(StatusCode, Json<CreatedApiKeyDto>), ApiError> {
    let created = s.auth.create_api_key(&who, b.into()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The caller's API keys, oldest first (never their secrets).
#[utoipa::path(get, path = "/users/me/api-keys", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's keys", body = [ApiKeyDto]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
pub async fn list(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
) -> Result<Json<Vec<ApiKeyDto>>, ApiError> {
    let keys = s.auth.api_keys(who.user_id).await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

/// Revoke one of the caller's API keys: refused from now on, on every instance.
#[utoipa::path(delete, path = "/users/me/api-keys/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Not a key id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such key of the caller", body = ErrorBody),
    ))]
pub async fn revoke(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    s.auth.revoke_api_key(&who, who.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an API key for a user (the administrator needs a recent
/// `/auth/reauthenticate`); its roles must be the user's.
#[utoipa::path(post, path = "/admin/users/{id}/api-keys", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = ApiKeyBody,
    responses(
        (status = 201, description = "The key, shown this once", body = CreatedApiKeyDto),
        (status = 400, description = "Not a user id, malformed body, or a name, role, expiry or limit that breaks a rule", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "`api_key_exists`: the user has a key of this name", body = ErrorBody),
    ))]
pub async fn admin_create(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<ApiKeyBody>,
) -> Result<(StatusCode, Json<CreatedApiKeyDto>), ApiError> {
    let created = s.auth.create_api_key_for(&admin.0, id, b.into()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// A user's API keys, oldest first.
#[utoipa::path(get, path = "/admin/users/{id}/api-keys", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user's keys", body = [ApiKeyDto]),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn admin_list(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<ApiKeyDto>>, ApiError> {
    s.auth.user(id).await?;
    let keys = s.auth.api_keys(id).await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

/// Revoke a user's API key.
#[utoipa::path(delete, path = "/admin/users/{id}/api-keys/{key_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id"), ("key_id" = Uuid, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Not a user or key id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such key of that user", body = ErrorBody),
    ))]
pub async fn admin_revoke(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath((id, key_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    s.auth.revoke_api_key(&admin.0, id, key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

mod wire {
    use serde::{Deserialize, Serialize};
    use time::OffsetDateTime;
    use utoipa::ToSchema;
    use uuid::Uuid;

    /// A key to create.
    #[derive(Deserialize, ToSchema)]
    pub struct ApiKeyBody {
        /// Unique among the owner's keys; 1 to 64 characters.
        #[schema(min_length = 1, max_length = 64)]
        pub name: String,
        /// Roles the key may use, each one its owner holds (default: none).
        #[serde(default)]
        pub roles: Vec<String>,
        /// When it stops working (RFC 3339, in the future); absent: never.
        #[serde(default, with = "time::serde::rfc3339::option")]
        #[schema(value_type = Option<String>, format = DateTime)]
        pub expires_at: Option<OffsetDateTime>,
        /// Requests per minute with this key, counted across instances; absent: no
        /// limit of its own.
        #[schema(minimum = 1, maximum = 1_000_000)]
        pub rate_limit_per_minute: Option<u32>,
    }

    impl From<ApiKeyBody> for auth_core::NewApiKey {
        fn from(b: ApiKeyBody) -> Self {
            Self {
                name: b.name,
                roles: b.roles,
                expires_at: b.expires_at,
                rate_limit: b.rate_limit_per_minute,
            }
        }
    }

    /// An API key, never its secret.
    #[derive(Serialize, ToSchema)]
    pub struct ApiKeyDto {
        /// Its id (also the part of the key after `ak_`).
        pub id: Uuid,
        /// Its name.
        pub name: String,
        /// Roles it may use (those its owner no longer holds do not count).
        pub roles: Vec<String>,
        /// Requests per minute it may make; null: no limit of its own.
        pub rate_limit_per_minute: Option<u32>,
        /// Creation time (RFC 3339).
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
        /// Expiry (RFC 3339); null: never.
        #[serde(with = "time::serde::rfc3339::option")]
        pub expires_at: Option<OffsetDateTime>,
        /// Last use, to the minute (RFC 3339).
        #[serde(with = "time::serde::rfc3339::option")]
        pub last_used_at: Option<OffsetDateTime>,
    }

    impl From<auth_core::ApiKeyInfo> for ApiKeyDto {
        fn from(k: auth_core::ApiKeyInfo) -> Self {
            Self {
                id: k.id,
                name: k.name,
                roles: k.roles.into_iter().map(String::from).collect(),
                rate_limit_per_minute: k.rate_limit_per_minute,
                created_at: k.created_at,
                expires_at: k.expires_at,
                last_used_at: k.last_used_at,
            }
        }
    }

    /// A key just created: the whole key is here and nowhere else.
    #[derive(Serialize, ToSchema)]
    pub struct CreatedApiKeyDto {
        /// `ak_<id>_<secret>`: send it as `Authorization: Bearer <key>`.
        pub key: String,
        /// The key as listed from now on.
        #[serde(flatten)]
        pub info: ApiKeyDto,
    }

    impl From<auth_core::CreatedApiKey> for CreatedApiKeyDto {
        fn from(c: auth_core::CreatedApiKey) -> Self {
            Self {
                key: c.key.expose().to_owned(),
                info: c.info.into(),
            }
        }
    }
}
