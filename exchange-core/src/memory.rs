//! In-memory [`ExchangeStore`] with the same semantics as the Postgres store.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use rust_decimal::Decimal;

use crate::error::StoreError;
use crate::source::RateObservation;
use crate::store::*;
use crate::types::*;

/// A pair's observations by day and source: its rate and when it was recorded.
type PairHistory = BTreeMap<(time::Date, String), (Rate, time::OffsetDateTime)>;

#[derive(Debug, Default)]
struct State {
    currencies: BTreeMap<i64, Currency>,
    rates: BTreeMap<i64, (CurrencyCode, CurrencyCode, Decimal)>,
    /// Per pair, so an as-of read or a history is a range of one map.
    observations: BTreeMap<(CurrencyCode, CurrencyCode), PairHistory>,
    next_currency: i64,
    next_rate: i64,
}

impl State {
    /// The observations of `base` -> `target` from `since` to `until` (inclusive,
    /// each optional), oldest first.
    fn history(
        &self,
        base: CurrencyCode,
        target: CurrencyCode,
        since: Option<time::Date>,
        until: Option<time::Date>,
    ) -> impl DoubleEndedIterator<Item = RecordedRate> + '_ {
        use std::ops::Bound;
        let lower = Bound::Included((since.unwrap_or(time::Date::MIN), String::new()));
        let upper = match until.map(|u| u.next_day()) {
            Some(Some(next)) => Bound::Excluded((next, String::new())),
            _ => Bound::Unbounded,
        };
        self.observations
            .get(&(base, target))
            .into_iter()
            .flat_map(move |days| days.range((lower.clone(), upper.clone())))
            .map(move |((as_of, source), (rate, recorded_at))| RecordedRate {
                observation: RateObservation {
                    base,
                    target,
                    rate: *rate,
                    as_of: *as_of,
                    source: source.clone(),
                },
                recorded_at: *recorded_at,
            })
    }

    /// Of each day of `base` -> `target` from `since` to `until`, the observation that
    /// counts; oldest day first.
    fn days(
        &self,
        base: CurrencyCode,
        target: CurrencyCode,
        since: Option<time::Date>,
        until: Option<time::Date>,
    ) -> Vec<RecordedRate> {
        let all: Vec<RecordedRate> = self.history(base, target, since, until).collect();
        all.chunk_by(|a, b| a.observation.as_of == b.observation.as_of)
            .filter_map(|day| counting(day.iter().cloned()))
            .collect()
    }

    /// The observation that counts on the last day of `base` -> `target` on or before
    /// `at`.
    fn last_day(
        &self,
        base: CurrencyCode,
        target: CurrencyCode,
        at: time::Date,
    ) -> Option<RecordedRate> {
        let mut newest_first = self.history(base, target, None, Some(at)).rev().peekable();
        let day = newest_first.peek()?.observation.as_of;
        counting(newest_first.take_while(|r| r.observation.as_of == day))
    }

    fn by_code(&self, code: CurrencyCode) -> Option<&Currency> {
        self.currencies.values().find(|c| c.code == code)
    }

    fn rate_id(&self, pair: CurrencyPair) -> Option<i64> {
        self.rates
            .iter()
            .find(|(_, (b, t, _))| *b == pair.base && *t == pair.target)
            .map(|(id, _)| *id)
    }

    fn full(&self, id: i64) -> ExchangeRate {
        let (b, t, rate) = self.rates[&id];
        ExchangeRate {
            id,
            base_currency: self.by_code(b).expect("rates reference currencies").clone(),
            target_currency: self.by_code(t).expect("rates reference currencies").clone(),
            rate,
        }
    }
}

/// Of several observations of one pair and day, the one that counts: recorded last,
/// then the first source by name.
fn counting(day: impl Iterator<Item = RecordedRate>) -> Option<RecordedRate> {
    day.reduce(|held, r| {
        let newer = r.recorded_at > held.recorded_at
            || (r.recorded_at == held.recorded_at
                && r.observation.source < held.observation.source);
        if newer { r } else { held }
    })
}

