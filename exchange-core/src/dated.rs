//! Rates over time: recording observations, importing a source, a pair's history, and
//! conversion as of a day, with each rate's day, age and source shown.
//!
//! "As of" a day means, for each rate a conversion uses, the latest observation on or
//! before that day: the ECB publishes on business days only, so a Saturday or a
//! holiday uses the last business day's rate, and a day before a pair's first
//! observation has none. Inverse and cross rates are derived from those same
//! observations, by the rule of [`ExchangeService::convert`]. A maximum age refuses a
//! rate older than allowed ([`ExchangeError::StaleRate`]), never silently.

use std::cell::Cell;

mod table;
pub use table::{DatedRateTable, TableLeg, TableQuote};

use rust_decimal::Decimal;
use time::{Date, Duration};

use crate::error::ExchangeError;
use crate::iso4217::iso_currency;
use crate::service::ExchangeService;
use crate::source::{RateObservation, RateSource};
use crate::store::RecordedRate;
use crate::table::rate_by;
use crate::types::*;

/// How a conversion's rate was derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatePath {
    /// A currency into itself: rate 1, no observation.
    Same,
    /// The pair's own rate.
    Direct,
    /// 1 / the reverse pair's rate.
    Inverse,
    /// Through the pivot: (pivot -> to) / (pivot -> from), each leg direct or inverse.
    Cross {
        /// The pivot currency.
        pivot: CurrencyCode,
    },
}

/// One observation a conversion used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLeg {
    /// The observation as recorded (its pair may be the reverse of the leg's).
    pub observation: RateObservation,
    /// Whole days from its `as_of` to the day of the conversion.
    pub age_days: i64,
}

/// A conversion as of a day, with what it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedQuote {
    /// Source currency.
    pub from: CurrencyCode,
    /// Target currency.
    pub to: CurrencyCode,
    /// The day the conversion is as of.
    pub at: Date,
    /// The amount given.
    pub amount: Decimal,
    /// Units of `to` per unit of `from`, at full precision.
    pub rate: Decimal,
    /// `amount` times `rate`, rounded half away from zero to `minor_units` places.
    pub converted_amount: Decimal,
    /// The target's minor units: its currency record's, else the ISO catalogue's,
    /// else 2.
    pub minor_units: u32,
    /// How the rate was derived.
    pub path: RatePath,
    /// The observations used: none, one, or the two legs of a cross rate.
    pub legs: Vec<RateLeg>,
}

impl ExchangeService {
    /// The default maximum age of the rates an as-of conversion uses (none unless
    /// set); [`ExchangeService::convert_at`] may give its own.
    pub fn with_max_rate_age(mut self, max_age: Duration) -> Self {
        self.max_rate_age = Some(max_age);
        self
    }

    /// Records observations (a batch from a source, or rates typed in), in one atomic
    /// store call; already recorded (pair, day, source) keys are left as they are.
    /// Returns how many were new.
    pub async fn record_rates(&self, batch: Vec<RateObservation>) -> Result<u64, ExchangeError> {
        let now = time::OffsetDateTime::now_utc();
        Ok(self.store().record_rates(batch, now).await?)
    }

    /// Fetches `source` and records its batch. A failed or malformed fetch records
    /// nothing: [`ExchangeError::Feed`]. Returns how many observations were new
    /// (0 when the same batch was imported before).
    pub async fn import(&self, source: &dyn RateSource) -> Result<u64, ExchangeError> {
        let batch = source.fetch().await?;
        self.record_rates(batch).await
    }

