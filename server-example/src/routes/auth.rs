//! `/auth/*` and the JWKS.

use auth_core::{LogoutScope, Registration};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

use crate::dto::*;
use crate::error::ApiError;
use crate::extract::{ApiJson, json_object};
use crate::state::AppState;
use auth_axum::{Authenticated, Client};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(jwks))
        .routes(routes!(openid_configuration))
}

/// Register an account.
#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterBody,
    responses(
        (status = 201, description = "Account created", body = UserDto),
        (status = 400, description = "A field broke a rule; the message names it", body = ErrorBody),
        (status = 409, description = "Login or email taken", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address; see Retry-After", body = ErrorBody),
    ))]
pub async fn register(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let user = s
        .auth
        .register(
            Registration {
                login: b.login,
                password: b.password,
                email: b.email,
                first_name: b.first_name,
                last_name: b.last_name,
            },
            &client,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Verify an email address with the code that was sent to it.
#[utoipa::path(post, path = "/auth/verify-email", tag = "auth", request_body = VerifyEmailBody,
    responses(
        (status = 204, description = "Email verified"),
        (status = 400, description = "Wrong or expired code; an unknown or already verified login answers the same", body = ErrorBody),
        (status = 429, description = "Too many attempts for this login or from this address; see Retry-After", body = ErrorBody),
    ))]
pub async fn verify_email(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<VerifyEmailBody>,
) -> Result<StatusCode, ApiError> {
    s.auth.verify_email(&b.login, &b.code, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a new verification code (the previous one stops working).
#[utoipa::path(post, path = "/auth/verify-email/resend", tag = "auth", request_body = ResendBody,
    responses(
        (status = 202, description = "A code is sent if the login has an unverified email; the answer is the same either way", body = AcceptedDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 429, description = "Asked again too soon for this login, or too often from this address; see Retry-After", body = ErrorBody),
    ))]
pub async fn resend_verification(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<ResendBody>,
) -> Result<(StatusCode, Json<AcceptedDto>), ApiError> {
    s.auth.resend_verification(&b.login, &client).await?;
    Ok(AcceptedDto::reply(
        "if the login has an unverified email, a new code is on its way",
    ))
}

/// Log in and get a token pair, or the challenge of a second factor.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "Token pair; for an account with a second factor, the MFA challenge to send to /auth/mfa/verify", body = LoginAnswer),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Invalid login or password", body = ErrorBody),
        (status = 403, description = "Blocked, or email not verified", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this login or address; see Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<LoginBody>,
) -> Result<Json<LoginAnswer>, ApiError> {
    match s.auth.login(&b.login, &b.password, client).await {
        Ok(pair) => Ok(Json(LoginAnswer::Tokens(pair.into()))),
        Err(auth_core::AuthError::MfaRequired(c)) => Ok(Json(LoginAnswer::Mfa(MfaChallengeDto {
            mfa_required: true,
            mfa_token: c.mfa_token,
            expires_in: c.expires_in,
        }))),
        Err(e) => Err(e.into()),
    }
}

/// Exchange a refresh token for a new pair (rotation).
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 200, description = "New token pair", body = TokenPairDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = ErrorBody),
        (status = 429, description = "Too many refreshes from this address; see Retry-After", body = ErrorBody),
    ))]
pub async fn refresh(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(b): ApiJson<RefreshBody>,
) -> Result<Json<TokenPairDto>, ApiError> {
    Ok(Json(
        s.auth.refresh(&b.refresh_token, &client).await?.into(),
    ))
}

/// Log out this session, every session, or every other session.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body(content = Option<LogoutBody>, description = "Optional; scope defaults to local"),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`session_required`: an API key cannot do this", body = ErrorBody),
    ))]
pub async fn logout(
    State(s): State<AppState>,
    Authenticated(who): Authenticated,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    // The body is optional: an empty one, or `null`, means the default scope.
    let text = body.trim_ascii();
    let b: LogoutBody = if text.is_empty() || text == b"null" {
        LogoutBody::default()
    } else {
        json_object(text)?
    };
    let scope = match b.scope.unwrap_or_default() {
        LogoutScopeDto::Local => LogoutScope::Local,
        LogoutScopeDto::Global => LogoutScope::Global,
        LogoutScopeDto::Others => LogoutScope::Others,
    };
    s.auth.logout(&who, scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public keys that verify access tokens: with rotation, the current key, the
/// next one and the retired ones. `Cache-Control: max-age` says how long a resource
/// server may keep it (`JWKS_MAX_AGE_SECS`); fetch again on an unknown `kid`.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, description = "JWK Set", body = JwksDto)))]
pub async fn jwks(
    State(s): State<AppState>,
) -> ([(axum::http::HeaderName, String); 1], Json<JwksDto>) {
    let max_age = s.auth.config().jwks_max_age().whole_seconds().max(0);
    (
        [(
            axum::http::header::CACHE_CONTROL,
            format!("public, max-age={max_age}"),
        )],
        Json(s.auth.jwks().into()),
    )
}

/// Where JWT middleware finds the keys by issuer (OpenID Connect Discovery 1.0, the
/// parts that apply to access tokens).
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "auth",
    responses((status = 200, description = "Discovery document", body = DiscoveryDto)))]
