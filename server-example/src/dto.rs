//! Wire types shared by several route modules (the error body, users, sessions,
//! paging); the others live beside their routes. Each derives its OpenAPI schema, so
//! the document describes exactly what is sent.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Error body of every 4xx and 5xx.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A human-readable sentence.
    pub message: String,
    /// A stable snake_case reason.
    pub code: String,
}

/// The body of a 202: the request was taken; what follows happens by mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedDto {
    /// A human-readable sentence.
    pub message: &'static str,
}

impl AcceptedDto {
    /// A 202 answer saying `message`.
    pub fn reply(message: &'static str) -> (axum::http::StatusCode, axum::Json<Self>) {
        (
            axum::http::StatusCode::ACCEPTED,
            axum::Json(Self { message }),
        )
    }
}

/// A code mailed to the user.
#[derive(Deserialize, ToSchema)]
pub struct EmailCodeBody {
    /// The six-digit code.
    pub code: String,
}

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    /// Id.
    pub id: Uuid,
    /// Login.
    pub login: String,
    /// Email, lowercased.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Role names.
    pub roles: Vec<String>,
    /// `active` or `blocked`.
    #[schema(example = "active")]
    pub status: &'static str,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Creation time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<auth_core::User> for UserDto {
    fn from(u: auth_core::User) -> Self {
        Self {
            id: u.id,
            login: u.login,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            roles: u.roles.into_iter().map(String::from).collect(),
            status: u.status.as_str(),
            email_verified: u.email_verified,
            created_at: u.created_at,
        }
    }
}

/// A login session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    /// Session id.
    pub id: Uuid,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last refresh.
    #[serde(with = "time::serde::rfc3339")]
    pub last_refreshed_at: OffsetDateTime,
    /// Absolute expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Client address at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
    /// Whether this is the caller's session.
    pub current: bool,
}

impl From<auth_core::SessionInfo> for SessionDto {
    fn from(s: auth_core::SessionInfo) -> Self {
        Self {
            id: s.id,
            created_at: s.created_at,
            last_refreshed_at: s.last_refreshed_at,
            expires_at: s.expires_at,
            ip: s.ip.map(|i| i.to_string()),
            user_agent: s.user_agent,
            current: s.current,
        }
    }
}

/// Paging of session lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionsQuery {
    /// Page size (default 100; values outside 1 to 100 are clamped).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// Sessions to skip.
    pub offset: Option<u64>,
}

/// An `offset` query parameter within the published int64 range; larger ones could
/// only ever give an empty page.
pub fn checked_offset(offset: Option<u64>) -> Result<u64, crate::error::ApiError> {
    let offset = offset.unwrap_or(0);
    if i64::try_from(offset).is_err() {
        return Err(crate::error::ErrorCode::InvalidQuery
            .error(format!("offset must be at most {}", i64::MAX)));
    }
    Ok(offset)
}
