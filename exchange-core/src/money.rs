//! Money: an exact amount in a currency that knows its minor units.
//!
//! Arithmetic refuses two currencies; rounding goes to the currency's minor units
//! with a named [`Rounding`]; [`Money::allocate`] and [`Money::split`] divide an
//! amount into parts that always add up to it, to the minor unit.
//!
//! ```
//! use exchange_core::money::{Money, Rounding};
//! use exchange_core::CurrencyCode;
//!
//! let jpy = CurrencyCode::parse("JPY").unwrap();
//! let price = Money::parse("1234.5", jpy).unwrap();
//! assert_eq!(price.round(Rounding::HalfEven).to_string(), "1234 JPY");
//! assert_eq!(price.round(Rounding::HalfAwayFromZero).to_string(), "1235 JPY");
//!
//! let usd = CurrencyCode::parse("USD").unwrap();
//! let bill = Money::parse("100.00", usd).unwrap();
//! let parts: Vec<String> = bill.split(3).unwrap().iter().map(|m| m.to_string()).collect();
//! assert_eq!(parts, ["33.34 USD", "33.33 USD", "33.33 USD"]);
//! ```

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::iso4217::iso_currency;
use crate::types::CurrencyCode;

/// The most minor units a currency may have (a `Decimal` keeps at most 28 digits after
/// the point; 18 leaves room for amounts).
pub const MAX_MINOR_UNITS: u32 = 18;

/// How to round to a currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    /// To the nearest; a half to the even neighbour (banker's rounding): no drift
    /// over many roundings. The default.
    #[default]
    HalfEven,
    /// To the nearest; a half away from zero (commercial rounding: 0.5 to 1, -0.5 to -1).
    HalfAwayFromZero,
    /// To the nearest; a half toward zero.
    HalfTowardZero,
    /// Toward zero (truncation).
    TowardZero,
    /// Away from zero.
    AwayFromZero,
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceiling,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfTowardZero => RoundingStrategy::MidpointTowardZero,
            Rounding::TowardZero => RoundingStrategy::ToZero,
            Rounding::AwayFromZero => RoundingStrategy::AwayFromZero,
            Rounding::Floor => RoundingStrategy::ToNegativeInfinity,
            Rounding::Ceiling => RoundingStrategy::ToPositiveInfinity,
        }
    }
}

/// Why a money operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The code is not an ISO 4217 currency with minor units: give them with
    /// [`Money::with_minor_units`].
    #[error("{0} is not an ISO 4217 currency with minor units; state its minor units")]
    UnknownCurrency(CurrencyCode),
    /// More minor units than [`MAX_MINOR_UNITS`].
    #[error("a currency has at most {MAX_MINOR_UNITS} minor units")]
    TooManyMinorUnits,
    /// Two amounts of different currencies (or of one code with different minor units).
    #[error("{0} and {1} cannot be combined")]
    CurrencyMismatch(CurrencyCode, CurrencyCode),
    /// The text is not a plain decimal number (digits, at most one `.`, an optional
    /// leading `-`; no exponent).
    #[error("{0:?} is not a plain decimal amount")]
    Malformed(String),
    /// The amount has digits below the currency's minor unit: round it first.
    #[error("the amount has digits below the minor unit of {0}; round it first")]
    NotInMinorUnits(CurrencyCode),
    /// No weights, or weights that add up to zero.
    #[error("allocation needs at least one weight and a positive total")]
    NoWeights,
    /// The result does not fit in a decimal.
    #[error("the amount is out of range")]
    Overflow,
}

/// An exact amount of one currency, with that currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    amount: Decimal,
    currency: CurrencyCode,
    minor_units: u32,
}

impl Money {
    /// `amount` of an ISO 4217 currency, with the catalogue's minor units.
    ///
    /// Errors: [`MoneyError::UnknownCurrency`] for a code the standard does not list
    /// with minor units (crypto, test codes, gold): use [`Money::with_minor_units`].
    pub fn new(amount: Decimal, currency: CurrencyCode) -> Result<Self, MoneyError> {
        let minor_units = iso_currency(currency)
            .and_then(|c| c.minor_units)
            .ok_or(MoneyError::UnknownCurrency(currency))?;
        Self::with_minor_units(amount, currency, minor_units)
    }

