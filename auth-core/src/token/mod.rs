//! JWT access tokens: their claims ([`AccessClaims`]), keys ([`Key`]) and the key set
//! that signs, verifies and publishes them with rotation ([`KeySet`]).

mod claims;
mod key;
mod keyset;
mod remote;

pub use claims::{AccessClaims, CustomClaims, RESERVED_CLAIMS};
pub use key::{Key, KeyAlgorithm};
pub use keyset::{Jwk, JwkSet, KeySet};
#[cfg(feature = "remote-jwks")]
pub use remote::ReqwestFetch;
pub use remote::{Fetched, JwksFetch, JwksSource, RemoteKeys, RemoteKeysConfig, RemoteKeysError};

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

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use proptest::prelude::*;
    use uuid::Uuid;

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
