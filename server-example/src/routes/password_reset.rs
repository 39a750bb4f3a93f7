//! `/auth/password-reset*`: a forgotten password, reset through a mailed token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use auth_axum::Client;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
}

/// Ask for a password reset token by mail.
#[utoipa::path(post, path = "/auth/password-reset", tag = "auth", request_body = PasswordResetBody,
    responses(
        (status = 202, description = "A token is mailed if an account has this address, verified; the answer is the same either way", body = AcceptedDto),
        (status = 400, description = "Malformed body or address", body = ErrorBody),
        (status = 429, description = "Asked too often for this address or from this client; see Retry-After", body = ErrorBody),
    ))]
pub async fn request_reset(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<PasswordResetBody>,
) -> Result<(StatusCode, Json<AcceptedDto>), ApiError> {
    s.auth.request_password_reset(&b.email, &client).await?;
    Ok(AcceptedDto::reply(
        "if an account has this verified address, a reset token is on its way",
    ))
}

/// Set a new password with a reset token; every session of the account is revoked.
#[utoipa::path(post, path = "/auth/password-reset/confirm", tag = "auth", request_body = PasswordResetConfirmBody,
    responses(
        (status = 204, description = "Password set; every session revoked"),
        (status = 400, description = "`invalid_reset_token` (wrong, used or expired), or the password breaks a rule", body = ErrorBody),
    ))]
pub async fn confirm_reset(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<PasswordResetConfirmBody>,
) -> Result<StatusCode, ApiError> {
    s.auth
        .confirm_password_reset(&b.token, &b.new_password, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// A password reset request.
    #[derive(Deserialize, ToSchema)]
    pub struct PasswordResetBody {
        /// The account's email address.
        #[schema(format = Email, max_length = 254)]
        pub email: String,
    }

    /// A new password with the mailed token.
    #[derive(Deserialize, ToSchema)]
    pub struct PasswordResetConfirmBody {
        /// The token from the mail.
        pub token: String,
        /// The new password.
        pub new_password: String,
    }
}