    /// `amount` of a currency with `minor_units` digits after the point, for codes
    /// outside the ISO catalogue (`BTC` with 8, say) or to override it.
    ///
    /// Errors: [`MoneyError::TooManyMinorUnits`] past [`MAX_MINOR_UNITS`].
    pub fn with_minor_units(
        amount: Decimal,
        currency: CurrencyCode,
        minor_units: u32,
    ) -> Result<Self, MoneyError> {
        if minor_units > MAX_MINOR_UNITS {
            return Err(MoneyError::TooManyMinorUnits);
        }
        Ok(Self {
            amount,
            currency,
            minor_units,
        })
    }

    /// Parses exact decimal text (`"-12.50"`, `"0.001"`; no exponent, no grouping) as
    /// an amount of the ISO currency `currency`. The amount keeps every digit given;
    /// [`Money::round`] takes it to the minor unit.
    pub fn parse(text: &str, currency: CurrencyCode) -> Result<Self, MoneyError> {
        Self::new(parse_decimal(text)?, currency)
    }

    /// An amount given in minor units: `from_minor(1999, usd, 2)` is 19.99.
    pub fn from_minor(
        units: i64,
        currency: CurrencyCode,
        minor_units: u32,
    ) -> Result<Self, MoneyError> {
        if minor_units > MAX_MINOR_UNITS {
            return Err(MoneyError::TooManyMinorUnits);
        }
        Self::with_minor_units(Decimal::new(units, minor_units), currency, minor_units)
    }

    /// The amount, exactly as held (rounded only if [`Money::round`] made it so).
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> CurrencyCode {
        self.currency
    }

    /// Digits after the point of the currency's minor unit.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }

    /// This amount rounded to the currency's minor unit with `rounding`, written with
    /// exactly that many digits after the point (`1.5` USD becomes `1.50`).
    pub fn round(&self, rounding: Rounding) -> Self {
        let mut amount = self
            .amount
            .round_dp_with_strategy(self.minor_units, rounding.strategy());
        amount.rescale(self.minor_units);
        Self { amount, ..*self }
    }

    /// Whether the amount is a whole number of minor units.
    pub fn is_in_minor_units(&self) -> bool {
        self.amount.normalize().scale() <= self.minor_units
    }

    /// The amount as a count of minor units (`19.99` USD is 1999).
    ///
    /// Errors: [`MoneyError::NotInMinorUnits`] if it has digits below the minor unit.
    pub fn to_minor(&self) -> Result<i128, MoneyError> {
        if !self.is_in_minor_units() {
            return Err(MoneyError::NotInMinorUnits(self.currency));
        }
        let mut scaled = self.amount;
        scaled.rescale(self.minor_units);
        if scaled.scale() != self.minor_units {
            return Err(MoneyError::Overflow);
        }
        Ok(scaled.mantissa())
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency && self.minor_units == other.minor_units {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    /// The sum; refuses another currency. Errors: [`MoneyError::CurrencyMismatch`],
    /// [`MoneyError::Overflow`].
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self { amount, ..*self })
    }

