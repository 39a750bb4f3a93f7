//! The key set: signing with one key, verifying with all, the JWKS.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use super::claims::check_typ;
use super::key::*;
use super::{ACCESS_TOKEN_TYPE, AccessClaims, KeyError, TokenError};

/// A public key in a JWK Set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type (`OKP`).
    pub kty: String,
    /// Curve (`Ed25519`).
    pub crv: String,
    /// Base64url public key.
    pub x: String,
    /// Key id.
    pub kid: String,
    /// Algorithm (`EdDSA`).
    pub alg: String,
    /// Use (`sig`).
    #[serde(rename = "use")]
    pub use_: String,
}

/// A JWK Set (RFC 7517).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

struct Entry {
    key: Key,
    validation: Validation,
    /// The header of tokens this key signs, base64url-encoded once and followed by
    /// the `.` before the claims.
    encoded_header: String,
}

/// The keys of a service: one signs, all verify.
///
/// Rotation: load the new key as signing key and keep the old one as a verifying key
/// until the last token it signed has expired. A resource server that only checks
/// tokens holds a [`KeySet::verification_only`] set, from public keys or the issuer's
/// JWK Set ([`KeySet::from_jwks`]).
#[derive(Clone)]
pub struct KeySet {
    entries: Arc<HashMap<String, Entry>>,
    signing_kid: Option<String>,
    issuer: String,
    audience: String,
    leeway: i64,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("signing_kid", &self.signing_kid)
            .field("kids", &self.entries.keys().collect::<Vec<_>>())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

impl KeySet {
    /// A key set that signs with `signing` and checks `iss` and `aud`.
    /// `leeway_secs` is the clock skew tolerated on `exp` and `iat`.
    pub fn new(
        signing: Key,
        verifying: impl IntoIterator<Item = Key>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        leeway_secs: u32,
    ) -> Result<Self, KeyError> {
        if signing.signer.is_none() {
            return Err(KeyError::NoSigningKey);
        }
        let signing_kid = signing.kid.clone();
        let mut set = Self::build(
            std::iter::once(signing).chain(verifying),
            issuer,
            audience,
            leeway_secs,
        )?;
        set.signing_kid = Some(signing_kid);
        Ok(set)
    }

    /// A key set that only verifies (a resource server's): `keys` lose any signing
    /// half, and [`KeySet::sign`] answers [`KeyError::NoSigningKey`].
    ///
    /// Errors: [`KeyError::NoKey`] when `keys` is empty.
    pub fn verification_only(
        keys: impl IntoIterator<Item = Key>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        leeway_secs: u32,
    ) -> Result<Self, KeyError> {
        let keys = keys.into_iter().map(Key::verify_only);
        Self::build(keys, issuer, audience, leeway_secs)
    }

    /// A verification-only key set from the issuer's JWK Set (its
    /// `/.well-known/jwks.json`, parsed with serde). Keys of other kinds are skipped.
    ///
    /// Errors: [`KeyError::NoKey`] when the set has no Ed25519 key.
    pub fn from_jwks(
        jwks: &JwkSet,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        leeway_secs: u32,
    ) -> Result<Self, KeyError> {
        let keys: Vec<Key> = jwks
            .keys
            .iter()
            .filter_map(|jwk| Key::ed25519_public_from_jwk(jwk).ok())
            .collect();
        Self::verification_only(keys, issuer, audience, leeway_secs)
    }

    fn build(
        keys: impl IntoIterator<Item = Key>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        leeway_secs: u32,
    ) -> Result<Self, KeyError> {
        let issuer = issuer.into();
        let audience = audience.into();
        let mut entries = HashMap::new();
        for key in keys {
            let mut v = Validation::new(key.alg.jwt());
            v.set_issuer(&[&issuer]);
            v.set_audience(&[&audience]);
            v.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
            // Expiry is checked against the service's clock, not the system's.
            v.validate_exp = false;
            v.validate_nbf = false;
            v.leeway = 0;
            let mut header = Header::new(key.alg.jwt());
            header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
            header.kid = Some(key.kid.clone());
            let json = serde_json::to_vec(&header).map_err(|e| KeyError::Sign(e.to_string()))?;
            let encoded_header = format!("{}.", URL_SAFE_NO_PAD.encode(json));
            entries.entry(key.kid.clone()).or_insert(Entry {
                key,
                validation: v,
                encoded_header,
            });
        }
        if entries.is_empty() {
            return Err(KeyError::NoKey);
        }
        Ok(Self {
            entries: Arc::new(entries),
            signing_kid: None,
            issuer,
            audience,
            leeway: i64::from(leeway_secs),
        })
    }

