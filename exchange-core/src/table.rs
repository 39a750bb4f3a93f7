//! [`RateTable`]: every currency and rate of one moment, for conversions without I/O
//! or allocation; and the conversion arithmetic itself.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::RwLock;

use rust_decimal::Decimal;

use crate::error::ExchangeError;
use crate::types::*;

/// Hashes the small integer keys of a [`RateTable`] with one multiplication. The keys
/// are currency codes the store holds, not chosen by whoever asks, so the flooding
/// resistance of the default hasher buys nothing here and costs most of a lookup.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u32(n as u32);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(crate) type Fast = BuildHasherDefault<KeyHasher>;

pub(crate) fn pair_key(base: CurrencyCode, target: CurrencyCode) -> u64 {
    (u64::from(base.key()) << 24) | u64::from(target.key())
}

/// A conversion without the currency records: what [`RateTable::quote`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// The rate used, rounded to 6 decimal places.
    pub rate: Decimal,
    /// The amount given.
    pub amount: Decimal,
    /// `amount` times the unrounded rate, rounded half away from zero to the target
    /// currency's minor units (JPY 0, USD 2, KWD 3).
    pub converted_amount: Decimal,
}

/// Most pairs whose derived rate a [`RateTable`] remembers; past it, further pairs are
/// derived on every call.
const MAX_DERIVED: usize = 65_536;

/// Every currency and rate as read at one moment (from
/// [`ExchangeService::rate_table`](crate::ExchangeService::rate_table)). Converting
/// through it takes parsed codes and amounts and does no I/O. The rate of a pair
/// (direct, inverse or cross, at full precision, and rounded for display) is derived on
/// its first conversion and remembered, so later conversions of the pair are a lookup
/// and one multiplication.
#[derive(Debug)]
pub struct RateTable {
    pivot: CurrencyCode,
    currencies: HashMap<u32, Currency, Fast>,
    rates: HashMap<u64, Decimal, Fast>,
    /// Pair -> (rate, rate rounded to 6 places, the target's minor units).
    derived: RwLock<HashMap<u64, (Decimal, Decimal, u32), Fast>>,
}

impl RateTable {
    /// A table of these currencies and rates, crossing through `pivot`.
    pub fn new(
        pivot: CurrencyCode,
        currencies: impl IntoIterator<Item = Currency>,
        rates: impl IntoIterator<Item = ExchangeRate>,
    ) -> Self {
        let mut table = Self {
            pivot,
            currencies: currencies.into_iter().map(|c| (c.code.key(), c)).collect(),
            rates: HashMap::default(),
            derived: RwLock::default(),
        };
        for r in rates {
            let (base, target) = (r.base_currency.code, r.target_currency.code);
            table.rates.insert(pair_key(base, target), r.rate);
            table
                .currencies
                .entry(base.key())
                .or_insert(r.base_currency);
            table
                .currencies
                .entry(target.key())
                .or_insert(r.target_currency);
        }
        table
    }

    /// The currency with this code.
    pub fn currency(&self, code: CurrencyCode) -> Option<&Currency> {
        self.currencies.get(&code.key())
    }

    /// Converts `amount` of `from` into `to`, as
    /// [`ExchangeService::convert`](crate::ExchangeService::convert) does.
    ///
    /// Errors: [`ExchangeError::CurrencyNotFound`], [`ExchangeError::NoRate`],
    /// [`ExchangeError::Overflow`].
    pub fn quote(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        amount: Amount,
    ) -> Result<Quote, ExchangeError> {
        let key = pair_key(from, to);
        let known = self
            .derived
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .copied();
        if let Some((rate, shown, units)) = known {
            return finish(rate, shown, amount, units);
        }
        let lookup = |b: CurrencyCode, t: CurrencyCode| self.rates.get(&pair_key(b, t)).copied();
        // A stored rate names two existing currencies; otherwise check them.
        if lookup(from, to).is_none()
            && (self.currency(from).is_none() || self.currency(to).is_none())
        {
            return Err(ExchangeError::CurrencyNotFound);
        }
        let rate = rate_by(lookup, from, to, self.pivot)?;
        let shown = shown_rate(rate);
        let units = self
            .currency(to)
            .map_or(DEFAULT_MINOR_UNITS, |c| c.minor_units);
        let mut derived = self.derived.write().unwrap_or_else(|p| p.into_inner());
        if derived.len() < MAX_DERIVED {
            derived.insert(key, (rate, shown, units));
        }
        drop(derived);
        finish(rate, shown, amount, units)
    }
}

