//! [`ExchangeService`]: validation and conversion over an [`ExchangeStore`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::error::{ExchangeError, StoreError};
use crate::store::{ConversionCandidates, ExchangeStore};
use crate::table::{RateTable, quote_by};
use crate::types::*;

/// The default pivot currency for cross rates.
pub const DEFAULT_PIVOT: &str = "USD";

/// Currency and rate management plus exact conversion.
#[derive(Debug, Clone)]
pub struct ExchangeService {
    store: Arc<dyn ExchangeStore>,
    pivot: CurrencyCode,
    snapshot: Option<Arc<SnapshotCache>>,
    /// The default maximum age of the rates of an as-of conversion.
    pub(crate) max_rate_age: Option<time::Duration>,
}

/// A rate table and when it was read.
#[derive(Debug)]
struct Snapshot {
    loaded: Instant,
    table: Arc<RateTable>,
}

/// Conversions read rates from an in-memory snapshot reloaded after `ttl`; writes made
/// through this service drop it at once. Writes made elsewhere (another instance)
/// are seen within `ttl`.
#[derive(Debug)]
struct SnapshotCache {
    ttl: Duration,
    current: RwLock<Option<Arc<Snapshot>>>,
    reload: tokio::sync::Mutex<()>,
    /// Bumped by every write, so a reload that raced with a write is not kept.
    generation: AtomicU64,
}

impl SnapshotCache {
    fn fresh(&self) -> Option<Arc<Snapshot>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|s| s.loaded.elapsed() < self.ttl)
            .cloned()
    }

    async fn get(
        &self,
        store: &dyn ExchangeStore,
        pivot: CurrencyCode,
    ) -> Result<Arc<Snapshot>, StoreError> {
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        // One reload at a time; the others wait and take its result.
        let _reloading = self.reload.lock().await;
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let loaded = Instant::now();
        let snapshot = Arc::new(Snapshot {
            loaded,
            table: Arc::new(load_table(store, pivot).await?),
        });
        if self.generation.load(Ordering::SeqCst) == generation {
            *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(snapshot.clone());
        }
        Ok(snapshot)
    }

    fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Reads every currency and rate into a table (two store reads).
async fn load_table(
    store: &dyn ExchangeStore,
    pivot: CurrencyCode,
) -> Result<RateTable, StoreError> {
    let currencies = store.list_currencies().await?;
    let rates = store.list_rates().await?;
    Ok(RateTable::new(pivot, currencies, rates))
}

fn not_found_as(e: StoreError, as_: ExchangeError) -> ExchangeError {
    match e {
        StoreError::CurrencyNotFound | StoreError::RateNotFound => as_,
        other => other.into(),
    }
}

impl ExchangeService {
    /// A service over `store` with USD as pivot.
    pub fn new(store: Arc<dyn ExchangeStore>) -> Self {
        Self {
            store,
            pivot: CurrencyCode::parse(DEFAULT_PIVOT).expect("USD is a valid code"),
            snapshot: None,
            max_rate_age: None,
        }
    }

    /// Serves conversions from an in-memory snapshot of every currency and rate,
    /// reloaded (two store reads) once it is older than `ttl`. Writes through this
    /// service are seen at once; writes made elsewhere, such as by another server
    /// instance, within `ttl`. A zero `ttl` turns the snapshot off (the default):
    /// each conversion then makes one store call.
    pub fn with_rate_snapshot(mut self, ttl: Duration) -> Self {
        self.snapshot = (!ttl.is_zero()).then(|| {
            Arc::new(SnapshotCache {
                ttl,
                current: RwLock::new(None),
                reload: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
            })
        });
        self
    }

    fn written<T>(&self, result: Result<T, ExchangeError>) -> Result<T, ExchangeError> {
        if let (Ok(_), Some(cache)) = (&result, &self.snapshot) {
            cache.invalidate();
        }
        result
    }

    /// Uses another pivot currency for cross rates.
    pub fn with_pivot(mut self, pivot: CurrencyCode) -> Self {
        self.pivot = pivot;
        self
    }

