//! JWT access tokens: a key set with rotation, issuing, verification and JWKS.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `typ` header of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Errors loading or creating keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM or DER input is not a key of the expected kind.
    #[error("invalid key material: {0}")]
    Invalid(&'static str),
    /// The HMAC secret is shorter than 32 bytes.
    #[error("HS256 secrets must be at least 32 bytes")]
    WeakSecret,
    /// Random generation failed.
    #[error("key generation failed")]
    Generation,
    /// No signing key in the key set.
    #[error("the key set has no signing key")]
    NoSigningKey,
    /// A key set needs at least one key.
    #[error("the key set has no key")]
    NoKey,
    /// Signing failed (the claims did not serialize, say).
    #[error("signing failed: {0}")]
    Sign(String),
    /// A key or secret file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Why an access token was rejected. Shown in logs only; clients get one answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a JWT, or header/claims do not parse.
    #[error("malformed token")]
    Malformed,
    /// `typ` is not `at+jwt`.
    #[error("wrong token type")]
    WrongType,
    /// `kid` missing or not in the key set.
    #[error("unknown key id")]
    UnknownKey,
    /// Signature, algorithm, issuer, audience or required claims failed.
    #[error("token rejected: {0}")]
    Rejected(String),
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `iat` or `nbf` lies in the future.
    #[error("token issued in the future or not valid yet")]
    NotYetValid,
    /// The header lists `crit` extensions, none of which this verifier implements
    /// (RFC 7515 4.1.11: such a token must be refused).
    #[error("token requires an unsupported critical extension")]
    UnsupportedCritical,
}

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

fn check_typ(header: &Header) -> Result<(), TokenError> {
    let ok = header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if ok {
        Ok(())
    } else {
        Err(TokenError::WrongType)
    }
}

/// The algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// Ed25519 signatures; public keys are published in the JWKS.
    EdDSA,
    /// HMAC-SHA256 with a shared secret; for single-service setups, never published.
    HS256,
}

impl KeyAlgorithm {
    fn jwt(self) -> Algorithm {
        match self {
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
            KeyAlgorithm::HS256 => Algorithm::HS256,
        }
    }
}

/// One key: a `kid`, an algorithm, a verifying half and possibly a signing half.
#[derive(Clone)]
pub struct Key {
    kid: String,
    alg: KeyAlgorithm,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
    /// Base64url Ed25519 public key, for the JWKS.
    public_x: Option<String>,
    /// PKCS#8 DER of an Ed25519 private key, for saving generated keys.
    pkcs8: Option<Arc<Vec<u8>>>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("can_sign", &self.encoding.is_some())
            .finish_non_exhaustive()
    }
}

fn ed25519_thumbprint(x: &str) -> String {
    // RFC 7638 thumbprint of the public JWK: a stable kid that reveals nothing new.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or(KeyError::Invalid("PEM label"))? + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or(KeyError::Invalid("PEM end"))?
        + start;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|_| KeyError::Invalid("PEM base64"))
}

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

