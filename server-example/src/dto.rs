//! Wire types of the HTTP contract; each derives its OpenAPI schema, so the document
//! describes exactly what is sent.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};
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

/// Error body of `/kv/read` when keys are missing.
#[derive(Debug, Serialize, ToSchema)]
pub struct MissingKeysBody {
    /// A human-readable sentence.
    pub message: String,
    /// Always `keys_not_found`.
    pub code: String,
    /// The keys that do not exist.
    pub missing: Vec<String>,
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
            roles: u.roles,
            status: u.status.as_str(),
            email_verified: u.email_verified,
            created_at: u.created_at,
        }
    }
}

/// An access token and a refresh token.
#[derive(Serialize, ToSchema)]
pub struct TokenPairDto {
    /// JWT access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
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
            name: r.name,
            description: r.description,
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

/// Registration.
#[derive(Deserialize, ToSchema)]
pub struct RegisterBody {
    /// 2 to 64 Latin letters and digits.
    #[schema(pattern = "^[A-Za-z0-9]{2,64}$")]
    pub login: String,
    /// 8 to 128 characters with a lowercase, an uppercase, a digit and one of `!@#$%^&*()_+-=/.,`.
    #[schema(
        min_length = 8,
        max_length = 128,
        pattern = "^(?=[\\s\\S]*[a-z])(?=[\\s\\S]*[A-Z])(?=[\\s\\S]*[0-9])(?=[\\s\\S]*[!@#$%^&*()_+=/.,-])[\\s\\S]{8,128}$"
    )]
    pub password: String,
    /// Email address.
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// 2 to 32 Latin letters and `-`.
    #[serde(default)]
    #[schema(
        pattern = "^[A-Za-z-]*[A-Za-z][A-Za-z-]*$",
        min_length = 2,
        max_length = 32
    )]
    pub first_name: Option<String>,
    /// 2 to 32 Latin letters and `-`.
    #[serde(default)]
    #[schema(
        pattern = "^[A-Za-z-]*[A-Za-z][A-Za-z-]*$",
        min_length = 2,
        max_length = 32
    )]
    pub last_name: Option<String>,
}

/// Email verification.
#[derive(Deserialize, ToSchema)]
pub struct VerifyEmailBody {
    /// Login.
    #[schema(pattern = "^[A-Za-z0-9]{2,64}$")]
    pub login: String,
    /// The 6-digit code.
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: String,
}

/// A request for a new verification code.
#[derive(Deserialize, ToSchema)]
pub struct ResendBody {
    /// Login.
    #[schema(pattern = "^[A-Za-z0-9]{2,64}$")]
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

/// A profile change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ProfileBody {
    /// New email (must be verified again).
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// New first name: 2 to 32 Latin letters and `-`.
    #[serde(default)]
    #[schema(
        pattern = "^[A-Za-z-]*[A-Za-z][A-Za-z-]*$",
        min_length = 2,
        max_length = 32
    )]
    pub first_name: Option<String>,
    /// New last name: 2 to 32 Latin letters and `-`.
    #[serde(default)]
    #[schema(
        pattern = "^[A-Za-z-]*[A-Za-z][A-Za-z-]*$",
        min_length = 2,
        max_length = 32
    )]
    pub last_name: Option<String>,
}

/// An administrative user change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AdminUserBody {
    /// New email.
    #[serde(default)]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    /// New first name: 2 to 32 Latin letters and `-`.
    #[serde(default)]
    #[schema(
        pattern = "^[A-Za-z-]*[A-Za-z][A-Za-z-]*$",
        min_length = 2,
        max_length = 32
    )]
    pub first_name: Option<String>,
    /// New last name: 2 to 32 Latin letters and `-`.
    #[serde(default)]
    #[schema(
        pattern = "^[A-Za-z-]*[A-Za-z][A-Za-z-]*$",
        min_length = 2,
        max_length = 32
    )]
    pub last_name: Option<String>,
    /// Mark the email verified or not.
    #[serde(default)]
    pub email_verified: Option<bool>,
}

/// A password change.
#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    /// The current password.
    pub current_password: String,
    /// The new password, following the registration rules.
    #[schema(
        min_length = 8,
        max_length = 128,
        pattern = "^(?=[\\s\\S]*[a-z])(?=[\\s\\S]*[A-Z])(?=[\\s\\S]*[0-9])(?=[\\s\\S]*[!@#$%^&*()_+=/.,-])[\\s\\S]{8,128}$"
    )]
    pub new_password: String,
}

/// A new role.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleBody {
    /// Lowercase letters, digits, `_` and `-`.
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub name: String,
    /// Free text: at most 256 characters, no control characters; trimmed.
    #[serde(default)]
    #[schema(max_length = 256, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub description: Option<String>,
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
        return Err(crate::error::ApiError::new(
            crate::error::ErrorCode::InvalidQuery,
            format!("offset must be at most {}", i64::MAX),
        ));
    }
    Ok(offset)
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