    /// The difference; refuses another currency. Errors:
    /// [`MoneyError::CurrencyMismatch`], [`MoneyError::Overflow`].
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self { amount, ..*self })
    }

    /// Divides the amount in proportion to `weights`, in whole minor units, losing and
    /// inventing none: the parts add up to the amount exactly. Each part gets the
    /// whole minor units of its share; the units left over go one each to the parts
    /// with the largest remainders, the earlier part first on a tie. A weight of 0
    /// gets 0; no part has the other sign from the amount.
    ///
    /// Errors: [`MoneyError::NotInMinorUnits`] for an amount below the minor unit
    /// (round it first), [`MoneyError::NoWeights`] when the weights are empty or all 0,
    /// [`MoneyError::Overflow`].
    pub fn allocate(&self, weights: &[u32]) -> Result<Vec<Money>, MoneyError> {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        if total == 0 {
            return Err(MoneyError::NoWeights);
        }
        let units = self.to_minor()?;
        let (negative, units) = (units < 0, units.unsigned_abs());
        let total = u128::from(total);
        let mut parts = Vec::with_capacity(weights.len());
        let mut given = 0u128;
        for (i, w) in weights.iter().enumerate() {
            let share = units
                .checked_mul(u128::from(*w))
                .ok_or(MoneyError::Overflow)?;
            parts.push((share / total, share % total, i));
            given += share / total;
        }
        // Fewer than the number of parts with a remainder: each gets at most one.
        let left = usize::try_from(units - given).map_err(|_| MoneyError::Overflow)?;
        let mut by_remainder: Vec<usize> = (0..parts.len()).collect();
        by_remainder.sort_by(|a, b| parts[*b].1.cmp(&parts[*a].1).then(a.cmp(b)));
        for i in by_remainder.into_iter().take(left) {
            parts[i].0 += 1;
        }
        parts
            .into_iter()
            .map(|(part, _, _)| {
                let part = i128::try_from(part).map_err(|_| MoneyError::Overflow)?;
                let signed = if negative { -part } else { part };
                let amount = Decimal::try_from_i128_with_scale(signed, self.minor_units)
                    .map_err(|_| MoneyError::Overflow)?;
                Ok(Self { amount, ..*self })
            })
            .collect()
    }

    /// Divides the amount into `n` parts as equal as the minor unit allows, the
    /// earlier parts taking the units left over (see [`Money::allocate`]).
    pub fn split(&self, n: usize) -> Result<Vec<Money>, MoneyError> {
        let n = u32::try_from(n).map_err(|_| MoneyError::Overflow)?;
        self.allocate(&vec![1; n as usize])
    }
}