    /// The recorded observations of the pair `base` -> `target` (exactly that pair),
    /// from `since` to `until` (inclusive, each optional), newest first, at most
    /// `limit` (1 to 1000) after `offset`.
    pub async fn rate_history(
        &self,
        base: &str,
        target: &str,
        since: Option<Date>,
        until: Option<Date>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<RecordedRate>, ExchangeError> {
        let base = CurrencyCode::parse_field("base", base)?;
        let target = CurrencyCode::parse_field("target", target)?;
        let limit = limit.clamp(1, 1000);
        Ok(self
            .store()
            .rate_history(base, target, since, until, limit, offset)
            .await?)
    }

    /// Converts `amount` of `from` into `to` as of the day `at`, with the latest
    /// observation on or before `at` for each rate used (one store read), refusing a
    /// rate older than `max_age` (or the service's default). The converted amount is
    /// rounded half away from zero to the target's minor units; the rate keeps its
    /// full precision.
    ///
    /// Errors: validation, [`ExchangeError::NoRate`] (no observation on or before
    /// `at` connects the two), [`ExchangeError::StaleRate`],
    /// [`ExchangeError::Overflow`].
    pub async fn convert_at(
        &self,
        from: &str,
        to: &str,
        amount: &str,
        at: Date,
        max_age: Option<Duration>,
    ) -> Result<DatedQuote, ExchangeError> {
        let from = CurrencyCode::parse_field("from", from)?;
        let to = CurrencyCode::parse_field("to", to)?;
        let amount = Amount::parse(amount)?;
        let candidates = self.store().rates_as_of(from, to, self.pivot(), at).await?;
        let (rate, path, legs) = derive(
            |b, t| {
                let found = candidates
                    .rates
                    .iter()
                    .find(|r| r.observation.base == b && r.observation.target == t)?;
                Some((found.observation.rate.value(), &found.observation))
            },
            from,
            to,
            self.pivot(),
        )?;
        let legs: Vec<RateLeg> = legs
            .into_iter()
            .flatten()
            .map(|observation| RateLeg {
                age_days: (at - observation.as_of).whole_days(),
                observation: observation.clone(),
            })
            .collect();
        let minor_units = quote_units(candidates.to_minor_units, to);
        let converted_amount = settle(
            amount.value(),
            rate,
            minor_units,
            legs.iter().map(|l| l.age_days),
            max_age.or(self.max_rate_age),
        )?;
        Ok(DatedQuote {
            from,
            to,
            at,
            amount: amount.value(),
            rate,
            converted_amount,
            minor_units,
            path,
            legs,
        })
    }
}

/// The rate of `from` -> `to` by the rule of [`ExchangeService::convert`] (direct,
/// inverse, else cross through `pivot`), with its path and the legs `lookup` gave for
/// it (each a `(rate, leg)` of an observed pair), in the order used.
pub(crate) fn derive<L: Copy>(
    lookup: impl Fn(CurrencyCode, CurrencyCode) -> Option<(Decimal, L)>,
    from: CurrencyCode,
    to: CurrencyCode,
    pivot: CurrencyCode,
) -> Result<(Decimal, RatePath, [Option<L>; 2]), ExchangeError> {
    // The legs used, and whether the first was observed in the direction asked.
    let used: Cell<([Option<L>; 2], usize, bool)> = Cell::new(([None, None], 0, false));
    let rate = rate_by(
        |b, t| {
            let (rate, leg) = lookup(b, t)?;
            let (mut legs, n, direct) = used.get();
            if let Some(slot) = legs.get_mut(n) {
                *slot = Some(leg);
            }
            used.set((legs, n + 1, direct || (n == 0 && b == from)));
            Some(rate)
        },
        from,
        to,
        pivot,
    )?;
    let (legs, n, direct) = used.get();
    let path = match n {
        0 => RatePath::Same,
        1 if direct => RatePath::Direct,
        1 => RatePath::Inverse,
        _ => RatePath::Cross { pivot },
    };
    Ok((rate, path, legs))
}

/// Refuses a conversion with a leg older than `max_age` ([`ExchangeError::StaleRate`]),
/// else `amount` times `rate` rounded half away from zero to `units` places.
pub(crate) fn settle(
    amount: Decimal,
    rate: Decimal,
    units: u32,
    mut ages_days: impl Iterator<Item = i64>,
    max_age: Option<Duration>,
) -> Result<Decimal, ExchangeError> {
    if let Some(max) = max_age
        && ages_days.any(|age| Duration::days(age) > max)
    {
        return Err(ExchangeError::StaleRate);
    }
    let converted = amount.checked_mul(rate).ok_or(ExchangeError::Overflow)?;
    Ok(round_half_away(converted, units))
}

/// The minor units a conversion into `to` rounds to: its currency record's, else the
/// ISO catalogue's, else [`DEFAULT_MINOR_UNITS`].
pub(crate) fn quote_units(record: Option<u32>, to: CurrencyCode) -> u32 {
    record
        .or_else(|| iso_currency(to).and_then(|c| c.minor_units))
        .unwrap_or(DEFAULT_MINOR_UNITS)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;
    use std::sync::Arc;

    use time::macros::date;

    use super::*;
    use crate::memory::MemoryStore;
    use crate::source::ecb::EcbSource;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn ecb_day(day: &str, rates: &[(&str, &str)]) -> String {
        let cubes: String = rates
            .iter()
            .map(|(c, r)| format!("<Cube currency='{c}' rate='{r}'/>"))
            .collect();
        format!("<Cube time='{day}'>{cubes}</Cube>")
    }

    fn ecb_file(days: &[String]) -> String {
        format!("<Envelope><Cube>{}</Cube></Envelope>", days.concat())
    }

    fn source(xml: String) -> EcbSource {
        EcbSource::new(Arc::new(move || {
            let xml = xml.clone();
            Box::pin(async move { Ok(xml) })
        }))
    }

    /// The ECB's euro rates for Friday 5 and Monday 8 January 2024, with EUR as pivot.
    async fn service() -> ExchangeService {
        let svc = ExchangeService::new(Arc::new(MemoryStore::new()))
            .with_pivot(CurrencyCode::parse("EUR").unwrap());
        let feed = ecb_file(&[
            ecb_day(
                "2024-01-05",
                &[("USD", "1.0921"), ("JPY", "158.08"), ("KWD", "0.3358")],
            ),
            ecb_day("2024-01-08", &[("USD", "1.0946"), ("JPY", "157.97")]),
        ]);
        assert_eq!(svc.import(&source(feed)).await.unwrap(), 5);
        svc
    }

    #[tokio::test]
    async fn a_saturday_uses_fridays_rate_and_before_the_first_there_is_none() {
        let svc = service().await;
        let q = svc
            .convert_at("EUR", "USD", "100", date!(2024 - 01 - 06), None)
            .await
            .unwrap();
        assert_eq!(
            (q.rate, q.converted_amount, q.path),
            (d("1.0921"), d("109.21"), RatePath::Direct)
        );
        assert_eq!(q.legs[0].observation.as_of, date!(2024 - 01 - 05));
        assert_eq!(
            (q.legs[0].age_days, q.legs[0].observation.source.as_str()),
            (1, "ecb")
        );
        let monday = svc
            .convert_at("EUR", "USD", "100", date!(2024 - 01 - 08), None)
            .await
            .unwrap();
        assert_eq!(monday.converted_amount, d("109.46"));
        assert!(matches!(
            svc.convert_at("EUR", "USD", "100", date!(2024 - 01 - 04), None)
                .await,
            Err(ExchangeError::NoRate)
        ));
    }

    #[tokio::test]
    async fn inverse_and_cross_rates_use_the_observations_of_that_day() {
        let svc = service().await;
        let back = svc
            .convert_at("USD", "EUR", "1092.1", date!(2024 - 01 - 06), None)
            .await
            .unwrap();
        assert_eq!(
            (back.converted_amount, back.path),
            (d("1000.00"), RatePath::Inverse)
        );
        // USD -> JPY through EUR: both legs of Friday on Saturday, of Monday on Monday.
        let sat = svc
            .convert_at("USD", "JPY", "100", date!(2024 - 01 - 06), None)
            .await
            .unwrap();
        assert_eq!(
            sat.path,
            RatePath::Cross {
                pivot: CurrencyCode::parse("EUR").unwrap()
            }
        );
        assert!(
            sat.legs
                .iter()
                .all(|l| l.observation.as_of == date!(2024 - 01 - 05))
        );
        assert_eq!(sat.rate, d("158.08") / d("1.0921"));
        // 100 x 144.748... rounded to the yen's 0 minor units.
        assert_eq!(sat.converted_amount, d("14475"));
        let mon = svc
            .convert_at("USD", "JPY", "100", date!(2024 - 01 - 08), None)
            .await
            .unwrap();
        assert_eq!(mon.rate, d("157.97") / d("1.0946"));
        // KWD was published on Friday only: on Monday its leg is Friday's.
        let kwd = svc
            .convert_at("USD", "KWD", "100", date!(2024 - 01 - 08), None)
            .await
            .unwrap();
        let days: Vec<Date> = kwd.legs.iter().map(|l| l.observation.as_of).collect();
        assert_eq!(days, [date!(2024 - 01 - 08), date!(2024 - 01 - 05)]);
        assert_eq!(kwd.minor_units, 3);
        assert_eq!(
            kwd.converted_amount,
            round_half_away(d("100") * d("0.3358") / d("1.0946"), 3)
        );
    }

    #[tokio::test]
    async fn a_rate_older_than_the_maximum_age_is_refused() {
        let svc = service().await;
        let wed = date!(2024 - 01 - 10);
        let ok = svc
            .convert_at("EUR", "USD", "1", wed, Some(Duration::days(2)))
            .await
            .unwrap();
        assert_eq!(ok.legs[0].age_days, 2);
        assert!(matches!(
            svc.convert_at("EUR", "USD", "1", wed, Some(Duration::days(1)))
                .await,
            Err(ExchangeError::StaleRate)
        ));
        // One stale leg is enough: KWD's is from Friday.
        assert!(matches!(
            svc.convert_at("USD", "KWD", "1", wed, Some(Duration::days(3)))
                .await,
            Err(ExchangeError::StaleRate)
        ));
        let strict = service().await.with_max_rate_age(Duration::days(1));
        assert!(matches!(
            strict.convert_at("EUR", "USD", "1", wed, None).await,
            Err(ExchangeError::StaleRate)
        ));
        assert_eq!(ExchangeError::StaleRate.code(), "stale_rate");
    }

    #[tokio::test]
    async fn an_import_is_idempotent_and_a_bad_feed_changes_nothing() {
        let svc = service().await;
        let again = ecb_file(&[ecb_day(
            "2024-01-08",
            &[("USD", "1.0946"), ("JPY", "157.97")],
        )]);
        assert_eq!(svc.import(&source(again)).await.unwrap(), 0);
        let cut = ecb_file(&[ecb_day("2024-01-09", &[("USD", "1.0950")])]);
        let cut = cut[..cut.len() - 20].to_owned();
        assert!(matches!(
            svc.import(&source(cut)).await,
            Err(ExchangeError::Feed(_))
        ));
        let bad = ecb_file(&[ecb_day("2024-01-09", &[("USD", "1.0950"), ("JPY", "oops")])]);
        assert!(matches!(
            svc.import(&source(bad)).await,
            Err(ExchangeError::Feed(_))
        ));
        let history = svc
            .rate_history("EUR", "USD", None, None, 10, 0)
            .await
            .unwrap();
        let days: Vec<Date> = history.iter().map(|r| r.observation.as_of).collect();
        assert_eq!(days, [date!(2024 - 01 - 08), date!(2024 - 01 - 05)]);
    }

    #[tokio::test]
    async fn the_in_memory_table_answers_as_the_store_does() {
        let svc = service().await.with_max_rate_age(Duration::days(4));
        let table = svc.dated_rate_table(None).await.unwrap();
        let codes = ["EUR", "USD", "JPY", "KWD", "GBP"];
        let days = [
            date!(2024 - 01 - 04),
            date!(2024 - 01 - 05),
            date!(2024 - 01 - 06),
            date!(2024 - 01 - 08),
            date!(2024 - 01 - 10),
        ];
        let mut compared = 0;
        for from in codes {
            for to in codes {
                for at in days {
                    for max_age in [None, Some(Duration::days(1))] {
                        // Twice: derived, then remembered.
                        for _ in 0..2 {
                            let by_store = svc.convert_at(from, to, "123.45", at, max_age).await;
                            let by_table = table.quote_at(
                                CurrencyCode::parse(from).unwrap(),
                                CurrencyCode::parse(to).unwrap(),
                                Amount::parse("123.45").unwrap(),
                                at,
                                max_age,
                            );
                            match (by_store, by_table) {
                                (Ok(s), Ok(t)) => {
                                    assert_eq!(
                                        (s.rate, s.converted_amount, s.minor_units, s.path),
                                        (t.rate, t.converted_amount, t.minor_units, t.path)
                                    );
                                    let legs: Vec<_> = t
                                        .legs
                                        .iter()
                                        .flatten()
                                        .map(|l| {
                                            (
                                                l.base, l.target, l.rate, l.as_of, l.age_days,
                                                l.source,
                                            )
                                        })
                                        .collect();
                                    let expected: Vec<_> = s
                                        .legs
                                        .iter()
                                        .map(|l| {
                                            let o = &l.observation;
                                            (
                                                o.base,
                                                o.target,
                                                o.rate.value(),
                                                o.as_of,
                                                l.age_days,
                                                o.source.as_str(),
                                            )
                                        })
                                        .collect();
                                    assert_eq!(legs, expected);
                                    compared += 1;
                                }
                                (Err(s), Err(t)) => assert_eq!(s.code(), t.code()),
                                (s, t) => panic!("{from}->{to} at {at}: {s:?} vs {t:?}"),
                            }
                        }
                    }
                }
            }
        }
        assert!(compared > 60, "{compared}");
        let stale = table.quote_at(
            CurrencyCode::parse("EUR").unwrap(),
            CurrencyCode::parse("USD").unwrap(),
            Amount::parse("1").unwrap(),
            date!(2024 - 01 - 20),
            None,
        );
        assert!(
            matches!(stale, Err(ExchangeError::StaleRate)),
            "the service's maximum age"
        );
    }
}
