//! `/auth/reauthenticate`: fresh proof before a sensitive change.

use auth_core::{AuthError, ReauthProof, ValidationError};
use axum::extract::State;
use axum::http::StatusCode;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::AppState;
use auth_axum::{Authenticated, Client};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reauthenticate))
}

/// Prove the password or the second factor again: for a few minutes the session may
/// change the email and enrol a second factor.
#[utoipa::path(post, path = "/auth/reauthenticate", tag = "auth", security(("bearer" = [])), request_body = ReauthBody,
    responses(
        (status = 204, description = "The session counts as recently authenticated"),
        (status = 400, description = "Malformed body, or not exactly one of `password` and `code`", body = ErrorBody),
        (status = 401, description = "Missing or invalid token, `invalid_credentials` (wrong password) or `invalid_mfa_code`", body = ErrorBody),
        (status = 403, description = "`session_required`: an API key cannot do this", body = ErrorBody),
        (status = 429, description = "Too many wrong attempts for this account or address; see Retry-After", body = ErrorBody),
    ))]
pub async fn reauthenticate(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    Client(client): Client,
    ApiJson(b): ApiJson<ReauthBody>,
) -> Result<StatusCode, ApiError> {
    let proof = match (b.password, b.code) {
        (Some(password), None) => ReauthProof::Password(password),
        (None, Some(code)) => ReauthProof::Code(code),
        _ => {
            let rule = ValidationError::new("password", "give exactly one of password and code");
            return Err(AuthError::from(rule).into());
        }
    };
    s.auth.reauthenticate(&who, proof, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// The proof: the password, or a TOTP or recovery code.
    #[derive(Deserialize, ToSchema)]
    pub struct ReauthBody {
        /// The account's password.
        #[serde(default)]
        pub password: Option<String>,
        /// A current TOTP code or an unused recovery code.
        #[serde(default)]
        pub code: Option<String>,
    }
}
