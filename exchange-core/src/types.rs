//! Validated types: codes, rates, amounts, and the records the API shows.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
#[cfg(feature = "serde")]
use serde::{Serialize, Serializer};

use crate::error::ValidationError;
use crate::iso4217::iso_currency;

/// A currency code: exactly three ASCII uppercase letters (ISO 4217 shape).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    /// Parses a code for `field`; `eur`, `EU`, `EU1`, `E-U`, `USDX` and blanks fail.
    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        match raw.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(ValidationError::new(
                field,
                format!("{field} must be exactly three uppercase Latin letters"),
            )),
        }
    }

    /// Parses a code (field name `code`).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::parse_field("code", raw)
    }

    /// The three letters as one number, for maps keyed by code.
    pub(crate) fn key(self) -> u32 {
        u32::from_be_bytes([0, self.0[0], self.0[1], self.0[2]])
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("parsed from ASCII letters")
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CurrencyCode({})", self.as_str())
    }
}

impl FromStr for CurrencyCode {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(feature = "serde")]
impl Serialize for CurrencyCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Two codes written together, as in `/exchangeRate/USDEUR`; they must differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyPair {
    /// Base currency.
    pub base: CurrencyCode,
    /// Target currency.
    pub target: CurrencyCode,
}

impl CurrencyPair {
    /// Parses six uppercase letters into two different codes.
    pub fn parse(raw: &str) -> Result<Self, crate::ExchangeError> {
        if raw.len() != 6 || !raw.is_ascii() {
            return Err(ValidationError::new(
                "pair",
                "the pair must be two currency codes written together, like USDEUR",
            )
            .into());
        }
        let base = CurrencyCode::parse_field("base", &raw[..3])?;
        let target = CurrencyCode::parse_field("target", &raw[3..])?;
        Self::new(base, target)
    }

    /// A pair of two different codes.
    pub fn new(base: CurrencyCode, target: CurrencyCode) -> Result<Self, crate::ExchangeError> {
        if base == target {
            return Err(crate::ExchangeError::SameCurrency);
        }
        Ok(Self { base, target })
    }
}

/// The largest rate accepted: 10^12.
pub const MAX_RATE: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);
/// The largest amount accepted: 10^15.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x38D7E, 0, false, 0);
/// Fractional digits accepted in rates and amounts.
pub const MAX_SCALE: u32 = 12;

/// Parses a plain positive decimal: digits with at most one `.`, no sign, no exponent
/// (`1e-3` is refused so every client writes numbers the same way), no `NaN`.
fn parse_positive(
    field: &'static str,
    raw: &str,
    max: Decimal,
) -> Result<Decimal, ValidationError> {
    let s = raw.trim();
    let shape_ok = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|b| *b == b'.').count() <= 1
        && s.bytes().any(|b| b.is_ascii_digit());
    if !shape_ok {
        return Err(ValidationError::new(
            field,
            format!("{field} must be a positive decimal number like 0.99"),
        ));
    }
    let fraction = s.split_once('.').map_or(0, |(_, f)| f.len());
    if fraction > MAX_SCALE as usize {
        return Err(ValidationError::new(
            field,
            format!("{field} may have at most {MAX_SCALE} digits after the decimal point"),
        ));
    }
    let too_large = || ValidationError::new(field, format!("{field} must not exceed {max}"));
    let value = Decimal::from_str_exact(s).map_err(|_| too_large())?;
    if value <= Decimal::ZERO {
        return Err(ValidationError::new(
            field,
            format!("{field} must be greater than zero"),
        ));
    }
    if value > max {
        return Err(too_large());
    }
    Ok(value.normalize())
}

/// An exchange rate value: a decimal greater than zero, at most 10^12, at most 12
/// fractional digits. Parsed from plain decimal text (see [`Rate::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rate(Decimal);

impl Rate {
    /// Parses `0.99`, `1`, `.5`; refuses `abc`, `0`, `-0.5`, `NaN`, `1e-3`, `+1`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        parse_positive("rate", raw, MAX_RATE).map(Self)
    }

    /// A rate from a decimal, with the same rules as [`Rate::parse`].
    pub fn new(value: Decimal) -> Result<Self, ValidationError> {
        Self::parse(&value.to_string())
    }

    /// The value.
    pub fn value(&self) -> Decimal {
        self.0
    }
}

/// An amount to convert: a decimal greater than zero, at most 10^15, at most 12
/// fractional digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(Decimal);

impl Amount {
    /// Parses an amount with the same text rules as [`Rate::parse`].
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        parse_positive("amount", raw, MAX_AMOUNT).map(Self)
    }

    /// An amount from a decimal, with the same rules as [`Amount::parse`].
    pub fn new(value: Decimal) -> Result<Self, ValidationError> {
        Self::parse(&value.to_string())
    }

    /// The value.
    pub fn value(&self) -> Decimal {
        self.0
    }
}