fn exact<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    rust_decimal::serde::arbitrary_precision::serialize(d, s)
}

/// A currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyDto {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Three uppercase letters.
    pub code: String,
    /// Symbol.
    pub sign: String,
}

impl From<exchange_core::Currency> for CurrencyDto {
    fn from(c: exchange_core::Currency) -> Self {
        Self {
            id: c.id,
            name: c.name,
            code: c.code.to_string(),
            sign: c.sign,
        }
    }
}

/// An exchange rate.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRateDto {
    /// Id.
    pub id: i64,
    /// Base currency.
    pub base_currency: CurrencyDto,
    /// Target currency.
    pub target_currency: CurrencyDto,
    /// Units of target per unit of base, an exact decimal number.
    #[serde(serialize_with = "exact")]
    #[schema(value_type = f64)]
    pub rate: Decimal,
}

impl From<exchange_core::ExchangeRate> for ExchangeRateDto {
    fn from(r: exchange_core::ExchangeRate) -> Self {
        Self {
            id: r.id,
            base_currency: r.base_currency.into(),
            target_currency: r.target_currency.into(),
            rate: r.rate,
        }
    }
}

/// A conversion.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionDto {
    /// From.
    pub base_currency: CurrencyDto,
    /// To.
    pub target_currency: CurrencyDto,
    /// Rate used, rounded to 6 places.
    #[serde(serialize_with = "exact")]
    #[schema(value_type = f64)]
    pub rate: Decimal,
    /// Amount given.
    #[serde(serialize_with = "exact")]
    #[schema(value_type = f64)]
    pub amount: Decimal,
    /// Converted amount, rounded half away from zero to 2 places.
    #[serde(serialize_with = "exact")]
    #[schema(value_type = f64)]
    pub converted_amount: Decimal,
}

impl From<exchange_core::Conversion> for ConversionDto {
    fn from(c: exchange_core::Conversion) -> Self {
        Self {
            base_currency: c.base_currency.into(),
            target_currency: c.target_currency.into(),
            rate: c.rate,
            amount: c.amount,
            converted_amount: c.converted_amount,
        }
    }
}

/// A new currency (form or JSON).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CurrencyForm {
    /// Name.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$", max_length = 64)]
    pub name: Option<String>,
    /// Three uppercase letters.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[A-Z]{3}$")]
    pub code: Option<String>,
    /// Symbol.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$", max_length = 8)]
    pub sign: Option<String>,
}

/// A new exchange rate (form or JSON; `rate` may be a JSON number or a string).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateForm {
    /// Base currency code.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[A-Z]{3}$")]
    pub base_currency_code: Option<String>,
    /// Target currency code.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[A-Z]{3}$")]
    pub target_currency_code: Option<String>,
    /// Positive decimal.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[0-9]{0,13}(\\.[0-9]{1,12})?$", example = "0.99")]
    pub rate: Option<serde_json::Value>,
}

/// A rate change (form or JSON).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RatePatchForm {
    /// Positive decimal.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[0-9]{0,13}(\\.[0-9]{1,12})?$", example = "0.99")]
    pub rate: Option<serde_json::Value>,
}

/// Conversion parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExchangeQuery {
    /// Source currency code.
    #[param(required = true, value_type = String, pattern = "^[A-Z]{3}$")]
    pub from: Option<String>,
    /// Target currency code.
    #[param(required = true, value_type = String, pattern = "^[A-Z]{3}$")]
    pub to: Option<String>,
    /// Positive decimal amount, at most 10^15 with at most 12 fraction digits.
    #[param(required = true, value_type = String, pattern = "^[0-9]{0,16}(\\.[0-9]{1,12})?$")]
    pub amount: Option<String>,
}

/// Values to store under the caller's namespace.
#[derive(Debug, Deserialize, ToSchema)]
pub struct KvWriteBody {
    /// Key (1 to 256 bytes) to any JSON value (at most 64 KiB); at most 1000 keys.
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// What a write did.
#[derive(Debug, Serialize, ToSchema)]
pub struct KvWriteResult {
    /// Keys stored by this call.
    pub written: Vec<String>,
    /// Keys that already existed and were left as they were.
    pub skipped: Vec<String>,
}

/// Keys to read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct KvReadBody {
    /// Distinct keys, each 1 to 256 bytes; at most 1000.
    #[schema(min_items = 1, max_items = 1000)]
    pub keys: Vec<String>,
}

/// Values read.
#[derive(Debug, Serialize, ToSchema)]
pub struct KvReadResult {
    /// Key to value.
    #[schema(value_type = Object)]
    pub data: BTreeMap<String, serde_json::Value>,
}