/// `1234.5 JPY`: the amount exactly as held, then the code.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Plain decimal text: an optional `-`, digits with at most one `.`.
fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let malformed = || MoneyError::Malformed(text.chars().take(64).collect());
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let shape_ok = digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1;
    if !shape_ok {
        return Err(malformed());
    }
    Decimal::from_str_exact(t).map_err(|_| malformed())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn code(c: &str) -> CurrencyCode {
        CurrencyCode::parse(c).unwrap()
    }

    fn money(text: &str, c: &str) -> Money {
        Money::parse(text, code(c)).unwrap()
    }

    #[test]
    fn rounding_goes_to_the_currencys_minor_units() {
        let cases = [
            ("1234.5", "JPY", Rounding::HalfEven, "1234"),
            ("1235.5", "JPY", Rounding::HalfEven, "1236"),
            ("1234.5", "JPY", Rounding::HalfAwayFromZero, "1235"),
            ("-1234.5", "JPY", Rounding::HalfAwayFromZero, "-1235"),
            ("1234.5", "KRW", Rounding::HalfTowardZero, "1234"),
            ("1.2345", "KWD", Rounding::HalfEven, "1.234"),
            ("1.2345", "BHD", Rounding::HalfAwayFromZero, "1.235"),
            ("1.23456", "CLF", Rounding::HalfEven, "1.2346"),
            ("1.5", "USD", Rounding::HalfEven, "1.50"),
            ("1.019", "EUR", Rounding::TowardZero, "1.01"),
            ("1.011", "EUR", Rounding::AwayFromZero, "1.02"),
            ("-1.011", "EUR", Rounding::Floor, "-1.02"),
            ("-1.019", "EUR", Rounding::Ceiling, "-1.01"),
        ];
        for (text, c, rounding, expected) in cases {
            let rounded = money(text, c).round(rounding);
            assert_eq!(
                rounded.amount().to_string(),
                expected,
                "{text} {c} {rounding:?}"
            );
            assert!(rounded.is_in_minor_units());
        }
    }

    #[test]
    fn codes_outside_the_catalogue_state_their_minor_units() {
        let btc = code("BTC");
        assert_eq!(
            Money::parse("1", btc),
            Err(MoneyError::UnknownCurrency(btc))
        );
        assert_eq!(
            Money::parse("1", code("XAU")),
            Err(MoneyError::UnknownCurrency(code("XAU")))
        );
        let sats = Money::with_minor_units("0.123456789".parse().unwrap(), btc, 8).unwrap();
        assert_eq!(sats.round(Rounding::HalfEven).to_string(), "0.12345679 BTC");
        assert_eq!(
            Money::from_minor(1999, code("USD"), 2).unwrap().to_string(),
            "19.99 USD"
        );
        assert_eq!(
            Money::with_minor_units(Decimal::ONE, btc, 19),
            Err(MoneyError::TooManyMinorUnits)
        );
    }

    #[test]
    fn arithmetic_refuses_two_currencies() {
        let (usd, eur) = (money("1.10", "USD"), money("2.20", "EUR"));
        assert_eq!(
            usd.checked_add(&eur),
            Err(MoneyError::CurrencyMismatch(code("USD"), code("EUR")))
        );
        assert_eq!(
            usd.checked_sub(&eur),
            Err(MoneyError::CurrencyMismatch(code("USD"), code("EUR")))
        );
        assert_eq!(
            usd.checked_add(&money("0.9", "USD"))
                .unwrap()
                .amount()
                .to_string(),
            "2.00"
        );
        assert_eq!(
            usd.checked_sub(&money("2", "USD"))
                .unwrap()
                .amount()
                .to_string(),
            "-0.90"
        );
        let max = Money::new(Decimal::MAX, code("USD")).unwrap();
        assert_eq!(
            max.checked_add(&money("1", "USD")),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn text_in_is_plain_decimals() {
        for bad in ["", "-", "1e3", "1,000", "1.2.3", "abc", "--1", "+1", " . "] {
            assert!(
                matches!(
                    Money::parse(bad, code("USD")),
                    Err(MoneyError::Malformed(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(money(" -0.001 ", "KWD").amount().to_string(), "-0.001");
    }

    #[test]
    fn allocation_places_the_remainder_by_largest_share_then_order() {
        let m = money("100.00", "USD");
        let parts = |weights: &[u32]| -> Vec<String> {
            m.allocate(weights)
                .unwrap()
                .iter()
                .map(|p| p.amount().to_string())
                .collect()
        };
        assert_eq!(parts(&[1, 1, 1]), ["33.34", "33.33", "33.33"]);
        assert_eq!(parts(&[70, 20, 10]), ["70.00", "20.00", "10.00"]);
        assert_eq!(parts(&[1, 0, 2]), ["33.33", "0.00", "66.67"]);
        let yen: Vec<String> = money("-5", "JPY")
            .split(3)
            .unwrap()
            .iter()
            .map(|p| p.amount().to_string())
            .collect();
        assert_eq!(yen, ["-2", "-2", "-1"]);
        assert_eq!(m.allocate(&[]), Err(MoneyError::NoWeights));
        assert_eq!(m.allocate(&[0, 0]), Err(MoneyError::NoWeights));
        assert_eq!(
            money("1.005", "USD").split(2),
            Err(MoneyError::NotInMinorUnits(code("USD")))
        );
    }

    proptest! {
        /// Parts add up to the whole in minor units, none has the other sign, and the
        /// result is the same every time.
        #[test]
        fn allocated_parts_add_up_to_the_whole(
            units in -1_000_000_000_000i64..1_000_000_000_000,
            minor in 0u32..5,
            weights in proptest::collection::vec(0u32..1000, 1..12),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let m = Money::from_minor(units, code("TST"), minor).unwrap();
            let parts = m.allocate(&weights).unwrap();
            prop_assert_eq!(parts.len(), weights.len());
            let sum: i128 = parts.iter().map(|p| p.to_minor().unwrap()).sum();
            prop_assert_eq!(sum, i128::from(units));
            for (p, w) in parts.iter().zip(&weights) {
                let u = p.to_minor().unwrap();
                prop_assert!(u == 0 || (u < 0) == (units < 0));
                if *w == 0 {
                    prop_assert_eq!(u, 0);
                }
            }
            prop_assert_eq!(m.allocate(&weights).unwrap(), parts);
        }

        /// A split's parts differ by at most one minor unit, larger ones first.
        #[test]
        fn split_parts_differ_by_at_most_one_unit(units in 0i64..1_000_000_000, n in 1usize..50) {
            let parts: Vec<i128> = Money::from_minor(units, code("EUR"), 2).unwrap()
                .split(n).unwrap().iter().map(|p| p.to_minor().unwrap()).collect();
            prop_assert_eq!(parts.iter().sum::<i128>(), i128::from(units));
            prop_assert!(parts.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1));
        }
    }
}
