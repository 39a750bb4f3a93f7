//! The second factor: TOTP enrolment, the login's second step, removal.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::routes::auth::TokenPairDto;
use crate::state::AppState;
use auth_axum::{Admin, Authenticated, Client, RequireRole};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(enrol, disable))
        .routes(routes!(confirm))
        .routes(routes!(admin_remove))
}

/// Complete a login with a TOTP code or a recovery code.
#[utoipa::path(post, path = "/auth/mfa/verify", tag = "auth", request_body = MfaVerifyBody,
    responses(
        (status = 200, description = "Token pair; its access tokens carry `amr: [pwd, otp]`", body = TokenPairDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`invalid_mfa_token` (bad or expired challenge) or `invalid_mfa_code`", body = ErrorBody),
        (status = 403, description = "Blocked meanwhile", body = ErrorBody),
        (status = 429, description = "Too many wrong codes for this account or address; see Retry-After", body = ErrorBody),
    ))]
pub async fn verify(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<MfaVerifyBody>,
) -> Result<Json<TokenPairDto>, ApiError> {
    Ok(Json(
        s.auth
            .verify_mfa(&b.mfa_token, &b.code, client)
            .await?
            .into(),
    ))
}

/// Start TOTP enrolment (needs a recent `/auth/reauthenticate`): a new secret, active
/// once confirmed with a code.
#[utoipa::path(post, path = "/users/me/mfa/totp", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The secret and its otpauth:// URI", body = TotpEnrolmentDto),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`reauthentication_required`: re-authenticate first; `session_required`: an API key cannot do this", body = ErrorBody),
        (status = 409, description = "A second factor is already active", body = ErrorBody),
    ))]
pub async fn enrol(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
) -> Result<Json<TotpEnrolmentDto>, ApiError> {
    let e = s.auth.enrol_totp(&who).await?;
    Ok(Json(TotpEnrolmentDto {
        secret: e.secret,
        otpauth_uri: e.otpauth_uri,
    }))
}

/// Confirm enrolment with a current code; answers the recovery codes, once.
#[utoipa::path(post, path = "/users/me/mfa/totp/confirm", tag = "users", security(("bearer" = [])), request_body = MfaCodeBody,
    responses(
        (status = 200, description = "Second factor active, every other session revoked; keep the recovery codes, they are not shown again", body = RecoveryCodesDto),
        (status = 400, description = "Wrong code, or no enrolment in progress, or one restarted meanwhile", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`session_required`: an API key cannot do this", body = ErrorBody),
        (status = 429, description = "Too many wrong codes; see Retry-After", body = ErrorBody),
    ))]
pub async fn confirm(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    Client(client): Client,
    ApiJson(b): ApiJson<MfaCodeBody>,
) -> Result<Json<RecoveryCodesDto>, ApiError> {
    let recovery_codes = s.auth.confirm_totp(&who, &b.code, &client).await?;
    Ok(Json(RecoveryCodesDto { recovery_codes }))
}

/// Turn the second factor off with a TOTP code or a recovery code.
#[utoipa::path(delete, path = "/users/me/mfa/totp", tag = "users", security(("bearer" = [])), request_body = MfaCodeBody,
    responses(
        (status = 204, description = "Second factor removed, every other session revoked"),
        (status = 400, description = "Wrong code", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`session_required`: an API key cannot do this", body = ErrorBody),
        (status = 404, description = "No second factor is active", body = ErrorBody),
        (status = 429, description = "Too many wrong codes; see Retry-After", body = ErrorBody),
    ))]
pub async fn disable(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    Client(client): Client,
    ApiJson(b): ApiJson<MfaCodeBody>,
) -> Result<StatusCode, ApiError> {
    s.auth.disable_totp(&who, &b.code, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user's second factor and recovery codes (admin).
#[utoipa::path(delete, path = "/admin/users/{id}/mfa", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Second factor removed"),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "The user has no second factor", body = ErrorBody),
    ))]
pub async fn admin_remove(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    s.auth.remove_second_factor(&admin.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {
    use serde::{Deserialize, Serialize};
    use utoipa::ToSchema;

    /// The second step of a login.
    #[derive(Deserialize, ToSchema)]
    pub struct MfaVerifyBody {
        /// The challenge token the login answered.
        pub mfa_token: String,
        /// A 6-digit TOTP code or a recovery code.
        pub code: String,
    }

    /// A TOTP code (or, to disable, a recovery code).
    #[derive(Deserialize, ToSchema)]
    pub struct MfaCodeBody {
        /// The code.
        pub code: String,
    }

    /// A started enrolment.
    #[derive(Serialize, ToSchema)]
    pub struct TotpEnrolmentDto {
        /// Base32 secret for the authenticator app.
        pub secret: String,
        /// `otpauth://totp/...` URI (for a QR code).
        pub otpauth_uri: String,
    }

    /// Recovery codes, shown once.
    #[derive(Serialize, ToSchema)]
    pub struct RecoveryCodesDto {
        /// Ten single-use codes.
        pub recovery_codes: Vec<String>,
    }
}
