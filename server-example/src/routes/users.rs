//! `/users/me*`: the signed-in user.

use auth_core::ProfileUpdate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use auth_axum::{Authenticated, Client};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me, update_me))
        .routes(routes!(confirm_email))
        .routes(routes!(change_password))
        .routes(routes!(logins))
        .routes(routes!(sessions))
        .routes(routes!(revoke_session))
}

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserDto),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
pub async fn me(Authenticated(who): Authenticated) -> Json<UserDto> {
    // `authenticate` read the user with the session: no second query.
    Json(who.user.into())
}

/// Change names at once; a new email needs a recent `/auth/reauthenticate` and takes
/// effect when the code mailed to it is confirmed (`/users/me/email/confirm`).
#[utoipa::path(patch, path = "/users/me", tag = "users", security(("bearer" = [])), request_body = ProfileBody,
    responses(
        (status = 200, description = "The updated user; a new email is pending, the current one stays until it is confirmed", body = UserDto),
        (status = 400, description = "A field broke a rule", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`reauthentication_required`: a new email needs a recent re-authentication; `session_required`: an API key cannot change the email", body = ErrorBody),
        (status = 409, description = "Email taken", body = ErrorBody),
        (status = 429, description = "Too many email changes for this account; see Retry-After", body = ErrorBody),
    ))]
pub async fn update_me(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiJson(b): ApiJson<ProfileBody>,
) -> Result<Json<UserDto>, ApiError> {
    let update = ProfileUpdate {
        email: b.email,
        first_name: b.first_name,
        last_name: b.last_name,
        email_verified: None,
    };
    Ok(Json(s.auth.update_profile(&who, update).await?.into()))
}

/// Confirm a pending email change with the code mailed to the new address.
#[utoipa::path(post, path = "/users/me/email/confirm", tag = "users", security(("bearer" = [])), request_body = EmailCodeBody,
    responses(
        (status = 200, description = "The user, with the new address, verified", body = UserDto),
        (status = 400, description = "`invalid_verification_code`: wrong or expired code, or no change pending", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 409, description = "Another account took the address meanwhile", body = ErrorBody),
        (status = 429, description = "Too many wrong codes; see Retry-After", body = ErrorBody),
    ))]
pub async fn confirm_email(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    Client(client): Client,
    ApiJson(b): ApiJson<EmailCodeBody>,
) -> Result<Json<UserDto>, ApiError> {
    let user = s.auth.confirm_email_change(&who, &b.code, &client).await?;
    Ok(Json(user.into()))
}

/// Change the password; every other session is revoked.
#[utoipa::path(put, path = "/users/me/password", tag = "users", security(("bearer" = [])), request_body = PasswordBody,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "The new password broke a rule", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Wrong current password, or `session_required`: an API key cannot do this", body = ErrorBody),
    ))]
pub async fn change_password(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.auth
        .change_password(&who, &b.current_password, &b.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Login history, newest first.
#[utoipa::path(get, path = "/users/me/logins", tag = "users", security(("bearer" = [])), params(LoginsQuery),
    responses(
        (status = 200, description = "Login attempts", body = [LoginEventDto]),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
pub async fn logins(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiQuery(q): ApiQuery<LoginsQuery>,
) -> Result<Json<Vec<LoginEventDto>>, ApiError> {
    let events = s
        .auth
        .login_history(who.user_id, q.limit.unwrap_or(50), q.before)
        .await?;
    Ok(Json(events.into_iter().map(Into::into).collect()))
}

/// Live sessions, newest first, paged.
#[utoipa::path(get, path = "/users/me/sessions", tag = "users", security(("bearer" = [])), params(SessionsQuery),
    responses(
        (status = 200, description = "Sessions", body = [SessionDto]),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
pub async fn sessions(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiQuery(q): ApiQuery<SessionsQuery>,
) -> Result<Json<Vec<SessionDto>>, ApiError> {
    let offset = checked_offset(q.offset)?;
    let list = s
        .auth
        .sessions(
            who.user_id,
            who.session_id().ok(),
            q.limit.unwrap_or(100),
            offset,
        )
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Revoke one of the caller's sessions.
#[utoipa::path(delete, path = "/users/me/sessions/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Not a session id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such live session of the caller", body = ErrorBody),
    ))]
pub async fn revoke_session(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    s.auth.revoke_session(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {

    use serde::{Deserialize, Serialize};
    use time::OffsetDateTime;
    use utoipa::ToSchema;

    /// A profile change.
    #[derive(Debug, Default, Deserialize, ToSchema)]
    pub struct ProfileBody {
        /// New email (must be verified again).
        #[serde(default)]
        #[schema(format = Email, max_length = 254)]
        pub email: Option<String>,
        /// New first name: 2 to 32 Latin letters and `-`.
        #[serde(default)]
        pub first_name: Option<String>,
        /// New last name: 2 to 32 Latin letters and `-`.
        #[serde(default)]
        pub last_name: Option<String>,
    }

    /// A password change.
    #[derive(Deserialize, ToSchema)]
    pub struct PasswordBody {
        /// The current password.
        pub current_password: String,
        /// The new password, following the registration rules.
        pub new_password: String,
    }

    /// Paging of the login history.
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct LoginsQuery {
        /// At most this many entries (default 50; values outside 1 to 100 are clamped).
        #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
        pub limit: Option<u32>,
        /// Only entries strictly before this time (RFC 3339).
        #[serde(default, with = "time::serde::rfc3339::option")]
        #[param(value_type = Option<String>, format = DateTime)]
        pub before: Option<OffsetDateTime>,
    }

    /// One login attempt.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct LoginEventDto {
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        pub at: OffsetDateTime,
        /// Client address.
        pub ip: Option<String>,
        /// Client user agent.
        pub user_agent: Option<String>,
        /// Whether it succeeded.
        pub success: bool,
    }

    impl From<auth_core::LoginEvent> for LoginEventDto {
        fn from(e: auth_core::LoginEvent) -> Self {
            Self {
                at: e.at,
                ip: e.ip.map(|i| i.to_string()),
                user_agent: e.user_agent,
                success: e.success,
            }
        }
    }
}