pub async fn openid_configuration(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Json<DiscoveryDto> {
    let keys = s.auth.keys();
    let issuer = keys.issuer().to_owned();
    let base = s
        .public_url
        .clone()
        .or_else(|| {
            issuer
                .starts_with("https://")
                .then(|| issuer.trim_end_matches('/').to_owned())
        })
        .unwrap_or_else(|| {
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        });
    let algorithm = keys.signing_key().map_or("EdDSA", |k| match k.algorithm() {
        auth_core::KeyAlgorithm::EdDSA => "EdDSA",
        auth_core::KeyAlgorithm::HS256 => "HS256",
    });
    Json(DiscoveryDto {
        issuer,
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        id_token_signing_alg_values_supported: vec![algorithm.to_owned()],
        subject_types_supported: vec!["public".to_owned()],
        claims_supported: auth_core::RESERVED_CLAIMS
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
    })
}

pub use wire::*;

/// The wire types of these routes; each derives its OpenAPI schema.
mod wire {

    use serde::{Deserialize, Serialize};

    use utoipa::ToSchema;

    /// The discovery document.
    #[derive(Serialize, ToSchema)]
    pub struct DiscoveryDto {
        /// The `iss` of every access token.
        pub issuer: String,
        /// The JWK Set of the verification keys.
        pub jwks_uri: String,
        /// Algorithms access tokens are signed with.
        pub id_token_signing_alg_values_supported: Vec<String>,
        /// Always `public`: `sub` is the user id.
        pub subject_types_supported: Vec<String>,
        /// Claims of the access tokens.
        pub claims_supported: Vec<String>,
    }

    /// Registration.
    #[derive(Deserialize, ToSchema)]
    pub struct RegisterBody {
        /// 2 to 64 Latin letters and digits.
        pub login: String,
        /// 8 to 128 characters with a lowercase, an uppercase, a digit and one of `!@#$%^&*()_+-=/.,`.
        pub password: String,
        /// Email address.
        #[serde(default)]
        #[schema(format = Email, max_length = 254)]
        pub email: Option<String>,
        /// 2 to 32 Latin letters and `-`.
        #[serde(default)]
        pub first_name: Option<String>,
        /// 2 to 32 Latin letters and `-`.
        #[serde(default)]
        pub last_name: Option<String>,
    }

    /// Email verification.
    #[derive(Deserialize, ToSchema)]
    pub struct VerifyEmailBody {
        /// Login.
        pub login: String,
        /// The 6-digit code.
        #[schema(pattern = "^[0-9]{6}$")]
        pub code: String,
    }

    /// A request for a new verification code.
    #[derive(Deserialize, ToSchema)]
    pub struct ResendBody {
        /// Login.
        pub login: String,
    }

    /// Credentials.
    #[derive(Deserialize, ToSchema)]
    pub struct LoginBody {
        /// Login.
        pub login: String,
        /// Password.
        pub password: String,
    }

    /// A refresh token.
    #[derive(Deserialize, ToSchema)]
    pub struct RefreshBody {
        /// The refresh token of the last pair.
        pub refresh_token: String,
    }

    /// Logout scope.
    #[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum LogoutScopeDto {
        /// This session.
        #[default]
        Local,
        /// Every session.
        Global,
        /// Every session but this one.
        Others,
    }

    /// Logout options.
    #[derive(Debug, Default, Deserialize, ToSchema)]
    pub struct LogoutBody {
        /// Which sessions to end; `local` by default.
        #[serde(default)]
        pub scope: Option<LogoutScopeDto>,
    }

    /// What a login answers.
    #[derive(Serialize, ToSchema)]
    #[serde(untagged)]
    pub enum LoginAnswer {
        /// Signed in.
        Tokens(TokenPairDto),
        /// The password was right; a second factor is needed.
        Mfa(MfaChallengeDto),
    }

    /// The challenge of a login that needs a second factor.
    #[derive(Serialize, ToSchema)]
    pub struct MfaChallengeDto {
        /// Always `true`.
        pub mfa_required: bool,
        /// Send it with a code to `/auth/mfa/verify`; valid for `expires_in` seconds.
        pub mfa_token: String,
        /// Seconds until the token expires.
        pub expires_in: i64,
    }

    /// An access token and a refresh token.
    #[derive(Serialize, ToSchema)]
    pub struct TokenPairDto {
        /// JWT access token.
        pub access_token: String,
        /// Always `Bearer`.
        pub token_type: String,
        /// Seconds until the access token expires.
        pub expires_in: i64,
        /// Opaque refresh token.
        pub refresh_token: String,
        /// Seconds until the session expires if not refreshed.
        pub refresh_expires_in: i64,
    }

    impl From<auth_core::TokenPair> for TokenPairDto {
        fn from(p: auth_core::TokenPair) -> Self {
            Self {
                access_token: p.access_token,
                token_type: p.token_type,
                expires_in: p.expires_in,
                refresh_token: p.refresh_token,
                refresh_expires_in: p.refresh_expires_in,
            }
        }
    }

    /// A public key.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct JwkDto {
        /// `OKP`.
        pub kty: String,
        /// `Ed25519`.
        pub crv: String,
        /// Base64url public key.
        pub x: String,
        /// Key id.
        pub kid: String,
        /// `EdDSA`.
        pub alg: String,
        /// `sig`.
        #[serde(rename = "use")]
        pub use_: String,
    }

    /// A JWK Set.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct JwksDto {
        /// The public verification keys.
        pub keys: Vec<JwkDto>,
    }

    impl From<auth_core::JwkSet> for JwksDto {
        fn from(s: auth_core::JwkSet) -> Self {
            Self {
                keys: s
                    .keys
                    .into_iter()
                    .map(|k| JwkDto {
                        kty: k.kty,
                        crv: k.crv,
                        x: k.x,
                        kid: k.kid,
                        alg: k.alg,
                        use_: k.use_,
                    })
                    .collect(),
            }
        }
    }
}
