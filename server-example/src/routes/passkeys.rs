//! Passkeys: registration and management under `/users/me/passkeys`, passwordless
//! sign-in and the second factor under `/auth/passkeys`, and a page to try them.
//!
//! Each ceremony is two calls: `.../start` answers `{ceremony_id, options}`, the client
//! passes `options` to `navigator.credentials.create()` or `.get()` (binary members
//! base64url-decoded), and `.../finish` takes the ceremony id with the credential the
//! browser returned, as JSON (`PublicKeyCredential.toJSON()`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use uuid::Uuid;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::routes::auth::TokenPairDto;
use crate::state::AppState;
use auth_axum::{Authenticated, Client};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use wire::*;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_start))
        .routes(routes!(register_finish))
        .routes(routes!(list))
        .routes(routes!(rename, delete))
        .routes(routes!(login_start))
        .routes(routes!(login_finish))
        .routes(routes!(mfa_start))
        .routes(routes!(mfa_finish))
        .routes(routes!(page))
}

/// Start registering a passkey (needs a recent `/auth/reauthenticate`).
#[utoipa::path(post, path = "/users/me/passkeys/register/start", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The ceremony id and the options of `navigator.credentials.create()`", body = PasskeyChallengeDto),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`reauthentication_required`: re-authenticate first; `session_required`: an API key cannot do this", body = ErrorBody),
    ))]
pub async fn register_start(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
) -> Result<Json<PasskeyChallengeDto>, ApiError> {
    Ok(Json(s.passkeys.start_registration(&who).await?.into()))
}

/// Finish a registration with the browser's new credential.
#[utoipa::path(post, path = "/users/me/passkeys/register/finish", tag = "users", security(("bearer" = [])),
    request_body = PasskeyRegisterBody,
    responses(
        (status = 201, description = "The passkey, registered", body = PasskeyDto),
        (status = 400, description = "Malformed body, or a name too long", body = ErrorBody),
        (status = 401, description = "Missing or invalid token, or `invalid_passkey`: an unknown, used or expired ceremony, or a credential that does not verify (origin, RP id, challenge, user verification)", body = ErrorBody),
        (status = 403, description = "`reauthentication_required`, or `session_required`: an API key cannot do this", body = ErrorBody),
        (status = 409, description = "`passkey_exists`: this authenticator is registered already", body = ErrorBody),
    ))]
pub async fn register_finish(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiJson(b): ApiJson<PasskeyRegisterBody>,
) -> Result<(StatusCode, Json<PasskeyDto>), ApiError> {
    let info = s
        .passkeys
        .finish_registration(
            &who,
            b.ceremony_id,
            &b.credential,
            b.name.as_deref().unwrap_or(""),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(info.into())))
}

/// The caller's passkeys, oldest first.
#[utoipa::path(get, path = "/users/me/passkeys", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's passkeys", body = [PasskeyDto]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ))]
pub async fn list(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
) -> Result<Json<Vec<PasskeyDto>>, ApiError> {
    let keys = s.passkeys.passkeys(who.user_id).await?;
    Ok(Json(keys.into_iter().map(Into::into).collect()))
}

/// Rename one of the caller's passkeys.
#[utoipa::path(patch, path = "/users/me/passkeys/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Passkey id")), request_body = PasskeyRenameBody,
    responses(
        (status = 204, description = "Renamed"),
        (status = 400, description = "Not a passkey id, or an empty or too long name", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such passkey of the caller", body = ErrorBody),
    ))]
pub async fn rename(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<PasskeyRenameBody>,
) -> Result<StatusCode, ApiError> {
    s.passkeys.rename(who.user_id, id, &b.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete one of the caller's passkeys (needs a recent `/auth/reauthenticate`).
#[utoipa::path(delete, path = "/users/me/passkeys/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Passkey id")),
    responses(
        (status = 204, description = "Deleted: it signs in no more"),
        (status = 400, description = "Not a passkey id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`reauthentication_required`, or `session_required`: an API key cannot do this", body = ErrorBody),
        (status = 404, description = "No such passkey of the caller", body = ErrorBody),
    ))]
pub async fn delete(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    s.passkeys.delete(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start a passwordless sign-in: options naming no credential, so the browser offers
/// the passkeys it holds for this site (also as autofill).
#[utoipa::path(post, path = "/auth/passkeys/login/start", tag = "auth",
    responses(
        (status = 200, description = "The ceremony id and the options of `navigator.credentials.get()`", body = PasskeyChallengeDto),
        (status = 429, description = "Too many sign-ins started from this address; see Retry-After", body = ErrorBody),
    ))]
pub async fn login_start(
    State(s): State<AppState>,
    Client(client): Client,
) -> Result<Json<PasskeyChallengeDto>, ApiError> {
    Ok(Json(s.passkeys.start_sign_in(&client).await?.into()))
}

/// Finish a passwordless sign-in; the tokens carry `amr: [hwk]` or `[swk]`.
#[utoipa::path(post, path = "/auth/passkeys/login/finish", tag = "auth", request_body = PasskeyLoginBody,
    responses(
        (status = 200, description = "Token pair", body = TokenPairDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`invalid_passkey`: an unknown, used or expired ceremony, an unknown or deleted passkey, or an answer that does not verify", body = ErrorBody),
        (status = 403, description = "`account_blocked` or `email_not_verified`", body = ErrorBody),
        (status = 429, description = "Too many failures for this account or address; see Retry-After", body = ErrorBody),
    ))]
pub async fn login_finish(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<PasskeyLoginBody>,
) -> Result<Json<TokenPairDto>, ApiError> {
    let pair = s
        .passkeys
        .finish_sign_in(b.ceremony_id, &b.credential, client)
        .await?;
    Ok(Json(pair.into()))
}