/// Units of `to` per unit of `from`, directly or as the inverse of the reverse rate.
fn direct_or_inverse(
    lookup: &impl Fn(CurrencyCode, CurrencyCode) -> Option<Decimal>,
    from: CurrencyCode,
    to: CurrencyCode,
) -> Option<Decimal> {
    if from == to {
        return Some(Decimal::ONE);
    }
    lookup(from, to).or_else(|| lookup(to, from).and_then(|r| Decimal::ONE.checked_div(r)))
}

/// Direct, else inverse, else cross through `pivot`; rates are looked up lazily, in
/// that order, so the common direct case costs one lookup.
pub(crate) fn rate_by(
    lookup: impl Fn(CurrencyCode, CurrencyCode) -> Option<Decimal>,
    from: CurrencyCode,
    to: CurrencyCode,
    pivot: CurrencyCode,
) -> Result<Decimal, ExchangeError> {
    if let Some(r) = direct_or_inverse(&lookup, from, to) {
        return Ok(r);
    }
    let via_from = direct_or_inverse(&lookup, pivot, from).ok_or(ExchangeError::NoRate)?;
    let via_to = direct_or_inverse(&lookup, pivot, to).ok_or(ExchangeError::NoRate)?;
    via_to.checked_div(via_from).ok_or(ExchangeError::Overflow)
}

/// The rate as shown: rounded half away from zero to 6 places, trailing zeros dropped.
fn shown_rate(rate: Decimal) -> Decimal {
    round_half_away(rate, 6).normalize()
}

/// `amount` times the unrounded `rate`, rounded half away from zero to `minor_units`
/// places.
fn finish(
    rate: Decimal,
    shown: Decimal,
    amount: Amount,
    minor_units: u32,
) -> Result<Quote, ExchangeError> {
    let converted = amount
        .value()
        .checked_mul(rate)
        .ok_or(ExchangeError::Overflow)?;
    Ok(Quote {
        rate: shown,
        amount: amount.value(),
        converted_amount: round_half_away(converted, minor_units),
    })
}

/// The conversion arithmetic, in one place: [`rate_by`], then [`finish`].
pub(crate) fn quote_by(
    lookup: impl Fn(CurrencyCode, CurrencyCode) -> Option<Decimal>,
    from: CurrencyCode,
    to: CurrencyCode,
    pivot: CurrencyCode,
    amount: Amount,
    minor_units: u32,
) -> Result<Quote, ExchangeError> {
    let rate = rate_by(lookup, from, to, pivot)?;
    finish(rate, shown_rate(rate), amount, minor_units)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ExchangeService;
    use crate::memory::MemoryStore;

    fn code(s: &str) -> CurrencyCode {
        CurrencyCode::parse(s).unwrap()
    }

    #[tokio::test]
    async fn quotes_agree_with_conversions_on_every_path() {
        let svc = ExchangeService::new(Arc::new(MemoryStore::new()));
        for c in ["USD", "EUR", "GBP", "JPY", "CHF"] {
            svc.add_currency(c, c, "$").await.unwrap();
        }
        svc.add_rate("USD", "EUR", "0.9").await.unwrap();
        svc.add_rate("USD", "GBP", "0.8").await.unwrap();
        svc.add_rate("JPY", "USD", "0.0066").await.unwrap();
        svc.add_rate("EUR", "USD", "1.2").await.unwrap();
        let table = svc.rate_table().await.unwrap();
        for (from, to) in [
            ("USD", "EUR"), // direct (and the reverse rate exists too)
            ("EUR", "USD"), // direct
            ("GBP", "USD"), // inverse
            ("EUR", "GBP"), // cross
            ("JPY", "GBP"), // cross through an inverse
            ("GBP", "GBP"), // itself
        ] {
            let amount = Amount::parse("123.45").unwrap();
            let quote = table.quote(code(from), code(to), amount).unwrap();
            // The second conversion of the pair reads the remembered rate.
            assert_eq!(table.quote(code(from), code(to), amount).unwrap(), quote);
            let c = svc.convert(from, to, "123.45").await.unwrap();
            assert_eq!(
                (quote.rate, quote.amount, quote.converted_amount),
                (c.rate, c.amount, c.converted_amount),
                "{from}->{to}"
            );
            assert_eq!(table.currency(code(from)), Some(&c.base_currency));
        }
        let one = Amount::parse("1").unwrap();
        assert!(matches!(
            table.quote(code("CHF"), code("EUR"), one),
            Err(ExchangeError::NoRate)
        ));
        assert!(matches!(
            table.quote(code("XXX"), code("EUR"), one),
            Err(ExchangeError::CurrencyNotFound)
        ));
        assert!(matches!(
            table.quote(code("XXX"), code("XXX"), one),
            Err(ExchangeError::CurrencyNotFound)
        ));
    }
}