/// A currency.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Currency {
    /// Stable id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Code.
    pub code: CurrencyCode,
    /// Symbol.
    pub sign: String,
    /// Digits after the point of its minor unit (JPY 0, USD 2, KWD 3): converted
    /// amounts are rounded to them.
    pub minor_units: u32,
}

/// A currency to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCurrency {
    /// Code.
    pub code: CurrencyCode,
    /// Display name, trimmed, 1 to 64 characters.
    pub name: String,
    /// Symbol, trimmed, 1 to 8 characters.
    pub sign: String,
    /// Digits after the point of its minor unit: the ISO 4217 figure for a listed
    /// code, else [`DEFAULT_MINOR_UNITS`] unless [`NewCurrency::with_minor_units`]
    /// states it.
    pub minor_units: u32,
}

/// Minor units of a currency the ISO 4217 catalogue gives none for, unless stated.
pub const DEFAULT_MINOR_UNITS: u32 = 2;

impl NewCurrency {
    /// Validates the three fields; blanks are refused.
    pub fn parse(name: &str, code: &str, sign: &str) -> Result<Self, ValidationError> {
        let text = |field: &'static str, raw: &str, max: usize| {
            let t = raw.trim();
            if t.is_empty() {
                Err(ValidationError::new(
                    field,
                    format!("{field} must not be blank"),
                ))
            } else if t.chars().count() > max || t.chars().any(char::is_control) {
                Err(ValidationError::new(
                    field,
                    format!("{field} must be 1 to {max} printable characters"),
                ))
            } else {
                Ok(t.to_owned())
            }
        };
        let name = text("name", name, 64)?;
        let code = CurrencyCode::parse(code)?;
        Ok(Self {
            name,
            code,
            sign: text("sign", sign, 8)?,
            minor_units: iso_currency(code)
                .and_then(|c| c.minor_units)
                .unwrap_or(DEFAULT_MINOR_UNITS),
        })
    }

    /// The same currency with `minor_units` stated: for codes outside the ISO 4217
    /// catalogue (`BTC` with 8, say), or to override it.
    ///
    /// Errors: more than [`MAX_MINOR_UNITS`](crate::money::MAX_MINOR_UNITS).
    pub fn with_minor_units(mut self, minor_units: u32) -> Result<Self, ValidationError> {
        if minor_units > crate::money::MAX_MINOR_UNITS {
            return Err(ValidationError::new(
                "minor_units",
                format!("minor_units must be 0 to {}", crate::money::MAX_MINOR_UNITS),
            ));
        }
        self.minor_units = minor_units;
        Ok(self)
    }
}

/// Serializes a decimal as a JSON number with exactly its digits (`0.99`, never
/// `0.98999999` and never a string), for `#[serde(serialize_with = ...)]`.
///
/// The number travels as a `serde_json` raw value, so no feature of `serde_json` that
/// would change how the rest of an application parses JSON is needed. Meant for
/// `serde_json`; other formats see the raw value's wrapper.
#[cfg(feature = "serde")]
pub fn exact_decimal<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    serde_json::value::RawValue::from_string(d.to_string())
        .map_err(S::Error::custom)?
        .serialize(s)
}

/// An exchange rate between two currencies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ExchangeRate {
    /// Stable id.
    pub id: i64,
    /// Base currency.
    pub base_currency: Currency,
    /// Target currency.
    pub target_currency: Currency,
    /// Units of target per unit of base; an exact JSON number.
    #[cfg_attr(feature = "serde", serde(serialize_with = "exact_decimal"))]
    pub rate: Decimal,
}

/// The result of a conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Conversion {
    /// Currency converted from.
    pub base_currency: Currency,
    /// Currency converted to.
    pub target_currency: Currency,
    /// The rate used, rounded to 6 decimal places.
    #[cfg_attr(feature = "serde", serde(serialize_with = "exact_decimal"))]
    pub rate: Decimal,
    /// The amount given.
    #[cfg_attr(feature = "serde", serde(serialize_with = "exact_decimal"))]
    pub amount: Decimal,
    /// `amount` times the unrounded rate, rounded half away from zero to the target
    /// currency's minor units.
    #[cfg_attr(feature = "serde", serde(serialize_with = "exact_decimal"))]
    pub converted_amount: Decimal,
}

impl Conversion {
    /// A conversion between these currencies with the figures of `quote`.
    pub fn of(base_currency: Currency, target_currency: Currency, quote: crate::Quote) -> Self {
        Self {
            base_currency,
            target_currency,
            rate: quote.rate,
            amount: quote.amount,
            converted_amount: quote.converted_amount,
        }
    }
}

