//! The access-token verifier. Anything a client can send must be refused without a
//! panic; tokens carrying a valid signature over arbitrary header and payload bytes
//! (as if the signer were buggy) must still be checked claim by claim.
#![no_main]

use std::sync::LazyLock;

use auth_core::{Key, KeySet, TokenError};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzzing-secret-fuzzing-secret-32";
const ISS: &str = "https://issuer.test";
const AUD: &str = "api.test";
const LEEWAY: i64 = 30;

/// One HS256 key (the single-key path).
static SINGLE: LazyLock<KeySet> = LazyLock::new(|| {
    KeySet::new(
        Key::hs256("k1", SECRET).unwrap(),
        [],
        ISS,
        AUD,
        LEEWAY as u32,
    )
    .unwrap()
});
/// The same key among others (the lookup-by-kid path).
static ROTATED: LazyLock<KeySet> = LazyLock::new(|| {
    let old = Key::hs256("k0", b"an-older-secret-an-older-secret!").unwrap();
    let ed = Key::generate_ed25519().unwrap().verify_only();
    KeySet::new(
        Key::hs256("k1", SECRET).unwrap(),
        [old, ed],
        ISS,
        AUD,
        LEEWAY as u32,
    )
    .unwrap()
});
/// An Ed25519 key set: nothing the fuzzer signs with the HMAC secret may pass it.
static EDDSA: LazyLock<KeySet> = LazyLock::new(|| {
    KeySet::new(
        Key::generate_ed25519().unwrap(),
        [],
        ISS,
        AUD,
        LEEWAY as u32,
    )
    .unwrap()
});

#[derive(Debug, Arbitrary)]
enum Choice<'a> {
    Right,
    Other(&'a str),
}

#[derive(Debug, Arbitrary)]
enum Input<'a> {
    /// Whatever a client sends as a bearer token.
    Raw { token: &'a str, now: i64 },
    /// Arbitrary header and payload bytes under a valid signature.
    SignedBytes {
        header: &'a [u8],
        payload: &'a [u8],
        now: i64,
    },
    /// Well-formed claims with arbitrary values under a valid signature.
    SignedClaims {
        typ: Option<Choice<'a>>,
        kid: Option<Choice<'a>>,
        iss: Choice<'a>,
        aud: Choice<'a>,
        sub: [u8; 16],
        iat: i64,
        exp: i64,
        roles: Vec<&'a str>,
        now: i64,
    },
}

fn sign(header: &[u8], payload: &[u8]) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(tag.as_ref()));
    token
}

fn pick<'a>(choice: &Choice<'a>, right: &'a str) -> &'a str {
    match choice {
        Choice::Right => right,
        Choice::Other(s) => s,
    }
}

fn uuid(bytes: [u8; 16]) -> String {
    uuid::Uuid::from_bytes(bytes).to_string()
}

fn check(token: &str, now: i64) {
    assert!(
        EDDSA.verify(token, now).is_err(),
        "HMAC token passed an EdDSA key"
    );
    let single = SINGLE.verify(token, now);
    let rotated = ROTATED.verify(token, now);
    assert_eq!(single.is_ok(), rotated.is_ok(), "{single:?} vs {rotated:?}");
    if let Ok(claims) = single {
        assert_eq!(claims.iss, ISS);
        assert_eq!(claims.aud, AUD);
        assert!(i128::from(claims.exp) + i128::from(LEEWAY) > i128::from(now));
        assert!(i128::from(claims.iat) - i128::from(LEEWAY) <= i128::from(now));
    }
}

fuzz_target!(|input: Input<'_>| match input {
    Input::Raw { token, now } => {
        // Unsigned by us: only a forged HMAC could pass.
        assert!(SINGLE.verify(token, now).is_err());
        assert!(ROTATED.verify(token, now).is_err());
        assert!(EDDSA.verify(token, now).is_err());
    }
    Input::SignedBytes {
        header,
        payload,
        now,
    } => check(&sign(header, payload), now),
    Input::SignedClaims {
        typ,
        kid,
        iss,
        aud,
        sub,
        iat,
        exp,
        roles,
        now,
    } => {
        let mut header = serde_json::json!({ "alg": "HS256" });
        if let Some(typ) = &typ {
            header["typ"] = pick(typ, "at+jwt").into();
        }
        if let Some(kid) = &kid {
            header["kid"] = pick(kid, "k1").into();
        }
        let payload = serde_json::json!({
            "iss": pick(&iss, ISS),
            "aud": pick(&aud, AUD),
            "sub": uuid(sub),
            "sid": uuid(sub),
            "jti": uuid(sub),
            "iat": iat,
            "exp": exp,
            "roles": roles,
        });
        let token = sign(
            header.to_string().as_bytes(),
            payload.to_string().as_bytes(),
        );
        let well_formed = matches!(typ, Some(Choice::Right))
            && matches!(kid, Some(Choice::Right))
            && matches!(iss, Choice::Right)
            && matches!(aud, Choice::Right);
        // Timestamps before the epoch are refused outright (`exp` must be a NumericDate).
        let fresh = exp >= 0
            && iat >= 0
            && i128::from(exp) + i128::from(LEEWAY) > i128::from(now)
            && i128::from(iat) - i128::from(LEEWAY) <= i128::from(now);
        check(&token, now);
        if well_formed && fresh {
            let claims = SINGLE
                .verify(&token, now)
                .expect("a valid token is accepted");
            assert_eq!((claims.iat, claims.exp), (iat, exp));
        }
        if let Err(e) = SINGLE.verify(&token, now) {
            assert!(!(well_formed && fresh), "{e:?}");
            let _: TokenError = e;
        }
    }
});
