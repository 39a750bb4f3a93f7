//! A spread: a margin around the mid rate, as an explicit step on a quote. Nothing in
//! the crate applies one unless asked.

use rust_decimal::Decimal;

use crate::dated::DatedQuote;
use crate::error::ValidationError;
use crate::types::round_half_away;

/// The most a spread may be: 10,000 basis points (100 %).
pub const MAX_SPREAD_BPS: u32 = 10_000;

/// A spread of `bps` basis points around the mid rate, half on each side: bid = mid x
/// (1 - bps/20000), ask = mid x (1 + bps/20000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    bps: u32,
}

impl Spread {
    /// A spread of `bps` basis points (0 to [`MAX_SPREAD_BPS`]).
    pub fn from_bps(bps: u32) -> Result<Self, ValidationError> {
        if bps > MAX_SPREAD_BPS {
            return Err(ValidationError::new(
                "spread_bps",
                format!("spread_bps must be 0 to {MAX_SPREAD_BPS}"),
            ));
        }
        Ok(Self { bps })
    }

    /// The spread in basis points.
    pub fn bps(&self) -> u32 {
        self.bps
    }

    /// Half the spread as a fraction of the mid rate.
    fn half(&self) -> Decimal {
        Decimal::from(self.bps) / Decimal::from(20_000)
    }
}

/// A quote with its spread applied: the rates a dealer buys and sells at, and what the
/// customer converting the quoted amount receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedQuote {
    /// The quote at the mid rate, unchanged.
    pub quote: DatedQuote,
    /// The spread applied.
    pub spread: Spread,
    /// Units of `to` the customer gets per unit of `from` (below the mid rate).
    pub bid: Decimal,
    /// Units of `to` the customer pays per unit of `from` bought (above the mid rate).
    pub ask: Decimal,
    /// The quoted amount converted at the bid, rounded half away from zero to the
    /// target's minor units.
    pub converted_at_bid: Decimal,
}

impl DatedQuote {
    /// This quote with `spread` applied; the quote itself stays at the mid rate.
    pub fn with_spread(self, spread: Spread) -> PricedQuote {
        let half = spread.half();
        let bid = self.rate * (Decimal::ONE - half);
        let ask = self.rate * (Decimal::ONE + half);
        // bid <= mid, so the product fits wherever the mid's did.
        let converted_at_bid = round_half_away(self.amount * bid, self.minor_units);
        PricedQuote {
            quote: self,
            spread,
            bid,
            ask,
            converted_at_bid,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use time::macros::date;

    use super::*;
    use crate::dated::RatePath;
    use crate::types::CurrencyCode;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn quote(rate: &str, amount: &str, minor_units: u32) -> DatedQuote {
        DatedQuote {
            from: CurrencyCode::parse("EUR").unwrap(),
            to: CurrencyCode::parse("JPY").unwrap(),
            at: date!(2024 - 01 - 05),
            amount: d(amount),
            rate: d(rate),
            converted_amount: round_half_away(d(amount) * d(rate), minor_units),
            minor_units,
            path: RatePath::Direct,
            legs: vec![],
        }
    }

    #[test]
    fn a_spread_sits_half_on_each_side_of_the_mid_rate() {
        let q = quote("158.08", "100", 0).with_spread(Spread::from_bps(50).unwrap());
        assert_eq!(
            q.quote.converted_amount,
            d("15808"),
            "the quote stays at mid"
        );
        assert_eq!((q.bid, q.ask), (d("157.6848"), d("158.4752")));
        assert_eq!(q.converted_at_bid, d("15768"));
        let none = quote("1.0921", "10", 2).with_spread(Spread::from_bps(0).unwrap());
        assert_eq!(
            (none.bid, none.ask, none.converted_at_bid),
            (d("1.0921"), d("1.0921"), d("10.92"))
        );
        assert!(Spread::from_bps(10_001).is_err());
        let all = quote("2", "1", 2).with_spread(Spread::from_bps(10_000).unwrap());
        assert_eq!((all.bid, all.ask), (d("1"), d("3")));
    }
}
