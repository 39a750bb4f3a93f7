//! `/admin/keys`: the signing keys kept in the store (with `SIGNING_KEY_ROTATION_DAYS`
//! or `SIGNING_KEY_ROTATION_SECS`), for administrators: list, rotate now, revoke.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::state::AppState;
use auth_axum::{Admin, RequireRole};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use wire::*;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(rotate))
        .routes(routes!(revoke))
}

/// The signing keys: the current one, the next one (published, not signing yet) and
/// the retired ones (published until their tokens expired).
#[utoipa::path(get, path = "/admin/keys", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Current first, then next, then retired", body = [SigningKeyDto]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "`key_rotation_off`: keys are not kept in the store here", body = ErrorBody),
    ))]
pub async fn list(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
) -> Result<Json<Vec<SigningKeyDto>>, ApiError> {
    let keys = s.auth.signing_keys().await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

/// Rotate now: the next key signs from now on (on other instances once the store's
/// notice reaches them) and the current one is retired. Within a poll of the last rotation it
/// changes nothing.
#[utoipa::path(post, path = "/admin/keys/rotate", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "The keys after the rotation", body = [SigningKeyDto]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "`key_rotation_off`: keys are not kept in the store here", body = ErrorBody),
    ))]
pub async fn rotate(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
) -> Result<Json<Vec<SigningKeyDto>>, ApiError> {
    let keys = s.auth.rotate_signing_key(&admin.0).await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

/// Revoke a key (compromised): it leaves the JWKS at once and the tokens it signed are
/// refused (on other instances once the store's notice reaches them, at the latest at
/// their next poll); a revoked current key is replaced by the next one.
#[utoipa::path(delete, path = "/admin/keys/{kid}", tag = "admin", security(("bearer" = [])),
    params(("kid" = String, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
        (status = 409, description = "`key_rotation_off`: keys are not kept in the store here", body = ErrorBody),
    ))]
pub async fn revoke(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(kid): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    s.auth.revoke_signing_key(&admin.0, &kid).await?;
    Ok(StatusCode::NO_CONTENT)
}

mod wire {
    use serde::Serialize;
    use time::OffsetDateTime;
    use utoipa::ToSchema;

    /// A signing key, never its private half.
    #[derive(Serialize, ToSchema)]
    pub struct SigningKeyDto {
        /// Its id: the `kid` of the tokens it signs and of its JWK.
        pub kid: String,
        /// The JWS algorithm (`EdDSA`).
        pub algorithm: String,
        /// `current` (signs), `next` (published, signs after the next rotation) or
        /// `retired` (published until its tokens expired).
        #[schema(example = "current")]
        pub state: String,
        /// When it was made and published (RFC 3339).
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
        /// When it began to sign (RFC 3339); null: not yet.
        #[serde(with = "time::serde::rfc3339::option")]
        pub activated_at: Option<OffsetDateTime>,
        /// When a retired key leaves the JWKS (RFC 3339).
        #[serde(with = "time::serde::rfc3339::option")]
        pub retire_after: Option<OffsetDateTime>,
    }

    impl From<auth_core::SigningKeyInfo> for SigningKeyDto {
        fn from(k: auth_core::SigningKeyInfo) -> Self {
            Self {
                kid: k.kid,
                algorithm: k.algorithm,
                state: k.state.to_owned(),
                created_at: k.created_at,
                activated_at: k.activated_at,
                retire_after: k.retire_after,
            }
        }
    }
}
