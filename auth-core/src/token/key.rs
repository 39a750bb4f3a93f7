//! One signing or verifying key.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::KeyError;
use super::keyset::Jwk;

/// The algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// Ed25519 signatures; public keys are published in the JWKS.
    EdDSA,
    /// HMAC-SHA256 with a shared secret; for single-service setups, never published.
    HS256,
}

impl KeyAlgorithm {
    pub(super) fn jwt(self) -> Algorithm {
        match self {
            KeyAlgorithm::EdDSA => Algorithm::EdDSA,
            KeyAlgorithm::HS256 => Algorithm::HS256,
        }
    }
}

/// One key: a `kid`, an algorithm, a verifying half and possibly a signing half.
#[derive(Clone)]
pub struct Key {
    pub(super) kid: String,
    pub(super) alg: KeyAlgorithm,
    pub(super) signer: Option<Signer>,
    pub(super) decoding: DecodingKey,
    /// Base64url Ed25519 public key, for the JWKS.
    pub(super) public_x: Option<String>,
    /// PKCS#8 DER of an Ed25519 private key, for saving generated keys.
    pub(super) pkcs8: Option<Arc<Vec<u8>>>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("can_sign", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

/// The signing half of a key, parsed once: signing a token then costs the signature
/// alone, not a parse of the private key (and, for Ed25519, the public key derived
/// from it again) per token, as `jsonwebtoken::encode` does.
#[derive(Clone)]
pub(super) enum Signer {
    Ed25519(Arc<Ed25519KeyPair>),
    Hs256(Arc<hmac::Key>),
}

impl Signer {
    /// Signs `message` (a JWS's `header.claims`) and appends `.` and the signature,
    /// base64url-encoded: the compact token.
    pub(super) fn sign_onto(&self, message: &mut String) {
        let (ed25519, hs256);
        let signature: &[u8] = match self {
            Signer::Ed25519(pair) => {
                ed25519 = pair.sign(message.as_bytes());
                ed25519.as_ref()
            }
            Signer::Hs256(key) => {
                hs256 = hmac::sign(key, message.as_bytes());
                hs256.as_ref()
            }
        };
        message.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, message);
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
            signer: Some(Signer::Ed25519(Arc::new(pair))),
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
            signer: None,
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
            signer: Some(Signer::Hs256(Arc::new(hmac::Key::new(
                hmac::HMAC_SHA256,
                secret,
            )))),
            decoding: DecodingKey::from_secret(secret),
            public_x: None,
            pkcs8: None,
        })
    }

    /// The same key without its signing half.
    pub fn verify_only(mut self) -> Self {
        self.signer = None;
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

    /// PKCS#8 DER of an Ed25519 private key; `None` for other keys. A secret.
    pub(crate) fn pkcs8_der(&self) -> Option<&[u8]> {
        self.pkcs8.as_deref().map(Vec::as_slice)
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
