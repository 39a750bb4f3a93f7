//! `/admin/*`: user and role management (role `admin`).

use auth_core::ProfileUpdate;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use auth_axum::{Admin, RequireRole};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(block_user))
        .routes(routes!(unblock_user))
        .routes(routes!(user_sessions, revoke_user_sessions))
        .routes(routes!(list_roles, create_role))
        .routes(routes!(delete_role))
        .routes(routes!(grant_role, revoke_role))
}

/// Search users.
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])), params(UsersQuery),
    responses(
        (status = 200, description = "Users", body = [UserDto]),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn list_users(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
    ApiQuery(q): ApiQuery<UsersQuery>,
) -> Result<Json<Vec<UserDto>>, ApiError> {
    let offset = checked_offset(q.offset)?;
    let users = s
        .auth
        .list_users(q.query.as_deref(), q.limit.unwrap_or(50), offset)
        .await?;
    Ok(Json(users.into_iter().map(Into::into).collect()))
}

/// One user.
#[utoipa::path(get, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserDto),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn get_user(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UserDto>, ApiError> {
    Ok(Json(s.auth.user(id).await?.into()))
}

/// Change a user's email, names or verification flag.
#[utoipa::path(patch, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")), request_body = AdminUserBody,
    responses(
        (status = 200, description = "The updated user", body = UserDto),
        (status = 400, description = "A field broke a rule", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Email taken", body = ErrorBody),
    ))]
pub async fn update_user(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<AdminUserBody>,
) -> Result<Json<UserDto>, ApiError> {
    let update = ProfileUpdate {
        email: b.email,
        first_name: b.first_name,
        last_name: b.last_name,
        email_verified: b.email_verified,
    };
    Ok(Json(
        s.auth.admin_update_user(&admin.0, id, update).await?.into(),
    ))
}

/// Delete a user and all its data.
#[utoipa::path(delete, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The caller's own account", body = ErrorBody),
    ))]
pub async fn delete_user(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    s.auth.delete_user(&admin.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Block a user; every session of it is revoked at once.
#[utoipa::path(post, path = "/admin/users/{id}/block", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Blocked"),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The caller's own account", body = ErrorBody),
    ))]
pub async fn block_user(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    s.auth.block_user(&admin.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unblock a user.
#[utoipa::path(post, path = "/admin/users/{id}/unblock", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn unblock_user(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    s.auth.unblock_user(&admin.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's live sessions.
#[utoipa::path(get, path = "/admin/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id"), SessionsQuery),
    responses(
        (status = 200, description = "Sessions", body = [SessionDto]),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn user_sessions(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<SessionsQuery>,
) -> Result<Json<Vec<SessionDto>>, ApiError> {
    let offset = checked_offset(q.offset)?;
    s.auth.user(id).await?;
    let list = s
        .auth
        .sessions(id, None, q.limit.unwrap_or(100), offset)
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Revoke every session of a user.
#[utoipa::path(delete, path = "/admin/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn revoke_user_sessions(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    s.auth.revoke_user_sessions(&admin.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every role.
#[utoipa::path(get, path = "/admin/roles", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Roles", body = [RoleDto]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn list_roles(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
) -> Result<Json<Vec<RoleDto>>, ApiError> {
    Ok(Json(
        s.auth.roles().await?.into_iter().map(Into::into).collect(),
    ))
}

/// Create a role.
#[utoipa::path(post, path = "/admin/roles", tag = "admin", security(("bearer" = [])), request_body = RoleBody,
    responses(
        (status = 201, description = "Created", body = RoleDto),
        (status = 400, description = "Bad name", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Role exists", body = ErrorBody),
    ))]
pub async fn create_role(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiJson(b): ApiJson<RoleBody>,
) -> Result<(StatusCode, Json<RoleDto>), ApiError> {
    let role = s.auth.create_role(&admin.0, &b.name, b.description).await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

/// Delete a role (`admin` cannot be deleted).
#[utoipa::path(delete, path = "/admin/roles/{name}", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such role", body = ErrorBody),
        (status = 409, description = "The admin role", body = ErrorBody),
    ))]
pub async fn delete_role(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    s.auth.delete_role(&admin.0, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grant a role.
#[utoipa::path(put, path = "/admin/users/{id}/roles/{name}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id"), ("name" = String, Path, description = "Role name")),
    responses(
        (status = 204, description = "Granted"),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user or role", body = ErrorBody),
    ))]
pub async fn grant_role(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath((id, name)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode, ApiError> {
    s.auth.grant_role(&admin.0, id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a role.
#[utoipa::path(delete, path = "/admin/users/{id}/roles/{name}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id"), ("name" = String, Path, description = "Role name")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Not a user id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user or role", body = ErrorBody),
        (status = 409, description = "The caller's own admin role", body = ErrorBody),
    ))]
pub async fn revoke_role(
    State(s): State<AppState>,
    admin: RequireRole<Admin>,
    ApiPath((id, name)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode, ApiError> {
    s.auth.revoke_role(&admin.0, id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {

    use serde::{Deserialize, Serialize};

    use utoipa::ToSchema;

    /// An administrative user change.
    #[derive(Debug, Default, Deserialize, ToSchema)]
    pub struct AdminUserBody {
        /// New email.
        #[serde(default)]
        #[schema(format = Email, max_length = 254)]
        pub email: Option<String>,
        /// New first name: 2 to 32 Latin letters and `-`.
        #[serde(default)]
        pub first_name: Option<String>,
        /// New last name: 2 to 32 Latin letters and `-`.
        #[serde(default)]
        pub last_name: Option<String>,
        /// Mark the email verified or not.
        #[serde(default)]
        pub email_verified: Option<bool>,
    }

    /// A new role.
    #[derive(Debug, Deserialize, ToSchema)]
    pub struct RoleBody {
        /// Lowercase letters, digits, `_` and `-`.
        pub name: String,
        /// Free text: at most 256 characters, no control characters; trimmed.
        #[serde(default)]
        #[schema(max_length = 256, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
        pub description: Option<String>,
    }

    /// A role.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct RoleDto {
        /// Name.
        pub name: String,
        /// Description.
        pub description: Option<String>,
    }

    impl From<auth_core::Role> for RoleDto {
        fn from(r: auth_core::Role) -> Self {
            Self {
                name: r.name.into(),
                description: r.description,
            }
        }
    }

    /// User search.
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct UsersQuery {
        /// Substring of login, email or names, ignoring case; at most 256 characters.
        #[param(max_length = 256, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
        pub query: Option<String>,
        /// Page size (default 50; values outside 1 to 100 are clamped).
        #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
        pub limit: Option<u32>,
        /// Rows to skip.
        pub offset: Option<u64>,
    }
}
