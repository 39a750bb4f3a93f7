//! The claims of an access token.

use jsonwebtoken::Header;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ACCESS_TOKEN_TYPE, TokenError};

/// Claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// User id.
    pub sub: Uuid,
    /// Session id.
    pub sid: Uuid,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Unique token id.
    pub jti: Uuid,
    /// Not before, seconds since the epoch; honoured when present, never issued here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Role names at issue time.
    #[serde(default)]
    pub roles: Vec<String>,
    /// How the user signed in (RFC 8176): `["pwd"]`, or `["pwd", "otp"]` after a
    /// second factor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The application's own claims (see [`crate::AuthService::with_custom_claims`]):
    /// every other member of the payload. Names of the claims above are never here.
    #[serde(flatten)]
    pub custom: CustomClaims,
}

/// Claims an application adds to its access tokens, by name.
pub type CustomClaims = serde_json::Map<String, serde_json::Value>;

/// Claim names this crate writes itself; custom claims by these names are dropped.
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss", "aud", "sub", "sid", "iat", "exp", "jti", "nbf", "roles", "amr",
];

pub(super) fn check_typ(header: &Header) -> Result<(), TokenError> {
    let ok = header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if ok {
        Ok(())
    } else {
        Err(TokenError::WrongType)
    }
}