/// Start a passkey as the second factor of a login that answered `mfa_required`.
#[utoipa::path(post, path = "/auth/passkeys/mfa/start", tag = "auth", request_body = PasskeyMfaStartBody,
    responses(
        (status = 200, description = "The ceremony id and the options of `navigator.credentials.get()`, listing the account's passkeys", body = PasskeyChallengeDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`invalid_mfa_token`", body = ErrorBody),
        (status = 404, description = "The account has no passkey", body = ErrorBody),
    ))]
pub async fn mfa_start(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<PasskeyMfaStartBody>,
) -> Result<Json<PasskeyChallengeDto>, ApiError> {
    Ok(Json(
        s.passkeys.start_second_factor(&b.mfa_token).await?.into(),
    ))
}

/// Complete a login with a passkey; the tokens carry `amr: [pwd, hwk]` or `[pwd, swk]`.
#[utoipa::path(post, path = "/auth/passkeys/mfa/finish", tag = "auth", request_body = PasskeyMfaFinishBody,
    responses(
        (status = 200, description = "Token pair", body = TokenPairDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`invalid_mfa_token` or `invalid_passkey`", body = ErrorBody),
        (status = 403, description = "Blocked meanwhile", body = ErrorBody),
        (status = 429, description = "Too many failures for this account or address; see Retry-After", body = ErrorBody),
    ))]
pub async fn mfa_finish(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<PasskeyMfaFinishBody>,
) -> Result<Json<TokenPairDto>, ApiError> {
    let pair = s
        .passkeys
        .finish_second_factor(&b.mfa_token, b.ceremony_id, &b.credential, client)
        .await?;
    Ok(Json(pair.into()))
}

/// A page to try passkeys in a browser: sign in with a password, register a passkey,
/// sign out, sign in with the passkey. Self-contained (no external assets); open it at
/// the configured `WEBAUTHN_ORIGIN`.
#[utoipa::path(get, path = "/passkeys", tag = "ops",
    responses((status = 200, description = "The page", content_type = "text/html", body = String)))]
pub async fn page() -> Html<&'static str> {
    Html(include_str!("passkeys.html"))
}

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {
    use serde::{Deserialize, Serialize};
    use time::OffsetDateTime;
    use utoipa::ToSchema;
    use uuid::Uuid;

    /// A started ceremony.
    #[derive(Serialize, ToSchema)]
    pub struct PasskeyChallengeDto {
        /// Send it back with the browser's answer.
        pub ceremony_id: Uuid,
        /// `{"publicKey": {...}}` for the browser's WebAuthn call, binary members
        /// base64url-encoded; `mediation` when it suits autofill.
        #[schema(value_type = Object)]
        pub options: serde_json::Value,
    }

    impl From<auth_core::PasskeyChallenge> for PasskeyChallengeDto {
        fn from(c: auth_core::PasskeyChallenge) -> Self {
            Self {
                ceremony_id: c.ceremony_id,
                options: c.options,
            }
        }
    }

    /// A registered passkey.
    #[derive(Serialize, ToSchema)]
    pub struct PasskeyDto {
        /// Its id.
        pub id: Uuid,
        /// The name its owner gave it.
        pub name: String,
        /// Whether it may be synced to other devices (it then signs in as `swk`).
        pub backup_eligible: bool,
        /// Whether it was synced at its last use.
        pub backup_state: bool,
        /// Registration time (RFC 3339).
        #[serde(with = "time::serde::rfc3339")]
        pub created_at: OffsetDateTime,
        /// The last sign-in with it (RFC 3339).
        #[serde(with = "time::serde::rfc3339::option")]
        pub last_used_at: Option<OffsetDateTime>,
    }

    impl From<auth_core::PasskeyInfo> for PasskeyDto {
        fn from(p: auth_core::PasskeyInfo) -> Self {
            Self {
                id: p.id,
                name: p.name,
                backup_eligible: p.backup_eligible,
                backup_state: p.backup_state,
                created_at: p.created_at,
                last_used_at: p.last_used_at,
            }
        }
    }

    /// The browser's new credential.
    #[derive(Deserialize, ToSchema)]
    pub struct PasskeyRegisterBody {
        /// From `/users/me/passkeys/register/start`.
        pub ceremony_id: Uuid,
        /// `navigator.credentials.create()`'s credential as JSON.
        #[schema(value_type = Object)]
        pub credential: serde_json::Value,
        /// A name for it (at most 64 characters; default `passkey`).
        #[schema(max_length = 64)]
        pub name: Option<String>,
    }

    /// A passkey's new name.
    #[derive(Deserialize, ToSchema)]
    pub struct PasskeyRenameBody {
        /// 1 to 64 characters.
        #[schema(min_length = 1, max_length = 64)]
        pub name: String,
    }

    /// The browser's answer to a sign-in.
    #[derive(Deserialize, ToSchema)]
    pub struct PasskeyLoginBody {
        /// From `/auth/passkeys/login/start`.
        pub ceremony_id: Uuid,
        /// `navigator.credentials.get()`'s credential as JSON.
        #[schema(value_type = Object)]
        pub credential: serde_json::Value,
    }

    /// The login to complete with a passkey.
    #[derive(Deserialize, ToSchema)]
    pub struct PasskeyMfaStartBody {
        /// The challenge token the login answered.
        pub mfa_token: String,
    }

    /// The browser's answer for a login's second factor.
    #[derive(Deserialize, ToSchema)]
    pub struct PasskeyMfaFinishBody {
        /// The challenge token the login answered.
        pub mfa_token: String,
        /// From `/auth/passkeys/mfa/start`.
        pub ceremony_id: Uuid,
        /// `navigator.credentials.get()`'s credential as JSON.
        #[schema(value_type = Object)]
        pub credential: serde_json::Value,
    }
}
