//! The storage contract of exchange-core.

use async_trait::async_trait;
use rust_decimal::Decimal;

use crate::error::StoreError;
use crate::source::RateObservation;
use crate::types::*;

/// An observation as stored: what its source published, and when this store recorded
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRate {
    /// The observation.
    pub observation: RateObservation,
    /// When it was recorded.
    pub recorded_at: time::OffsetDateTime,
}

/// Everything an as-of conversion from `from` to `to` may need, read at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatedCandidates {
    /// For every pair among `from`, `to` and the pivot, its latest observation on or
    /// before the day asked for: at most six.
    pub rates: Vec<RecordedRate>,
    /// The minor units of `to`'s currency record, if it has one.
    pub to_minor_units: Option<u32>,
}

/// One stored rate, reduced to what conversion needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuote {
    /// Base currency.
    pub base: CurrencyCode,
    /// Target currency.
    pub target: CurrencyCode,
    /// Units of target per unit of base.
    pub rate: Decimal,
}

/// Everything a conversion from `from` to `to` may need, read at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionCandidates {
    /// The source currency, if it exists.
    pub from: Option<Currency>,
    /// The target currency, if it exists.
    pub to: Option<Currency>,
    /// Every stored rate whose base and target are both among `from`, `to` and the
    /// pivot: at most six.
    pub rates: Vec<RateQuote>,
}

/// Storage of currencies and exchange rates. With the feature `mocks`,
/// `MockExchangeStore` (mockall) answers what a test sets.
///
/// Implementations must behave as the in-memory store (feature `memory`) does; the
/// conformance suite (feature `testkit`) checks it. Codes are compared exactly (they
/// are already uppercase). Lists are ordered by id. Connection failures are
/// [`StoreError::Unavailable`].
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ExchangeStore: Send + Sync + std::fmt::Debug + 'static {
    /// Every currency, by id.
    async fn list_currencies(&self) -> Result<Vec<Currency>, StoreError>;

    /// The currency with this code, or `None`.
    async fn currency(&self, code: CurrencyCode) -> Result<Option<Currency>, StoreError>;

    /// Adds a currency with a new id. Errors: [`StoreError::CurrencyExists`].
    async fn add_currency(&self, currency: NewCurrency) -> Result<Currency, StoreError>;

    /// Deletes a currency. Errors: [`StoreError::CurrencyNotFound`],
    /// [`StoreError::CurrencyInUse`] while any rate names it.
    async fn delete_currency(&self, code: CurrencyCode) -> Result<(), StoreError>;

    /// Every rate with its currencies, by id.
    async fn list_rates(&self) -> Result<Vec<ExchangeRate>, StoreError>;

    /// The rate of exactly this (base, target) pair, or `None`; the inverse pair is a
    /// different pair.
    async fn rate(&self, pair: CurrencyPair) -> Result<Option<ExchangeRate>, StoreError>;

    /// Adds a rate. Errors: [`StoreError::CurrencyNotFound`] if either currency is
    /// missing, [`StoreError::PairExists`]. Of concurrent adds of one pair exactly one
    /// succeeds.
    async fn add_rate(&self, pair: CurrencyPair, rate: Rate) -> Result<ExchangeRate, StoreError>;

    /// Replaces the value of an existing rate, keeping its id.
    /// Errors: [`StoreError::RateNotFound`].
    async fn update_rate(&self, pair: CurrencyPair, rate: Rate)
    -> Result<ExchangeRate, StoreError>;

    /// Deletes a rate. Errors: [`StoreError::RateNotFound`].
    async fn delete_rate(&self, pair: CurrencyPair) -> Result<(), StoreError>;

    /// Records a batch of observations in one atomic step. An observation whose pair,
    /// day and source are already recorded is left as it is (the first recording
    /// stands), so recording a batch again, or twice at once, changes nothing; the
    /// currencies need no record. Returns how many observations were new.
    async fn record_rates(
        &self,
        batch: Vec<RateObservation>,
        recorded_at: time::OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// For every pair whose base and target are both among `from`, `to` and `pivot`,
    /// its latest observation with `as_of <= at` (of several on that day, the one
    /// recorded last, then by source name), and the minor units of `to`'s currency
    /// record; in one read.
    async fn rates_as_of(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        pivot: CurrencyCode,
        at: time::Date,
    ) -> Result<DatedCandidates, StoreError>;

    /// The observations of exactly the pair `base` -> `target` with `since <= as_of <=
    /// until` (each bound optional), newest first (by `as_of`, then recorded last,
    /// then source name), skipping `offset`, at most `limit`.
    async fn rate_history(
        &self,
        base: CurrencyCode,
        target: CurrencyCode,
        since: Option<time::Date>,
        until: Option<time::Date>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<RecordedRate>, StoreError>;

    /// For every pair and every day from `since` (inclusive; all days when `None`),
    /// the observation that counts on that day (recorded last, then by source name,
    /// as in [`ExchangeStore::rates_as_of`]), ordered by base, target and day; in one
    /// read. What [`crate::dated::DatedRateTable`] is built from.
    async fn rates_by_day(
        &self,
        since: Option<time::Date>,
    ) -> Result<Vec<RecordedRate>, StoreError>;

    /// The newest day observed by `source`, over all pairs (`None` before its first
    /// observation).
    async fn newest_rate_day(&self, source: &str) -> Result<Option<time::Date>, StoreError>;

    /// The two currencies and every rate among `from`, `to` and `pivot`, in one read.
    async fn conversion_candidates(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        pivot: CurrencyCode,
    ) -> Result<ConversionCandidates, StoreError>;
}
