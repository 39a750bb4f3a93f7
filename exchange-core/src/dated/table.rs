//! [`DatedRateTable`]: every pair's rate of every day in memory, for conversions as of
//! a day without I/O, by the rules of [`ExchangeService::convert_at`].

use std::collections::HashMap;
use std::sync::RwLock;

use rust_decimal::Decimal;
use time::{Date, Duration};

use super::{RatePath, derive, quote_units, settle};
use crate::error::ExchangeError;
use crate::service::ExchangeService;
use crate::store::RecordedRate;
use crate::table::{Fast, pair_key};
use crate::types::*;

/// Most (pair, day) conversions whose derivation a table remembers; past it, further
/// ones are derived on every call.
const MAX_DERIVED: usize = 65_536;

/// One day's rate of a pair.
#[derive(Debug, Clone, Copy)]
struct Point {
    day: Date,
    /// `day` as a Julian day number, for ages without calendar arithmetic.
    julian: i32,
    rate: Decimal,
    /// Index into the table's source names.
    source: u16,
}

/// An observation a [`TableQuote`] used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLeg<'a> {
    /// Base currency of the observation.
    pub base: CurrencyCode,
    /// Target currency of the observation.
    pub target: CurrencyCode,
    /// Its rate, as published.
    pub rate: Decimal,
    /// The day it holds for.
    pub as_of: Date,
    /// Whole days from `as_of` to the conversion's day.
    pub age_days: i64,
    /// Who published it.
    pub source: &'a str,
}

/// A conversion through a [`DatedRateTable`]: what [`ExchangeService::convert_at`]
/// answers, borrowed from the table instead of allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableQuote<'a> {
    /// Units of `to` per unit of `from`, at full precision.
    pub rate: Decimal,
    /// The amount given.
    pub amount: Decimal,
    /// `amount` times `rate`, rounded half away from zero to `minor_units` places.
    pub converted_amount: Decimal,
    /// The target's minor units.
    pub minor_units: u32,
    /// How the rate was derived.
    pub path: RatePath,
    /// The observations used: none, one, or a cross rate's two legs, in that order.
    pub legs: [Option<TableLeg<'a>>; 2],
}

/// A derivation remembered per (pair, day): the rate, the target's units, the path,
/// and the legs as (base, target, point).
type Derived = (
    Decimal,
    u32,
    RatePath,
    [Option<(CurrencyCode, CurrencyCode, Point)>; 2],
);

/// Every pair's counting observation of every day, as read at one moment (from
/// [`ExchangeService::dated_rate_table`]). A conversion as of a day finds each rate by
/// a binary search of its pair's days; the derivation of a (pair, day) is remembered,
/// so later conversions of it are a lookup and one multiplication.
#[derive(Debug)]
pub struct DatedRateTable {
    pivot: CurrencyCode,
    /// Minor units of the currency records, by code.
    minor_units: HashMap<u32, u32, Fast>,
    /// Per pair, its days in ascending order.
    pairs: HashMap<u64, Vec<Point>, Fast>,
    sources: Vec<String>,
    max_age: Option<Duration>,
    derived: RwLock<HashMap<u64, Derived, Fast>>,
}

impl DatedRateTable {
    /// A table of these observations (one per pair and day, as
    /// [`ExchangeStore::rates_by_day`](crate::ExchangeStore::rates_by_day) gives them;
    /// of several, the last given counts) and currency records, crossing through
    /// `pivot`.
    pub fn new(
        pivot: CurrencyCode,
        currencies: impl IntoIterator<Item = Currency>,
        observations: impl IntoIterator<Item = RecordedRate>,
    ) -> Self {
        let mut sources: Vec<String> = Vec::new();
        let mut pairs: HashMap<u64, Vec<Point>, Fast> = HashMap::default();
        for r in observations {
            let o = r.observation;
            let source = match sources.iter().position(|s| *s == o.source) {
                Some(i) => i,
                None => {
                    sources.push(o.source);
                    sources.len() - 1
                }
            };
            pairs
                .entry(pair_key(o.base, o.target))
                .or_default()
                .push(Point {
                    day: o.as_of,
                    julian: o.as_of.to_julian_day(),
                    rate: o.rate.value(),
                    source: u16::try_from(source).unwrap_or(u16::MAX),
                });
        }
        for days in pairs.values_mut() {
            // Stable: of two points of one day the last given stays last.
            days.sort_by_key(|p| p.day);
            days.reverse();
            days.dedup_by_key(|p| p.day);
            days.reverse();
        }
        Self {
            pivot,
            minor_units: currencies
                .into_iter()
                .map(|c| (c.code.key(), c.minor_units))
                .collect(),
            pairs,
            sources,
            max_age: None,
            derived: RwLock::default(),
        }
    }