impl Key {
    /// A new random Ed25519 signing key; its `kid` is its RFC 7638 thumbprint.
    pub fn generate_ed25519() -> Result<Self, KeyError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
            .map_err(|_| KeyError::Generation)?;
        Self::ed25519_from_pkcs8_der(doc.as_ref())
    }

    /// An Ed25519 signing key from PKCS#8 DER (v1 or v2).
    pub fn ed25519_from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|_| KeyError::Invalid("Ed25519 PKCS#8"))?;
        // Normalise to v2 (with public key), the form the signer accepts.
        let v2 = pair
            .to_pkcs8()
            .map_err(|_| KeyError::Invalid("Ed25519 PKCS#8"))?;
        let raw = pair.public_key().as_ref().to_vec();
        let x = URL_SAFE_NO_PAD.encode(&raw);
        Ok(Self {
            kid: ed25519_thumbprint(&x),
            alg: KeyAlgorithm::EdDSA,
            encoding: Some(EncodingKey::from_ed_der(v2.as_ref())),
            decoding: DecodingKey::from_ed_der(&raw),
            public_x: Some(x),
            pkcs8: Some(Arc::new(v2.as_ref().to_vec())),
        })
    }

    /// An Ed25519 signing key from a `PRIVATE KEY` PEM (PKCS#8), as written by
    /// `openssl genpkey -algorithm ed25519`.
    pub fn ed25519_from_pem(pem: &str) -> Result<Self, KeyError> {
        Self::ed25519_from_pkcs8_der(&pem_body(pem, "PRIVATE KEY")?)
    }

    /// A verify-only Ed25519 key from a `PUBLIC KEY` PEM (SubjectPublicKeyInfo): a
    /// retired key whose tokens stay valid until they expire.
    pub fn ed25519_public_from_pem(pem: &str) -> Result<Self, KeyError> {
        let der = pem_body(pem, "PUBLIC KEY")?;
        let raw = der
            .strip_prefix(&ED25519_SPKI_PREFIX[..])
            .ok_or(KeyError::Invalid("Ed25519 public key"))?;
        Self::ed25519_public(raw, None)
    }

    /// A verify-only Ed25519 key from a JWK of the issuer's JWK Set (`kty` `OKP`, `crv`
    /// `Ed25519`), under the JWK's own `kid`.
    pub fn ed25519_public_from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" || jwk.alg != "EdDSA" {
            return Err(KeyError::Invalid(
                "an Ed25519 JWK (kty OKP, crv Ed25519, alg EdDSA)",
            ));
        }
        let raw = URL_SAFE_NO_PAD
            .decode(&jwk.x)
            .map_err(|_| KeyError::Invalid("JWK x is not base64url"))?;
        Self::ed25519_public(&raw, Some(jwk.kid.clone()))
    }

    fn ed25519_public(raw: &[u8], kid: Option<String>) -> Result<Self, KeyError> {
        if raw.len() != 32 {
            return Err(KeyError::Invalid("Ed25519 public key"));
        }
        let x = URL_SAFE_NO_PAD.encode(raw);
        Ok(Self {
            kid: kid.unwrap_or_else(|| ed25519_thumbprint(&x)),
            alg: KeyAlgorithm::EdDSA,
            encoding: None,
            decoding: DecodingKey::from_ed_der(raw),
            public_x: Some(x),
            pkcs8: None,
        })
    }

    /// An HS256 key from a secret of at least 32 bytes, with the given `kid`.
    pub fn hs256(kid: impl Into<String>, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::WeakSecret);
        }
        Ok(Self {
            kid: kid.into(),
            alg: KeyAlgorithm::HS256,
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            public_x: None,
            pkcs8: None,
        })
    }

    /// The same key without its signing half.
    pub fn verify_only(mut self) -> Self {
        self.encoding = None;
        self.pkcs8 = None;
        self
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm: lets an application that loads keys from files check what it
    /// loaded (refuse a symmetric key where only public-key tokens are wanted, say).
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// PKCS#8 PEM of an Ed25519 private key, to save a generated key; `None` for other
    /// keys. Handle the result as a secret.
    pub fn to_pkcs8_pem(&self) -> Option<String> {
        let der = self.pkcs8.as_ref()?;
        let b64 = STANDARD.encode(der.as_slice());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Some(pem)
    }
}

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
    /// Header of tokens this key signs, built once.
    header: Header,
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
        if signing.encoding.is_none() {
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
            entries.entry(key.kid.clone()).or_insert(Entry {
                key,
                validation: v,
                header,
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
        let enc = entry.key.encoding.as_ref().ok_or(KeyError::NoSigningKey)?;
        jsonwebtoken::encode(&entry.header, claims, enc).map_err(|e| KeyError::Sign(e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keyset() -> KeySet {
        KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap()
    }

    fn claims(iat: i64, exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "iss".into(),
            aud: "aud".into(),
            sub: Uuid::nil(),
            sid: Uuid::nil(),
            iat,
            exp,
            jti: Uuid::nil(),
            nbf: None,
            roles: vec![],
            amr: vec![],
            custom: CustomClaims::new(),
        }
    }

    fn keyset_with_leeway(leeway: u32) -> KeySet {
        KeySet::new(Key::hs256("k", &[7; 32]).unwrap(), [], "iss", "aud", leeway).unwrap()
    }

    // Found by the `access_token` fuzz target: `iat - leeway` overflowed (a panic with
    // overflow checks on, a wrapped comparison without).
    #[test]
    fn extreme_timestamps_are_checked_without_overflow() {
        let keys = keyset_with_leeway(30);
        let oldest = keys.sign(&claims(i64::MIN, 200)).unwrap();
        assert_eq!(keys.verify(&oldest, 150).unwrap().iat, i64::MIN);
        let forever = keys.sign(&claims(100, i64::MAX)).unwrap();
        assert_eq!(keys.verify(&forever, i64::MAX - 1).unwrap().exp, i64::MAX);
        let future = keys.sign(&claims(i64::MAX, i64::MAX)).unwrap();
        assert_eq!(keys.verify(&future, 0), Err(TokenError::NotYetValid));
        let expired = keys.sign(&claims(0, 10)).unwrap();
        assert_eq!(keys.verify(&expired, i64::MAX), Err(TokenError::Expired));
        assert_eq!(
            keys.verify(&expired, i64::MIN),
            Err(TokenError::NotYetValid)
        );
    }

    /// Signs `claims` with the HS256 key of `keyset_with_leeway` under `header`.
    fn sign_with_header(header: Header, claims: &AccessClaims) -> String {
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(&[7; 32])).unwrap()
    }

    fn hs256_header() -> Header {
        let mut h = Header::new(Algorithm::HS256);
        h.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        h.kid = Some("k".into());
        h
    }

    #[test]
    fn a_token_with_a_critical_extension_is_refused() {
        let keys = keyset_with_leeway(0);
        let plain = sign_with_header(hs256_header(), &claims(100, 200));
        assert!(
            keys.verify(&plain, 150).is_ok(),
            "the control token verifies"
        );
        for crit in [vec!["x-unknown".to_owned()], vec!["b64".to_owned()], vec![]] {
            let header = Header {
                crit: Some(crit),
                ..hs256_header()
            };
            let token = sign_with_header(header, &claims(100, 200));
            assert_eq!(
                keys.verify(&token, 150),
                Err(TokenError::UnsupportedCritical)
            );
        }
    }

    #[test]
    fn not_before_is_honoured_when_present() {
        let keys = keyset_with_leeway(5);
        let later = AccessClaims {
            nbf: Some(160),
            ..claims(100, 300)
        };
        let token = sign_with_header(hs256_header(), &later);
        assert_eq!(keys.verify(&token, 150), Err(TokenError::NotYetValid));
        // The leeway applies to nbf as to iat.
        assert_eq!(keys.verify(&token, 155).unwrap().nbf, Some(160));
        assert!(keys.verify(&token, 200).is_ok());
        // An nbf far in the past changes nothing.
        let past = AccessClaims {
            nbf: Some(i64::MIN),
            ..claims(100, 300)
        };
        let token = sign_with_header(hs256_header(), &past);
        assert!(keys.verify(&token, 150).is_ok());
    }

    #[test]
    fn a_resource_server_verifies_with_the_issuers_jwks_alone() {
        let issuer = keyset();
        let token = issuer.sign(&claims(100, 200)).unwrap();
        // The JWKS as a resource server fetches it: JSON, parsed with serde.
        let json = serde_json::to_string(&issuer.jwks()).unwrap();
        let jwks: JwkSet = serde_json::from_str(&json).unwrap();
        let server = KeySet::from_jwks(&jwks, "iss", "aud", 0).unwrap();
        assert_eq!(server.verify(&token, 150).unwrap().sub, Uuid::nil());
        assert!(server.signing_key().is_none());
        assert!(matches!(
            server.sign(&claims(100, 200)),
            Err(KeyError::NoSigningKey)
        ));
        // Another issuer's token does not verify; nor does anything without keys.
        let other = keyset().sign(&claims(100, 200)).unwrap();
        assert_eq!(server.verify(&other, 150), Err(TokenError::UnknownKey));
        let empty = JwkSet { keys: vec![] };
        assert!(matches!(
            KeySet::from_jwks(&empty, "iss", "aud", 0),
            Err(KeyError::NoKey)
        ));
        // A verification-only set from keys drops their signing halves.
        let signing = Key::generate_ed25519().unwrap();
        let only = KeySet::verification_only([signing], "iss", "aud", 0).unwrap();
        assert!(matches!(
            only.sign(&claims(100, 200)),
            Err(KeyError::NoSigningKey)
        ));
    }

    // From the same fuzz target: `exp` must be a NumericDate, so a negative one is
    // refused as missing even while `now` is before it.
    #[test]
    fn negative_expiry_is_refused() {
        let keys = keyset_with_leeway(30);
        let token = keys.sign(&claims(-16963, -1)).unwrap();
        assert!(matches!(
            keys.verify(&token, -100),
            Err(TokenError::Rejected(_))
        ));
    }

    proptest! {
        #[test]
        fn verifying_arbitrary_text_never_panics_or_accepts(s in ".{0,400}") {
            prop_assert!(keyset().verify(&s, 0).is_err());
        }

        #[test]
        fn verifying_jwt_shaped_garbage_never_panics_or_accepts(
            h in "[A-Za-z0-9_-]{0,80}", c in "[A-Za-z0-9_-]{0,200}", s in "[A-Za-z0-9_-]{0,90}"
        ) {
            let token = format!("{h}.{c}.{s}");
            prop_assert!(keyset().verify(&token, 0).is_err());
        }

        #[test]
        fn mutating_one_character_of_a_valid_token_rejects_it(pos in 0usize..1000, ch in "[A-Za-z0-9_.-]") {
            let keys = keyset();
            let claims = AccessClaims {
                iss: "iss".into(), aud: "aud".into(), sub: Uuid::nil(), sid: Uuid::nil(),
                iat: 100, exp: 200, jti: Uuid::nil(), nbf: None, roles: vec![], amr: vec![], custom: CustomClaims::new(),
            };
            let token = keys.sign(&claims).unwrap();
            let pos = pos % token.len();
            let mut bytes = token.clone().into_bytes();
            bytes[pos] = ch.as_bytes()[0];
            let mutated = String::from_utf8(bytes).unwrap();
            prop_assume!(mutated != token);
            // Base64 padding bits can make two encodings decode equal; anything that
            // still verifies must carry exactly the signed claims.
            if let Ok(c) = keys.verify(&mutated, 150) {
                prop_assert_eq!(c, claims);
            }
        }
    }
}