/// An [`ExchangeStore`] in process memory; one mutex makes every call atomic.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl ExchangeStore for MemoryStore {
    async fn list_currencies(&self) -> Result<Vec<Currency>, StoreError> {
        Ok(self.lock().currencies.values().cloned().collect())
    }

    async fn currency(&self, code: CurrencyCode) -> Result<Option<Currency>, StoreError> {
        Ok(self.lock().by_code(code).cloned())
    }

    async fn add_currency(&self, c: NewCurrency) -> Result<Currency, StoreError> {
        let mut st = self.lock();
        if st.by_code(c.code).is_some() {
            return Err(StoreError::CurrencyExists);
        }
        st.next_currency += 1;
        let currency = Currency {
            id: st.next_currency,
            name: c.name,
            code: c.code,
            sign: c.sign,
            minor_units: c.minor_units,
        };
        st.currencies.insert(currency.id, currency.clone());
        Ok(currency)
    }

    async fn delete_currency(&self, code: CurrencyCode) -> Result<(), StoreError> {
        let mut st = self.lock();
        let id = st.by_code(code).ok_or(StoreError::CurrencyNotFound)?.id;
        if st.rates.values().any(|(b, t, _)| *b == code || *t == code) {
            return Err(StoreError::CurrencyInUse);
        }
        st.currencies.remove(&id);
        Ok(())
    }

    async fn list_rates(&self) -> Result<Vec<ExchangeRate>, StoreError> {
        let st = self.lock();
        Ok(st.rates.keys().map(|id| st.full(*id)).collect())
    }

    async fn rate(&self, pair: CurrencyPair) -> Result<Option<ExchangeRate>, StoreError> {
        let st = self.lock();
        Ok(st.rate_id(pair).map(|id| st.full(id)))
    }

    async fn add_rate(&self, pair: CurrencyPair, rate: Rate) -> Result<ExchangeRate, StoreError> {
        let mut st = self.lock();
        if st.by_code(pair.base).is_none() || st.by_code(pair.target).is_none() {
            return Err(StoreError::CurrencyNotFound);
        }
        if st.rate_id(pair).is_some() {
            return Err(StoreError::PairExists);
        }
        st.next_rate += 1;
        let id = st.next_rate;
        st.rates.insert(id, (pair.base, pair.target, rate.value()));
        Ok(st.full(id))
    }

    async fn update_rate(
        &self,
        pair: CurrencyPair,
        rate: Rate,
    ) -> Result<ExchangeRate, StoreError> {
        let mut st = self.lock();
        let id = st.rate_id(pair).ok_or(StoreError::RateNotFound)?;
        st.rates.get_mut(&id).expect("id just found").2 = rate.value();
        Ok(st.full(id))
    }

    async fn delete_rate(&self, pair: CurrencyPair) -> Result<(), StoreError> {
        let mut st = self.lock();
        let id = st.rate_id(pair).ok_or(StoreError::RateNotFound)?;
        st.rates.remove(&id);
        Ok(())
    }

    async fn record_rates(
        &self,
        batch: Vec<RateObservation>,
        recorded_at: time::OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        let mut new = 0;
        for o in batch {
            let days = st.observations.entry((o.base, o.target)).or_default();
            if let std::collections::btree_map::Entry::Vacant(e) = days.entry((o.as_of, o.source)) {
                e.insert((o.rate, recorded_at));
                new += 1;
            }
        }
        Ok(new)
    }

    async fn rates_as_of(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        pivot: CurrencyCode,
        at: time::Date,
    ) -> Result<DatedCandidates, StoreError> {
        let st = self.lock();
        let codes = [from, to, pivot];
        let mut rates = Vec::new();
        for (i, base) in codes.iter().enumerate() {
            for (j, target) in codes.iter().enumerate() {
                // Each ordered pair of distinct codes once.
                if base == target || codes[..i].contains(base) || codes[..j].contains(target) {
                    continue;
                }
                rates.extend(st.last_day(*base, *target, at));
            }
        }
        Ok(DatedCandidates {
            rates,
            to_minor_units: st.by_code(to).map(|c| c.minor_units),
        })
    }

    async fn rates_by_day(
        &self,
        since: Option<time::Date>,
    ) -> Result<Vec<RecordedRate>, StoreError> {
        let st = self.lock();
        let pairs: Vec<_> = st.observations.keys().copied().collect();
        Ok(pairs
            .into_iter()
            .flat_map(|(b, t)| st.days(b, t, since, None))
            .collect())
    }

    async fn newest_rate_day(&self, source: &str) -> Result<Option<time::Date>, StoreError> {
        let st = self.lock();
        Ok(st
            .observations
            .values()
            .flat_map(|days| days.keys())
            .filter(|(_, s)| s == source)
            .map(|(day, _)| *day)
            .max())
    }

    async fn rate_history(
        &self,
        base: CurrencyCode,
        target: CurrencyCode,
        since: Option<time::Date>,
        until: Option<time::Date>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<RecordedRate>, StoreError> {
        let st = self.lock();
        let mut rows: Vec<RecordedRate> = st.history(base, target, since, until).collect();
        rows.sort_by(|a, b| {
            (b.observation.as_of, b.recorded_at)
                .cmp(&(a.observation.as_of, a.recorded_at))
                .then_with(|| a.observation.source.cmp(&b.observation.source))
        });
        Ok(rows
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .collect())
    }

    async fn conversion_candidates(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        pivot: CurrencyCode,
    ) -> Result<ConversionCandidates, StoreError> {
        let st = self.lock();
        let wanted = [from, to, pivot];
        Ok(ConversionCandidates {
            from: st.by_code(from).cloned(),
            to: st.by_code(to).cloned(),
            rates: st
                .rates
                .values()
                .filter(|(b, t, _)| wanted.contains(b) && wanted.contains(t))
                .map(|(b, t, r)| RateQuote {
                    base: *b,
                    target: *t,
                    rate: *r,
                })
                .collect(),
        })
    }
}

#[cfg(all(test, feature = "testkit"))]
mod conformance {
    use std::sync::Arc;

    use super::MemoryStore;
    use crate::store::ExchangeStore;

    struct Memory(Arc<MemoryStore>);

    #[async_trait::async_trait]
    impl crate::testkit::Harness for Memory {
        async fn setup() -> Self {
            Memory(Arc::new(MemoryStore::new()))
        }
        fn store(&self) -> Arc<dyn ExchangeStore> {
            self.0.clone()
        }
    }

    crate::exchange_store_conformance!(Memory);
}
