//! The `/exchangeRate/{pair}` path segment parser: it accepts exactly six uppercase
//! ASCII letters naming two different codes, and never panics.
#![no_main]

use exchange_core::{CurrencyCode, CurrencyPair, ExchangeError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let parsed = CurrencyPair::parse(raw);
    let well_formed = raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_uppercase());
    match parsed {
        Ok(pair) => {
            assert!(well_formed, "accepted {raw:?}");
            assert_ne!(pair.base, pair.target);
            assert_eq!(format!("{}{}", pair.base, pair.target), raw);
            assert_eq!(CurrencyCode::parse(&raw[..3]).ok(), Some(pair.base));
        }
        Err(ExchangeError::SameCurrency) => {
            assert!(well_formed && raw[..3] == raw[3..], "{raw:?}");
        }
        Err(ExchangeError::Validation(_)) => assert!(!well_formed, "refused {raw:?}"),
        Err(other) => panic!("unexpected error for {raw:?}: {other:?}"),
    }
});