    /// The issuer (`iss`) of tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience (`aud`) of tokens.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The keys of the set.
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.entries.values().map(|e| &e.key)
    }

    /// The key ids of the set.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Whether the set holds a key `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.entries.contains_key(kid)
    }

    /// The signing key; `None` in a verification-only set.
    pub fn signing_key(&self) -> Option<&Key> {
        Some(&self.entries.get(self.signing_kid.as_ref()?)?.key)
    }

    /// Signs claims with the signing key.
    ///
    /// Errors: [`KeyError::NoSigningKey`] in a verification-only set,
    /// [`KeyError::Sign`] if signing fails.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, KeyError> {
        let entry = self
            .signing_kid
            .as_ref()
            .and_then(|kid| self.entries.get(kid))
            .ok_or(KeyError::NoSigningKey)?;
        let signer = entry.key.signer.as_ref().ok_or(KeyError::NoSigningKey)?;
        // The JWS compact form (RFC 7515): header.claims, then its signature.
        let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Sign(e.to_string()))?;
        let mut token =
            String::with_capacity(entry.encoded_header.len() + payload.len() * 4 / 3 + 90);
        token.push_str(&entry.encoded_header);
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        signer.sign_onto(&mut token);
        Ok(token)
    }

    /// Clock skew tolerated on `exp` and `iat`, in seconds.
    pub fn leeway(&self) -> i64 {
        self.leeway
    }

    /// Verifies signature and claims of an access token at `now_unix` (seconds):
    /// `typ`, a known `kid` whose algorithm must match the header's, no `crit`
    /// extension, `iss`, `aud`, required claims, `exp` in the future, and `iat` and
    /// `nbf` (when present) not in the future.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<AccessClaims, TokenError> {
        // With one key (the common case) the header is parsed once, by `decode`, and
        // checked afterwards; with several, it is read first to pick the key by `kid`.
        let entry = if self.entries.len() == 1 {
            self.entries.values().next().expect("one entry")
        } else {
            let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
            check_typ(&header)?;
            header
                .kid
                .as_deref()
                .and_then(|kid| self.entries.get(kid))
                .ok_or(TokenError::UnknownKey)?
        };
        // The key pins the algorithm: a header naming another one is rejected by the
        // validation's algorithm list before any signature check.
        let data = match jsonwebtoken::decode::<AccessClaims>(
            token,
            &entry.key.decoding,
            &entry.validation,
        ) {
            Ok(d) => d,
            Err(e) => return Err(self.classify(token, entry, e)),
        };
        check_typ(&data.header)?;
        if data.header.kid.as_deref() != Some(entry.key.kid.as_str()) {
            return Err(TokenError::UnknownKey);
        }
        if data.header.crit.is_some() {
            return Err(TokenError::UnsupportedCritical);
        }
        let claims = data.claims;
        // Saturating: a signed token may carry any i64, and the checks must not wrap.
        if claims.exp.saturating_add(self.leeway) <= now_unix {
            return Err(TokenError::Expired);
        }
        let not_before = claims.nbf.unwrap_or(i64::MIN).max(claims.iat);
        if not_before.saturating_sub(self.leeway) > now_unix {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    /// Names the reason of a failed decode; only runs on the failure path.
    fn classify(&self, token: &str, entry: &Entry, e: jsonwebtoken::errors::Error) -> TokenError {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return TokenError::Malformed;
        };
        if let Err(t) = check_typ(&header) {
            return t;
        }
        if header.kid.as_deref() != Some(entry.key.kid.as_str()) {
            return TokenError::UnknownKey;
        }
        TokenError::Rejected(e.to_string())
    }

    /// The public verification keys as a JWK Set; symmetric keys are never included.
    pub fn jwks(&self) -> JwkSet {
        let mut keys: Vec<Jwk> = self
            .entries
            .values()
            .filter_map(|e| {
                e.key.public_x.as_ref().map(|x| Jwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    x: x.clone(),
                    kid: e.key.kid.clone(),
                    alg: "EdDSA".into(),
                    use_: "sig".into(),
                })
            })
            .collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        JwkSet { keys }
    }
}
