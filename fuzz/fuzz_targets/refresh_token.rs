//! The refresh-token decoder: any text must decode to `None` or to the session and
//! counter of a token this codec made, and an edited token must never decode.
#![no_main]

use std::sync::LazyLock;

use auth_core::RefreshSecret;
use auth_core::testkit::TokenMac;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

static CODEC: LazyLock<TokenMac> =
    LazyLock::new(|| TokenMac::new(&RefreshSecret::from_bytes(&[0x5a; 32]).expect("32 bytes")));

#[derive(Debug, Arbitrary)]
enum Input<'a> {
    /// Whatever a client sends as a refresh token.
    Raw(&'a str),
    /// A genuine token with bytes overwritten: `(position, byte)` pairs.
    Edited {
        session: [u8; 16],
        counter: u64,
        edits: Vec<(u8, u8)>,
    },
}

fuzz_target!(|input: Input<'_>| match input {
    Input::Raw(text) => {
        if let Some((session, counter)) = CODEC.decode(text) {
            // Only the codec's own, canonical encoding is accepted.
            assert_eq!(CODEC.encode(session, counter), text);
        }
    }
    Input::Edited {
        session,
        counter,
        edits,
    } => {
        let session = Uuid::from_bytes(session);
        let token = CODEC.encode(session, counter);
        assert_eq!(CODEC.decode(&token), Some((session, counter)));
        let mut bytes = token.clone().into_bytes();
        for (at, byte) in edits {
            let at = usize::from(at) % bytes.len();
            bytes[at] = byte;
        }
        let edited = String::from_utf8_lossy(&bytes);
        let decoded = CODEC.decode(&edited);
        if edited == token {
            assert_eq!(decoded, Some((session, counter)));
        } else {
            assert_eq!(decoded, None, "an edited token was accepted: {edited}");
        }
    }
});
