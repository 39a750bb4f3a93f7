//! `/admin/audit`: the audit log, for administrators.

use axum::Json;
use axum::extract::State;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use auth_axum::{Admin, RequireRole};
use auth_core::{AuditKind, AuditQuery, AuthError, ValidationError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use wire::*;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit))
}

/// Audit events, newest first: logins, administrators' actions, API keys; filtered by
/// user (as target or actor), kinds and time, paged with `before`.
#[utoipa::path(get, path = "/admin/audit", tag = "admin", security(("bearer" = [])), params(AuditParams),
    responses(
        (status = 200, description = "Events, newest first", body = [AuditEventDto]),
        (status = 400, description = "Bad query, or a kind that does not exist", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ))]
pub async fn audit(
    State(s): State<AppState>,
    _: RequireRole<Admin>,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> Result<Json<Vec<AuditEventDto>>, ApiError> {
    let kinds = match q.kind.as_deref() {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| {
                AuditKind::parse(k.trim()).ok_or_else(|| {
                    AuthError::from(ValidationError::new(
                        "kind",
                        format!("{k:?} is not an audit event kind"),
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let query = AuditQuery {
        user: q.user,
        kinds,
        from: q.from,
        until: q.until,
        before: q.before,
        limit: q.limit.unwrap_or(50),
    };
    let events = s.auth.audit_events(query).await?;
    Ok(Json(events.into_iter().map(Into::into).collect()))
}

mod wire {
    use serde::{Deserialize, Serialize};
    use time::OffsetDateTime;
    use utoipa::ToSchema;
    use uuid::Uuid;

    /// Which events.
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AuditParams {
        /// Events about this user or done by them.
        pub user: Option<Uuid>,
        /// Kinds, comma-separated (`login_failed,user_blocked`); absent: every kind.
        pub kind: Option<String>,
        /// At or after this time (RFC 3339).
        #[serde(default, with = "time::serde::rfc3339::option")]
        #[param(value_type = Option<String>, format = DateTime)]
        pub from: Option<OffsetDateTime>,
        /// Strictly before this time (RFC 3339).
        #[serde(default, with = "time::serde::rfc3339::option")]
        #[param(value_type = Option<String>, format = DateTime)]
        pub until: Option<OffsetDateTime>,
        /// The next page: events older than this one (the last `id` of a page).
        pub before: Option<Uuid>,
        /// At most this many (default 50; values outside 1 to 100 are clamped).
        #[param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64)]
        pub limit: Option<u32>,
    }

    /// One audit event.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct AuditEventDto {
        /// Its id (`before` for the next page).
        pub id: Uuid,
        /// When (RFC 3339).
        #[serde(with = "time::serde::rfc3339")]
        pub at: OffsetDateTime,
        /// What happened (`login_failed`, `user_blocked`, ...).
        pub kind: String,
        /// Who acted: `user`, `api_key`, `system`, or `anonymous` (a login attempt).
        pub actor: String,
        /// The acting user, if one acted.
        pub actor_user_id: Option<Uuid>,
        /// The API key they acted through, if any.
        pub actor_key_id: Option<Uuid>,
        /// The account it happened to.
        pub target_user_id: Option<Uuid>,
        /// The client's address.
        pub ip: Option<String>,
        /// The client's user agent.
        pub user_agent: Option<String>,
        /// Whether it went through.
        pub success: bool,
        /// What else names it (a role, a key), never a secret.
        pub detail: Option<String>,
    }

    impl From<auth_core::AuditEvent> for AuditEventDto {
        fn from(e: auth_core::AuditEvent) -> Self {
            use auth_core::Actor;
            let actor = match e.actor {
                Actor::User(_) => "user",
                Actor::ApiKey { .. } => "api_key",
                Actor::System => "system",
                Actor::Anonymous => "anonymous",
            };
            Self {
                id: e.id,
                at: e.at,
                kind: e.kind.as_str().to_owned(),
                actor: actor.to_owned(),
                actor_user_id: e.actor.user(),
                actor_key_id: e.actor.key(),
                target_user_id: e.target,
                ip: e.ip.map(|i| i.to_string()),
                user_agent: e.user_agent,
                success: e.success,
                detail: e.detail,
            }
        }
    }
}
