//! The opaque refresh token: `base64url(version | session_id | counter | tag)`.

use std::fmt;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

const VERSION: u8 = 1;
const BODY_LEN: usize = 1 + 16 + 8;
const RAW_LEN: usize = BODY_LEN + 32;
/// Length of an encoded refresh token in characters.
pub const REFRESH_TOKEN_LEN: usize = (RAW_LEN * 4).div_ceil(3);

/// The secret behind refresh-token tags. `Debug` is redacted.
#[derive(Clone)]
pub struct RefreshSecret(Vec<u8>);

impl fmt::Debug for RefreshSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshSecret([redacted])")
    }
}

impl RefreshSecret {
    /// A secret from at least 32 bytes; `None` if shorter.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() >= 32).then(|| Self(bytes.to_vec()))
    }

    /// A new random 32-byte secret.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random source works");
        Self(bytes)
    }

    /// The raw bytes, to persist the secret. Handle as a secret.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

/// The service's MAC under its refresh secret: it tags refresh tokens (encode, decode)
/// and digests one-time codes and tokens before they are stored.
#[derive(Clone)]
pub struct TokenMac {
    key: hmac::Key,
}

impl fmt::Debug for TokenMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenMac([redacted])")
    }
}

impl TokenMac {
    /// The MAC keyed by `secret`.
    pub fn new(secret: &RefreshSecret) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret.0),
        }
    }

    /// The token for `session_id` at `counter`. The same inputs give the same token,
    /// which is what lets a retry inside the grace window get the token the first
    /// caller got.
    pub fn encode(&self, session_id: Uuid, counter: u64) -> String {
        let mut raw = [0u8; RAW_LEN];
        raw[0] = VERSION;
        raw[1..17].copy_from_slice(session_id.as_bytes());
        raw[17..25].copy_from_slice(&counter.to_be_bytes());
        let tag = hmac::sign(&self.key, &raw[..BODY_LEN]);
        raw[BODY_LEN..].copy_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Decodes a token and checks its tag in constant time; `None` for anything that
    /// is not a token this codec made.
    pub fn decode(&self, token: &str) -> Option<(Uuid, u64)> {
        if token.len() != REFRESH_TOKEN_LEN {
            return None;
        }
        let mut raw = [0u8; RAW_LEN];
        let n = URL_SAFE_NO_PAD.decode_slice(token, &mut raw).ok()?;
        if n != RAW_LEN || raw[0] != VERSION {
            return None;
        }
        hmac::verify(&self.key, &raw[..BODY_LEN], &raw[BODY_LEN..]).ok()?;
        let session_id = Uuid::from_bytes(raw[1..17].try_into().ok()?);
        let counter = u64::from_be_bytes(raw[17..25].try_into().ok()?);
        Some((session_id, counter))
    }

    /// A keyed digest of `data` under a domain-separation `label`; used to store
    /// verification codes without storing the codes.
    pub fn digest(&self, label: &str, data: &[u8]) -> Vec<u8> {
        self.tag(label, data).as_ref().to_vec()
    }

    /// Compares a digest made by [`TokenMac::digest`] in constant time.
    pub fn digest_matches(&self, label: &str, data: &[u8], expected: &[u8]) -> bool {
        let actual = self.tag(label, data);
        aws_lc_rs::constant_time::verify_slices_are_equal(actual.as_ref(), expected).is_ok()
    }

    fn tag(&self, label: &str, data: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(label.as_bytes());
        ctx.update(&[0]);
        ctx.update(data);
        ctx.sign()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codec() -> TokenMac {
        TokenMac::new(&RefreshSecret::from_bytes(&[7u8; 32]).unwrap())
    }

    #[test]
    fn round_trips_session_and_counter() {
        let sid = Uuid::new_v4();
        let t = codec().encode(sid, 42);
        assert_eq!(t.len(), REFRESH_TOKEN_LEN);
        assert_eq!(codec().decode(&t), Some((sid, 42)));
    }

    #[test]
    fn a_flipped_bit_anywhere_is_rejected() {
        let c = codec();
        let t = c.encode(Uuid::new_v4(), 3);
        let raw = URL_SAFE_NO_PAD.decode(&t).unwrap();
        for byte in 0..raw.len() {
            for bit in 0..8 {
                let mut bad = raw.clone();
                bad[byte] ^= 1 << bit;
                assert_eq!(
                    c.decode(&URL_SAFE_NO_PAD.encode(&bad)),
                    None,
                    "{byte}:{bit}"
                );
            }
        }
    }

    #[test]
    fn another_secret_rejects_the_token() {
        let t = codec().encode(Uuid::new_v4(), 0);
        let other = TokenMac::new(&RefreshSecret::from_bytes(&[8u8; 32]).unwrap());
        assert_eq!(other.decode(&t), None);
    }

    #[test]
    fn short_secrets_are_refused_and_debug_is_redacted() {
        assert!(RefreshSecret::from_bytes(&[1u8; 31]).is_none());
        let s = RefreshSecret::from_bytes(&[0xAB; 32]).unwrap();
        assert!(!format!("{s:?}").contains("171"));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_text_never_panics(s in ".{0,200}") {
            let _ = codec().decode(&s);
        }

        #[test]
        fn decoding_token_shaped_garbage_never_accepts(s in "[A-Za-z0-9_-]{76}") {
            prop_assert_eq!(codec().decode(&s), None);
        }
    }
}