/// Rounds half away from zero to `dp` places.
pub fn round_half_away(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_are_exactly_three_uppercase_letters() {
        assert_eq!(CurrencyCode::parse("EUR").unwrap().as_str(), "EUR");
        for bad in ["eur", "EU", "EU1", "E-U", "   ", "USDX", "", "ÉUR", "EUR "] {
            let e = CurrencyCode::parse(bad).unwrap_err();
            assert!(e.message.contains("three uppercase"), "{bad}");
        }
    }

    #[test]
    fn pairs_are_two_different_codes() {
        let p = CurrencyPair::parse("USDEUR").unwrap();
        assert_eq!((p.base.as_str(), p.target.as_str()), ("USD", "EUR"));
        assert!(matches!(
            CurrencyPair::parse("USDUSD"),
            Err(crate::ExchangeError::SameCurrency)
        ));
        for bad in ["USDEU", "usdeur", "USDEUR1", "USD-EU", "", "ÉÉÉ"] {
            assert!(
                matches!(
                    CurrencyPair::parse(bad),
                    Err(crate::ExchangeError::Validation(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_are_what_their_names_say() {
        assert_eq!(MAX_RATE, Decimal::from(1_000_000_000_000u64));
        assert_eq!(MAX_AMOUNT, Decimal::from(1_000_000_000_000_000u64));
    }

    #[test]
    fn rates_are_plain_positive_decimals() {
        assert_eq!(Rate::parse("0.99").unwrap().value().to_string(), "0.99");
        assert_eq!(Rate::parse(" 1.50 ").unwrap().value().to_string(), "1.5");
        assert_eq!(Rate::parse(".5").unwrap().value().to_string(), "0.5");
        assert_eq!(Rate::parse("1000000000000").unwrap().value(), MAX_RATE);
        for bad in [
            "abc",
            "0",
            "0.000",
            "-0.5",
            "NaN",
            "inf",
            "1e-3",
            "+1",
            "",
            " ",
            ".",
            "1..2",
            "1.2.3",
            "1,5",
            "1000000000000.1",
            "0.0000000000001",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            Rate::parse("0")
                .unwrap_err()
                .message
                .contains("greater than zero")
        );
        assert!(
            Rate::parse("1e-3")
                .unwrap_err()
                .message
                .contains("decimal number")
        );
    }

    #[test]
    fn amounts_are_bounded() {
        assert!(Amount::parse("10").is_ok());
        assert!(Amount::parse("1000000000000000").is_ok());
        assert!(Amount::parse("1000000000000000.01").is_err());
        assert!(Amount::parse(&"9".repeat(40)).is_err());
        assert!(Amount::parse("0").is_err());
        assert!(Amount::parse("-1").is_err());
    }

    #[test]
    fn new_currencies_refuse_blank_fields() {
        let c = NewCurrency::parse(" Euro ", "EUR", "€").unwrap();
        assert_eq!(c.name, "Euro");
        for (name, code, sign, field) in [
            ("", "EUR", "€", "name"),
            ("Euro", "eur", "€", "code"),
            ("Euro", "EUR", "  ", "sign"),
            ("Euro", "EUR", "123456789", "sign"),
        ] {
            assert_eq!(
                NewCurrency::parse(name, code, sign).unwrap_err().field,
                field
            );
        }
    }

    #[test]
    fn json_numbers_are_exact() {
        let c = Currency {
            id: 1,
            name: "Euro".into(),
            code: CurrencyCode::parse("EUR").unwrap(),
            sign: "€".into(),
            minor_units: 2,
        };
        let r = ExchangeRate {
            id: 7,
            base_currency: c.clone(),
            target_currency: c,
            rate: Rate::parse("0.99").unwrap().value(),
        };
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.ends_with(r#""rate":0.99}"#), "{json}");
        assert!(json.starts_with(
            r#"{"id":7,"base_currency":{"id":1,"name":"Euro","code":"EUR","sign":"€","minor_units":2}"#
        ));
        let precise = Rate::parse("0.123456789012").unwrap().value();
        let v = serde_json::to_string(&ExchangeRate { rate: precise, ..r }).unwrap();
        assert!(v.ends_with(r#""rate":0.123456789012}"#), "{v}");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(round_half_away(d("2.345"), 2), d("2.35"));
        assert_eq!(round_half_away(d("2.344999"), 2), d("2.34"));
        assert_eq!(round_half_away(d("0.0000005"), 6), d("0.000001"));
        assert_eq!(round_half_away(d("-2.345"), 2), d("-2.35"));
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_text_never_panics(s in ".{0,64}") {
            let _ = CurrencyCode::parse(&s);
            let _ = CurrencyPair::parse(&s);
            let _ = Rate::parse(&s);
            let _ = Amount::parse(&s);
        }

        #[test]
        fn parsing_numeric_looking_text_never_panics(s in "[0-9.]{0,60}") {
            if let Ok(r) = Rate::parse(&s) {
                prop_assert!(r.value() > Decimal::ZERO && r.value() <= MAX_RATE);
            }
            if let Ok(a) = Amount::parse(&s) {
                prop_assert!(a.value() > Decimal::ZERO && a.value() <= MAX_AMOUNT);
            }
        }
    }
}