    /// The pivot of cross rates.
    pub fn pivot(&self) -> CurrencyCode {
        self.pivot
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ExchangeStore> {
        &self.store
    }

    /// Every currency.
    pub async fn currencies(&self) -> Result<Vec<Currency>, ExchangeError> {
        Ok(self.store.list_currencies().await?)
    }

    /// One currency by code. Errors: validation, [`ExchangeError::CurrencyNotFound`].
    pub async fn currency(&self, code: &str) -> Result<Currency, ExchangeError> {
        let code = CurrencyCode::parse(code)?;
        self.store
            .currency(code)
            .await?
            .ok_or(ExchangeError::CurrencyNotFound)
    }

    /// Adds a currency. Errors: validation, [`ExchangeError::CurrencyExists`].
    pub async fn add_currency(
        &self,
        name: &str,
        code: &str,
        sign: &str,
    ) -> Result<Currency, ExchangeError> {
        let c = NewCurrency::parse(name, code, sign)?;
        self.written(self.store.add_currency(c).await.map_err(Into::into))
    }

    /// Adds a currency with `minor_units` stated, for codes outside the ISO 4217
    /// catalogue (`BTC` with 8) or to override it; [`ExchangeService::add_currency`]
    /// takes the catalogue's figure, or 2 for other codes.
    /// Errors: validation (more than 18), [`ExchangeError::CurrencyExists`].
    pub async fn add_currency_with_minor_units(
        &self,
        name: &str,
        code: &str,
        sign: &str,
        minor_units: u32,
    ) -> Result<Currency, ExchangeError> {
        let c = NewCurrency::parse(name, code, sign)?.with_minor_units(minor_units)?;
        self.written(self.store.add_currency(c).await.map_err(Into::into))
    }

    /// Deletes a currency. Errors: [`ExchangeError::CurrencyNotFound`],
    /// [`ExchangeError::CurrencyInUse`].
    pub async fn delete_currency(&self, code: &str) -> Result<(), ExchangeError> {
        let code = CurrencyCode::parse(code)?;
        self.written(self.store.delete_currency(code).await.map_err(Into::into))
    }

    /// Every rate.
    pub async fn rates(&self) -> Result<Vec<ExchangeRate>, ExchangeError> {
        Ok(self.store.list_rates().await?)
    }

    /// The rate of a pair written as `USDEUR`. Errors: validation,
    /// [`ExchangeError::SameCurrency`], [`ExchangeError::RateNotFound`].
    pub async fn rate(&self, pair: &str) -> Result<ExchangeRate, ExchangeError> {
        let pair = CurrencyPair::parse(pair)?;
        self.store
            .rate(pair)
            .await?
            .ok_or(ExchangeError::RateNotFound)
    }

    /// Adds a rate. Errors: validation, [`ExchangeError::SameCurrency`],
    /// [`ExchangeError::CurrencyNotFound`], [`ExchangeError::PairExists`].
    pub async fn add_rate(
        &self,
        base: &str,
        target: &str,
        rate: &str,
    ) -> Result<ExchangeRate, ExchangeError> {
        let base = CurrencyCode::parse_field("base", base)?;
        let target = CurrencyCode::parse_field("target", target)?;
        let pair = CurrencyPair::new(base, target)?;
        let rate = Rate::parse(rate)?;
        self.add_pair_rate(pair, rate).await
    }

    /// [`ExchangeService::add_rate`] with a parsed pair and rate.
    pub async fn add_pair_rate(
        &self,
        pair: CurrencyPair,
        rate: Rate,
    ) -> Result<ExchangeRate, ExchangeError> {
        self.written(self.store.add_rate(pair, rate).await.map_err(Into::into))
    }

    /// Changes the rate of an existing pair. Errors: validation,
    /// [`ExchangeError::RateNotFound`].
    pub async fn update_rate(&self, pair: &str, rate: &str) -> Result<ExchangeRate, ExchangeError> {
        let pair = CurrencyPair::parse(pair)?;
        let rate = Rate::parse(rate)?;
        self.written(
            self.store
                .update_rate(pair, rate)
                .await
                .map_err(|e| not_found_as(e, ExchangeError::RateNotFound)),
        )
    }

    /// Deletes a rate. Errors: validation, [`ExchangeError::RateNotFound`].
    pub async fn delete_rate(&self, pair: &str) -> Result<(), ExchangeError> {
        let pair = CurrencyPair::parse(pair)?;
        self.written(
            self.store
                .delete_rate(pair)
                .await
                .map_err(|e| not_found_as(e, ExchangeError::RateNotFound)),
        )
    }

    /// Every currency and rate as one table for conversions without I/O: the current
    /// snapshot with [`ExchangeService::with_rate_snapshot`], else freshly read (two
    /// store reads). Convert through it with [`RateTable::quote`].
    pub async fn rate_table(&self) -> Result<Arc<RateTable>, ExchangeError> {
        Ok(match &self.snapshot {
            Some(cache) => cache.get(&*self.store, self.pivot).await?.table.clone(),
            None => Arc::new(load_table(&*self.store, self.pivot).await?),
        })
    }

    /// Converts `amount` of `from` into `to`: the direct rate, else the inverse of the
    /// reverse rate, else a cross rate through the pivot. The shown rate is rounded to
    /// 6 places; the converted amount is `amount` times the unrounded rate, rounded half
    /// away from zero to the target currency's minor units (2 for USD or EUR, 0 for JPY,
    /// 3 for KWD). Converting a currency into itself uses rate 1.
    ///
    /// Errors: validation, [`ExchangeError::CurrencyNotFound`],
    /// [`ExchangeError::NoRate`], [`ExchangeError::Overflow`].
    pub async fn convert(
        &self,
        from: &str,
        to: &str,
        amount: &str,
    ) -> Result<Conversion, ExchangeError> {
        let from = CurrencyCode::parse_field("from", from)?;
        let to = CurrencyCode::parse_field("to", to)?;
        self.convert_amount(from, to, Amount::parse(amount)?).await
    }

    /// [`ExchangeService::convert`] with parsed codes and amount: a `Decimal` read from
    /// a database goes in through [`Amount::new`], not through text.
    pub async fn convert_amount(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        amount: Amount,
    ) -> Result<Conversion, ExchangeError> {
        if let Some(cache) = &self.snapshot {
            let table = cache.get(&*self.store, self.pivot).await?.table.clone();
            let quote = table.quote(from, to, amount)?;
            let record = |code| {
                table
                    .currency(code)
                    .cloned()
                    .ok_or(ExchangeError::CurrencyNotFound)
            };
            return Ok(Conversion::of(record(from)?, record(to)?, quote));
        }
        let candidates = self
            .store
            .conversion_candidates(from, to, self.pivot)
            .await?;
        convert_with(candidates, from, to, self.pivot, amount)
    }
}

/// The conversion rule applied to already-read candidates; pure, so it can be tested
/// and benchmarked without a store.
pub fn convert_with(
    candidates: ConversionCandidates,
    from: CurrencyCode,
    to: CurrencyCode,
    pivot: CurrencyCode,
    amount: Amount,
) -> Result<Conversion, ExchangeError> {
    let ConversionCandidates {
        from: Some(base_currency),
        to: Some(target_currency),
        rates,
    } = candidates
    else {
        return Err(ExchangeError::CurrencyNotFound);
    };
    debug_assert!(base_currency.code == from && target_currency.code == to);
    let lookup = |b: CurrencyCode, t: CurrencyCode| {
        rates
            .iter()
            .find(|q| q.base == b && q.target == t)
            .map(|q| q.rate)
    };
    let units = target_currency.minor_units;
    let quote = quote_by(lookup, from, to, pivot, amount, units)?;
    Ok(Conversion::of(base_currency, target_currency, quote))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;
    use crate::memory::MemoryStore;
    use crate::store::{MockExchangeStore, RateQuote};
    use crate::types::ExchangeRate;
    use rust_decimal::Decimal;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    async fn service_with(rates: &[(&str, &str, &str)]) -> ExchangeService {
        let svc = ExchangeService::new(Arc::new(MemoryStore::new()));
        for code in ["USD", "EUR", "GBP", "JPY", "RUB", "CHF"] {
            svc.add_currency(code, code, "$").await.unwrap();
        }
        for (b, t, r) in rates {
            svc.add_rate(b, t, r).await.unwrap();
        }
        svc
    }

    #[tokio::test]
    async fn direct_rates_are_used_first() {
        let svc = service_with(&[("USD", "EUR", "0.9"), ("EUR", "USD", "1.2")]).await;
        let c = svc.convert("USD", "EUR", "10").await.unwrap();
        assert_eq!((c.rate, c.converted_amount), (d("0.9"), d("9.00")));
        assert_eq!(c.base_currency.code.as_str(), "USD");
        assert_eq!(c.target_currency.code.as_str(), "EUR");
        let back = svc.convert("EUR", "USD", "10").await.unwrap();
        assert_eq!(back.rate, d("1.2"));
    }

    #[tokio::test]
    async fn the_inverse_rate_is_used_when_only_the_reverse_pair_exists() {
        let svc = service_with(&[("USD", "EUR", "0.9")]).await;
        let c = svc.convert("EUR", "USD", "10").await.unwrap();
        assert_eq!(c.rate, d("1.111111"));
        assert_eq!(c.converted_amount, d("11.11"));
    }

    #[tokio::test]
    async fn cross_rates_go_through_the_pivot() {
        let svc = service_with(&[("USD", "EUR", "0.9"), ("USD", "GBP", "0.8")]).await;
        let c = svc.convert("EUR", "GBP", "10").await.unwrap();
        assert_eq!(c.rate, d("0.888889"));
        assert_eq!(c.converted_amount, d("8.89"));
        assert_eq!(c.amount, d("10"));
    }

    #[tokio::test]
    async fn cross_rates_accept_pivot_rates_in_either_direction() {
        let svc = service_with(&[("EUR", "USD", "1.25"), ("USD", "GBP", "0.8")]).await;
        let c = svc.convert("EUR", "GBP", "100").await.unwrap();
        // 1 EUR = 1.25 USD = 1.0 GBP.
        assert_eq!((c.rate, c.converted_amount), (d("1"), d("100.00")));
        let svc = service_with(&[("EUR", "USD", "1.25"), ("GBP", "USD", "1.6")]).await;
        let c = svc.convert("EUR", "GBP", "8").await.unwrap();
        assert_eq!(
            (c.rate, c.converted_amount),
            (d("0.78125").round_dp(6), d("6.25"))
        );
    }

    #[tokio::test]
    async fn the_pivot_is_configurable() {
        let store = Arc::new(MemoryStore::new());
        let svc = ExchangeService::new(store).with_pivot(CurrencyCode::parse("CHF").unwrap());
        for code in ["USD", "EUR", "GBP", "CHF"] {
            svc.add_currency(code, code, "$").await.unwrap();
        }
        svc.add_rate("CHF", "EUR", "1.05").await.unwrap();
        svc.add_rate("CHF", "GBP", "0.9").await.unwrap();
        svc.add_rate("USD", "EUR", "0.9").await.unwrap();
        svc.add_rate("USD", "GBP", "0.8").await.unwrap();
        let c = svc.convert("EUR", "GBP", "10").await.unwrap();
        assert_eq!(c.rate, d("0.857143"));
    }

    /// The converted amount is rounded to the target's minor units, on the snapshot
    /// and on the store path alike; the rate keeps its 6 places.
    #[tokio::test]
    async fn converted_amounts_round_to_the_targets_minor_units() {
        for snapshot in [true, false] {
            let svc = ExchangeService::new(Arc::new(MemoryStore::new()));
            let svc = if snapshot {
                svc.with_rate_snapshot(std::time::Duration::from_secs(60))
            } else {
                svc.with_rate_snapshot(std::time::Duration::ZERO)
            };
            for code in ["USD", "JPY", "KRW", "BHD", "KWD", "CLF"] {
                svc.add_currency(code, code, "¤").await.unwrap();
            }
            svc.add_currency_with_minor_units("Bitcoin", "BTC", "₿", 8)
                .await
                .unwrap();
            for (target, rate) in [
                ("JPY", "151.2345"),
                ("KRW", "1389.675"),
                ("BHD", "0.376949"),
                ("KWD", "0.307251"),
                ("CLF", "0.0281234"),
                ("BTC", "0.0000158737"),
            ] {
                svc.add_rate("USD", target, rate).await.unwrap();
            }
            let converted = |to: &'static str, amount: &'static str| {
                let svc = &svc;
                async move {
                    svc.convert("USD", to, amount)
                        .await
                        .unwrap()
                        .converted_amount
                }
            };
            // 10.05 x 151.2345 = 1519.906725
            assert_eq!(converted("JPY", "10.05").await, d("1520"));
            // 1.5 x 1389.675 = 2084.5125
            assert_eq!(converted("KRW", "1.5").await, d("2085"));
            // 12.5 x 0.376949 = 4.7118625
            assert_eq!(converted("BHD", "12.5").await, d("4.712"));
            // 10 x 0.307251 = 3.07251
            assert_eq!(converted("KWD", "10").await, d("3.073"));
            // 33 x 0.0281234 = 0.9280722
            assert_eq!(converted("CLF", "33").await, d("0.9281"));
            // 1234.56 x 0.0000158737 = 0.019597035...
            assert_eq!(converted("BTC", "1234.56").await, d("0.01959704"));
            // The inverse rounds to the other side's units: 1000 JPY -> USD, 2 places.
            let back = svc.convert("JPY", "USD", "1000").await.unwrap();
            assert_eq!(
                (back.rate, back.converted_amount),
                (d("0.006612"), d("6.61"))
            );
            assert_eq!(
                svc.add_currency_with_minor_units("Big", "BIG", "B", 19)
                    .await
                    .err()
                    .map(|e| e.code()),
                Some("validation_failed")
            );
        }
    }

    #[tokio::test]
    async fn converted_amounts_round_half_away_from_zero() {
        let svc = service_with(&[("USD", "EUR", "0.5")]).await;
        // 0.05 * 0.5 = 0.025 -> 0.03
        let c = svc.convert("USD", "EUR", "0.05").await.unwrap();
        assert_eq!(c.converted_amount, d("0.03"));
        let c = svc.convert("USD", "EUR", "0.01").await.unwrap();
        assert_eq!(c.converted_amount, d("0.01"));
    }

    #[tokio::test]
    async fn no_derivable_rate_is_not_found() {
        let svc = service_with(&[("USD", "EUR", "0.9"), ("GBP", "JPY", "190")]).await;
        assert!(matches!(
            svc.convert("EUR", "JPY", "1").await,
            Err(ExchangeError::NoRate)
        ));
        assert!(matches!(
            svc.convert("USD", "RUB", "1").await,
            Err(ExchangeError::NoRate)
        ));
        assert!(matches!(
            svc.convert("USD", "XXX", "1").await,
            Err(ExchangeError::CurrencyNotFound)
        ));
    }

    #[tokio::test]
    async fn a_currency_converts_into_itself_at_rate_one() {
        let svc = service_with(&[]).await;
        let c = svc.convert("EUR", "EUR", "12.5").await.unwrap();
        assert_eq!((c.rate, c.converted_amount), (d("1"), d("12.5")));
    }

    #[tokio::test]
    async fn bad_inputs_are_validation_errors() {
        let svc = service_with(&[("USD", "EUR", "0.9")]).await;
        for (from, to, amount, field) in [
            ("usd", "EUR", "1", "from"),
            ("USD", "EU", "1", "to"),
            ("USD", "EUR", "0", "amount"),
            ("USD", "EUR", "-3", "amount"),
            ("USD", "EUR", "ten", "amount"),
            ("USD", "EUR", "1e3", "amount"),
            ("USD", "EUR", "10000000000000000", "amount"),
        ] {
            match svc.convert(from, to, amount).await {
                Err(ExchangeError::Validation(e)) => assert_eq!(e.field, field),
                other => panic!("{from} {to} {amount}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn overflow_at_the_limits_is_an_error_not_a_panic() {
        let svc = service_with(&[
            ("USD", "EUR", "0.000000000001"),
            ("USD", "GBP", "1000000000000"),
        ])
        .await;
        // Cross rate 10^24 times 10^15 exceeds any decimal.
        assert!(matches!(
            svc.convert("EUR", "GBP", "1000000000000000").await,
            Err(ExchangeError::Overflow)
        ));
        let c = svc.convert("GBP", "EUR", "1000000000000000").await.unwrap();
        assert_eq!(c.rate, d("0"));
        assert_eq!(c.converted_amount, d("0.00"));
        let c = svc.convert("USD", "GBP", "1000000000000000").await.unwrap();
        assert_eq!(c.converted_amount, d("1000000000000000000000000000"));
    }

    #[tokio::test]
    async fn parsed_values_go_in_without_text_and_fields_are_named_neutrally() {
        let svc = service_with(&[("USD", "EUR", "0.9")]).await;
        let code = |c| CurrencyCode::parse(c).unwrap();
        // A decimal as a database gives it: no `to_string` on the way.
        let amount = Amount::new(Decimal::new(1005, 2)).unwrap();
        let c = svc
            .convert_amount(code("USD"), code("EUR"), amount)
            .await
            .unwrap();
        assert_eq!(c.converted_amount, d("9.05"));
        let pair = CurrencyPair::new(code("EUR"), code("GBP")).unwrap();
        let r = svc
            .add_pair_rate(pair, Rate::parse("0.86").unwrap())
            .await
            .unwrap();
        assert_eq!(r.rate, d("0.86"));
        let fields: Vec<&str> = [
            svc.add_rate("usd", "EUR", "1").await,
            svc.add_rate("USD", "eur", "1").await,
        ]
        .into_iter()
        .map(|r| match r {
            Err(ExchangeError::Validation(v)) => v.field,
            other => panic!("{other:?}"),
        })
        .collect();
        assert_eq!(fields, ["base", "target"]);
    }

    #[tokio::test]
    async fn rate_crud_validates_pairs() {
        let svc = service_with(&[]).await;
        assert!(matches!(
            svc.add_rate("USD", "USD", "1").await,
            Err(ExchangeError::SameCurrency)
        ));
        assert!(matches!(
            svc.add_rate("USD", "XXX", "1").await,
            Err(ExchangeError::CurrencyNotFound)
        ));
        for bad in ["abc", "0", "-0.5"] {
            assert!(matches!(
                svc.add_rate("USD", "EUR", bad).await,
                Err(ExchangeError::Validation(_))
            ));
        }
        let r = svc.add_rate("USD", "EUR", "0.99").await.unwrap();
        assert_eq!(r.rate, d("0.99"));
        assert!(matches!(
            svc.add_rate("USD", "EUR", "1").await,
            Err(ExchangeError::PairExists)
        ));
        let u = svc.update_rate("USDEUR", "0.95").await.unwrap();
        assert_eq!((u.id, u.rate), (r.id, d("0.95")));
        assert!(matches!(
            svc.update_rate("EURUSD", "1").await,
            Err(ExchangeError::RateNotFound)
        ));
        assert!(matches!(
            svc.rate("USDUSD").await,
            Err(ExchangeError::SameCurrency)
        ));
        assert!(matches!(
            svc.delete_currency("USD").await,
            Err(ExchangeError::CurrencyInUse)
        ));
        svc.delete_rate("USDEUR").await.unwrap();
        assert!(matches!(
            svc.delete_rate("USDEUR").await,
            Err(ExchangeError::RateNotFound)
        ));
        svc.delete_currency("USD").await.unwrap();
        assert!(matches!(
            svc.currency("USD").await,
            Err(ExchangeError::CurrencyNotFound)
        ));
    }

    #[tokio::test]
    async fn conversion_reads_the_store_once() {
        let mut store = MockExchangeStore::new();
        store
            .expect_conversion_candidates()
            .times(1)
            .returning(|from, to, _| {
                let cur = |id, code| Currency {
                    id,
                    name: "x".into(),
                    code,
                    sign: "x".into(),
                    minor_units: 2,
                };
                Ok(ConversionCandidates {
                    from: Some(cur(1, from)),
                    to: Some(cur(2, to)),
                    rates: vec![RateQuote {
                        base: from,
                        target: to,
                        rate: Decimal::TWO,
                    }],
                })
            });
        let svc = ExchangeService::new(Arc::new(store));
        let c = svc.convert("AAA", "BBB", "3").await.unwrap();
        assert_eq!(c.converted_amount, d("6"));
    }

    #[tokio::test]
    async fn a_snapshot_serves_conversions_without_reading_the_store_again() {
        let mut store = MockExchangeStore::new();
        let cur = |id, c: &str| Currency {
            id,
            name: c.into(),
            code: CurrencyCode::parse(c).unwrap(),
            sign: "$".into(),
            minor_units: 2,
        };
        let (usd, eur, gbp) = (cur(1, "USD"), cur(2, "EUR"), cur(3, "GBP"));
        store
            .expect_list_currencies()
            .times(1)
            .returning(move || Ok(vec![usd.clone(), eur.clone(), gbp.clone()]));
        store.expect_list_rates().times(1).returning(move || {
            Ok(vec![
                ExchangeRate {
                    id: 1,
                    base_currency: cur(1, "USD"),
                    target_currency: cur(2, "EUR"),
                    rate: d("0.9"),
                },
                ExchangeRate {
                    id: 2,
                    base_currency: cur(1, "USD"),
                    target_currency: cur(3, "GBP"),
                    rate: d("0.8"),
                },
            ])
        });
        // No conversion_candidates expectation: calling it would fail the test.
        let svc =
            ExchangeService::new(Arc::new(store)).with_rate_snapshot(Duration::from_secs(3600));
        for _ in 0..3 {
            let c = svc.convert("EUR", "GBP", "10").await.unwrap();
            assert_eq!((c.rate, c.converted_amount), (d("0.888889"), d("8.89")));
        }
        let inverse = svc.convert("EUR", "USD", "10").await.unwrap();
        assert_eq!(inverse.rate, d("1.111111"));
        assert!(matches!(
            svc.convert("EUR", "JPY", "1").await,
            Err(ExchangeError::CurrencyNotFound)
        ));
    }

    #[tokio::test]
    async fn writes_through_the_service_refresh_the_snapshot_at_once() {
        let svc = service_with(&[("USD", "EUR", "0.9")])
            .await
            .with_rate_snapshot(Duration::from_secs(3600));
        assert_eq!(svc.convert("USD", "EUR", "1").await.unwrap().rate, d("0.9"));
        svc.update_rate("USDEUR", "0.95").await.unwrap();
        assert_eq!(
            svc.convert("USD", "EUR", "1").await.unwrap().rate,
            d("0.95")
        );
        svc.add_rate("USD", "GBP", "0.8").await.unwrap();
        assert_eq!(
            svc.convert("EUR", "GBP", "0.95")
                .await
                .unwrap()
                .converted_amount,
            d("0.80")
        );
        svc.delete_rate("USDGBP").await.unwrap();
        assert!(matches!(
            svc.convert("EUR", "GBP", "1").await,
            Err(ExchangeError::NoRate)
        ));
    }

    #[tokio::test]
    async fn writes_made_elsewhere_are_seen_once_the_snapshot_expires() {
        let store = Arc::new(MemoryStore::new());
        let fresh = ExchangeService::new(store.clone()).with_rate_snapshot(Duration::from_nanos(1));
        let cached =
            ExchangeService::new(store.clone()).with_rate_snapshot(Duration::from_secs(3600));
        let other = ExchangeService::new(store);
        for c in ["USD", "EUR"] {
            other.add_currency(c, c, "$").await.unwrap();
        }
        other.add_rate("USD", "EUR", "0.9").await.unwrap();
        assert_eq!(
            cached.convert("USD", "EUR", "1").await.unwrap().rate,
            d("0.9")
        );
        assert_eq!(
            fresh.convert("USD", "EUR", "1").await.unwrap().rate,
            d("0.9")
        );
        // Another instance changes the rate.
        other.update_rate("USDEUR", "0.5").await.unwrap();
        assert_eq!(
            fresh.convert("USD", "EUR", "1").await.unwrap().rate,
            d("0.5")
        );
        assert_eq!(
            cached.convert("USD", "EUR", "1").await.unwrap().rate,
            d("0.9")
        );
    }

    #[tokio::test]
    async fn store_outages_surface_as_unavailable() {
        let mut store = MockExchangeStore::new();
        store
            .expect_list_currencies()
            .returning(|| Err(StoreError::Unavailable("down".into())));
        let svc = ExchangeService::new(Arc::new(store));
        assert!(matches!(
            svc.currencies().await,
            Err(ExchangeError::Unavailable(_))
        ));
    }

    fn code(s: &str) -> CurrencyCode {
        CurrencyCode::parse(s).unwrap()
    }

    fn cands(rates: &[(&str, &str, Decimal)]) -> ConversionCandidates {
        let cur = |c: &str| {
            Some(Currency {
                id: 1,
                name: c.into(),
                code: code(c),
                sign: c.into(),
                minor_units: 2,
            })
        };
        ConversionCandidates {
            from: cur("AAA"),
            to: cur("BBB"),
            rates: rates
                .iter()
                .map(|(b, t, r)| RateQuote {
                    base: code(b),
                    target: code(t),
                    rate: *r,
                })
                .collect(),
        }
    }

    fn positive(max_units: u64) -> impl Strategy<Value = Decimal> {
        (1u64..=max_units * 1_000_000).prop_map(|n| Decimal::new(n as i64, 6))
    }

    proptest! {
        #[test]
        fn inverse_conversion_agrees_with_dividing_by_the_rate(r in positive(1000), a in positive(1_000_000)) {
            let c = convert_with(cands(&[("BBB", "AAA", r)]), code("AAA"), code("BBB"), code("USD"), Amount::parse(&a.to_string()).unwrap()).unwrap();
            let exact = a / r;
            prop_assert!((c.converted_amount - exact).abs() <= d("0.005") + exact * d("0.0000000000000001"));
            prop_assert_eq!(c.rate, round_half_away(Decimal::ONE / r, 6));
        }

        #[test]
        fn cross_conversion_agrees_with_the_direct_rate_it_implies(x in positive(1000), y in positive(1000), a in positive(1_000_000)) {
            let amount = Amount::parse(&a.to_string()).unwrap();
            let cross = convert_with(cands(&[("USD", "AAA", x), ("USD", "BBB", y)]), code("AAA"), code("BBB"), code("USD"), amount).unwrap();
            let direct = convert_with(cands(&[("AAA", "BBB", y / x)]), code("AAA"), code("BBB"), code("USD"), amount).unwrap();
            prop_assert_eq!(cross.converted_amount, direct.converted_amount);
            let exact = a * y / x;
            prop_assert!((cross.converted_amount - exact).abs() <= d("0.005") + exact * d("0.0000000000000001"));
        }

        #[test]
        fn no_rate_or_amount_makes_conversion_panic(
            r1 in any::<u64>(), s1 in 0u32..=12, r2 in any::<u64>(), s2 in 0u32..=12, a in any::<u64>(), sa in 0u32..=12
        ) {
            let dec = |n: u64, s: u32| Decimal::from_i128_with_scale(i128::from(n.max(1)), s);
            let Ok(amount) = Amount::parse(&dec(a, sa).to_string()) else { return Ok(()); };
            let _ = convert_with(cands(&[("USD", "AAA", dec(r1, s1)), ("BBB", "USD", dec(r2, s2))]), code("AAA"), code("BBB"), code("USD"), amount);
        }
    }
}
