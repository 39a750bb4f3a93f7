//! Currency codes, rates and amounts: each parser agrees with an independent reading
//! of its rule, round-trips what it accepts, and never panics.
#![no_main]

use exchange_core::{Amount, CurrencyCode, NewCurrency, Rate};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    text: &'a str,
    name: &'a str,
    sign: &'a str,
}

/// Whether `raw` is a plain decimal in (0, 10^max_exp] with at most 12 fraction
/// digits, decided on the digits alone.
fn expected_ok(raw: &str, max_exp: usize) -> bool {
    let s = raw.trim();
    if s.is_empty()
        || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        || s.bytes().filter(|&b| b == b'.').count() > 1
        || !s.bytes().any(|b| b.is_ascii_digit())
    {
        return false;
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 12 {
        return false;
    }
    let int = int.trim_start_matches('0');
    let frac_nonzero = frac.bytes().any(|b| b != b'0');
    if int.is_empty() {
        return frac_nonzero;
    }
    // 10^max_exp has max_exp + 1 digits: at most that, and equal only without a fraction.
    match int.len().cmp(&(max_exp + 1)) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Equal => {
            int.as_bytes()[0] == b'1' && int[1..].bytes().all(|b| b == b'0') && !frac_nonzero
        }
        std::cmp::Ordering::Greater => false,
    }
}

fuzz_target!(|input: Input<'_>| {
    let Input { text, name, sign } = input;

    if let Ok(code) = CurrencyCode::parse(text) {
        assert_eq!(code.as_str(), text);
    }
    assert_eq!(
        CurrencyCode::parse(text).is_ok(),
        text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()),
        "{text:?}"
    );

    let rate = Rate::parse(text);
    assert_eq!(
        rate.is_ok(),
        expected_ok(text, 12),
        "rate {text:?}: {rate:?}"
    );
    if let Ok(rate) = rate {
        let v = rate.value();
        assert!(v.scale() <= 12, "{v}");
        assert_eq!(Rate::parse(&v.to_string()).ok(), Some(rate));
        assert_eq!(Rate::new(v).ok(), Some(rate));
    }

    let amount = Amount::parse(text);
    assert_eq!(
        amount.is_ok(),
        expected_ok(text, 15),
        "amount {text:?}: {amount:?}"
    );
    if let Ok(amount) = amount {
        let v = amount.value();
        assert!(v.scale() <= 12, "{v}");
        assert_eq!(Amount::parse(&v.to_string()).ok(), Some(amount));
    }

    if let Ok(c) = NewCurrency::parse(name, text, sign) {
        assert_eq!(c.code.as_str(), text);
        assert_eq!(c.name, name.trim());
        assert_eq!(c.sign, sign.trim());
        assert!(!c.name.is_empty() && c.name.chars().count() <= 64);
        assert!(!c.sign.is_empty() && c.sign.chars().count() <= 8);
    }
});