    /// The maximum age of a rate when a conversion gives none.
    pub fn with_max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// The latest point of `base` -> `target` on or before `at`.
    fn point(&self, base: CurrencyCode, target: CurrencyCode, at: Date) -> Option<Point> {
        let days = self.pairs.get(&pair_key(base, target))?;
        let after = days.partition_point(|p| p.day <= at);
        after.checked_sub(1).map(|i| days[i])
    }

    /// Converts `amount` of `from` into `to` as of the day `at`, as
    /// [`ExchangeService::convert_at`] does over the same observations, refusing a
    /// rate older than `max_age` (else the table's, see
    /// [`DatedRateTable::with_max_age`]).
    ///
    /// Errors: [`ExchangeError::NoRate`], [`ExchangeError::StaleRate`],
    /// [`ExchangeError::Overflow`].
    pub fn quote_at(
        &self,
        from: CurrencyCode,
        to: CurrencyCode,
        amount: Amount,
        at: Date,
        max_age: Option<Duration>,
    ) -> Result<TableQuote<'_>, ExchangeError> {
        let at_julian = at.to_julian_day();
        let key = day_key(from, to, at_julian);
        let known = self
            .derived
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .copied();
        let (rate, units, path, legs) = match known {
            Some(d) => d,
            None => {
                let (rate, path, legs) = derive(
                    |b, t| self.point(b, t, at).map(|p| (p.rate, (b, t, p))),
                    from,
                    to,
                    self.pivot,
                )?;
                let units = quote_units(self.minor_units.get(&to.key()).copied(), to);
                let d = (rate, units, path, legs);
                let mut derived = self.derived.write().unwrap_or_else(|p| p.into_inner());
                if derived.len() < MAX_DERIVED {
                    derived.insert(key, d);
                }
                d
            }
        };
        let legs = legs.map(|leg| {
            leg.map(|(base, target, p)| TableLeg {
                base,
                target,
                rate: p.rate,
                as_of: p.day,
                age_days: i64::from(at_julian) - i64::from(p.julian),
                source: self.sources.get(usize::from(p.source)).map_or("", |s| s),
            })
        });
        let converted_amount = settle(
            amount.value(),
            rate,
            units,
            legs.iter().flatten().map(|l| l.age_days),
            max_age.or(self.max_age),
        )?;
        Ok(TableQuote {
            rate,
            amount: amount.value(),
            converted_amount,
            minor_units: units,
            path,
            legs,
        })
    }
}

/// (from, to, day) as one number: 5 bits per letter (codes are A-Z), then the day.
fn day_key(from: CurrencyCode, to: CurrencyCode, julian: i32) -> u64 {
    let letters = |c: CurrencyCode| {
        let k = u64::from(c.key());
        ((k >> 16) & 0x1f) << 10 | ((k >> 8) & 0x1f) << 5 | (k & 0x1f)
    };
    (letters(from) << 47) | (letters(to) << 32) | u64::from(julian as u32)
}

impl ExchangeService {
    /// Every pair's rate of every day from `since` (all when `None`) and every
    /// currency, read into a [`DatedRateTable`] (two store reads) with this service's
    /// pivot and maximum rate age, for conversions as of a day without I/O.
    pub async fn dated_rate_table(
        &self,
        since: Option<Date>,
    ) -> Result<DatedRateTable, ExchangeError> {
        let currencies = self.store().list_currencies().await?;
        let observations = self.store().rates_by_day(since).await?;
        Ok(DatedRateTable::new(self.pivot(), currencies, observations)
            .with_max_age(self.max_rate_age))
    }
}
