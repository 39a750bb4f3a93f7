//! Conformance tests of the dated rates: recording, as-of reads and history.

use std::sync::Arc;

use time::macros::{date, datetime};

use super::{add, code};
use crate::source::RateObservation;
use crate::store::*;
use crate::types::*;

fn obs(pair: &str, day: time::Date, rate: &str, source: &str) -> RateObservation {
    RateObservation {
        base: code(&pair[..3]),
        target: code(&pair[3..]),
        rate: Rate::parse(rate).expect("valid test rate"),
        as_of: day,
        source: source.into(),
    }
}

/// `pair rate as_of source` of each, for comparing.
fn shown(rates: &[RecordedRate]) -> Vec<String> {
    rates
        .iter()
        .map(|r| {
            let o = &r.observation;
            format!(
                "{}{} {} {} {}",
                o.base,
                o.target,
                o.rate.value(),
                o.as_of,
                o.source
            )
        })
        .collect()
}

/// Recording is idempotent per (pair, day, source); an as-of read gives each pair
/// among the three codes its latest observation on or before the day (a Saturday gets
/// Friday's, a day before the first gets none) and the target's minor units.
pub async fn recorded_rates_are_read_as_of_a_day(store: Arc<dyn ExchangeStore>) {
    let (fri, sat, mon) = (
        date!(2024 - 01 - 05),
        date!(2024 - 01 - 06),
        date!(2024 - 01 - 08),
    );
    let at = datetime!(2024-01-08 16:00 UTC);
    let batch = vec![
        obs("EURUSD", fri, "1.0921", "ecb"),
        obs("EURJPY", fri, "158.08", "ecb"),
        obs("EURUSD", mon, "1.0946", "ecb"),
        obs("EURGBP", mon, "0.86", "ecb"),
    ];
    assert_eq!(store.record_rates(batch.clone(), at).await.unwrap(), 4);
    assert_eq!(
        store.record_rates(batch, at).await.unwrap(),
        0,
        "again: nothing new"
    );
    // A different rate for a recorded key does not replace it.
    assert_eq!(
        store
            .record_rates(vec![obs("EURUSD", fri, "9", "ecb")], at)
            .await
            .unwrap(),
        0
    );
    let as_of = |day| {
        let store = store.clone();
        async move {
            let mut c = store
                .rates_as_of(code("USD"), code("JPY"), code("EUR"), day)
                .await
                .unwrap();
            c.rates.sort_by_key(|r| r.observation.target);
            c
        }
    };
    let saturday = as_of(sat).await;
    assert_eq!(
        shown(&saturday.rates),
        [
            "EURJPY 158.08 2024-01-05 ecb",
            "EURUSD 1.0921 2024-01-05 ecb"
        ]
    );
    assert!(saturday.rates.iter().all(|r| r.recorded_at == at));
    assert_eq!(saturday.to_minor_units, None, "no JPY record yet");
    assert_eq!(
        shown(&as_of(mon).await.rates),
        [
            "EURJPY 158.08 2024-01-05 ecb",
            "EURUSD 1.0946 2024-01-08 ecb"
        ],
        "GBP is not among the codes"
    );
    assert!(as_of(date!(2024 - 01 - 04)).await.rates.is_empty());
    add(&*store, "JPY").await;
    assert_eq!(as_of(sat).await.to_minor_units, Some(0));
}

/// Of two sources on one day the one recorded last counts; on a tie, the first by name.
pub async fn the_latest_recording_of_a_day_counts(store: Arc<dyn ExchangeStore>) {
    let day = date!(2024 - 03 - 01);
    let (early, late) = (
        datetime!(2024-03-01 10:00 UTC),
        datetime!(2024-03-01 12:00 UTC),
    );
    store
        .record_rates(vec![obs("USDEUR", day, "0.91", "manual")], late)
        .await
        .unwrap();
    store
        .record_rates(vec![obs("USDEUR", day, "0.92", "ecb")], early)
        .await
        .unwrap();
    let read = || {
        let store = store.clone();
        async move {
            store
                .rates_as_of(code("USD"), code("EUR"), code("USD"), day)
                .await
                .unwrap()
                .rates
        }
    };
    assert_eq!(shown(&read().await), ["USDEUR 0.91 2024-03-01 manual"]);
    store
        .record_rates(vec![obs("USDEUR", day, "0.93", "bank")], late)
        .await
        .unwrap();
    assert_eq!(shown(&read().await), ["USDEUR 0.93 2024-03-01 bank"]);
}

/// History is one pair's observations in a range, newest first, paged.
pub async fn rate_history_is_newest_first_in_a_range(store: Arc<dyn ExchangeStore>) {
    let at = datetime!(2024-02-01 00:00 UTC);
    let days = [
        date!(2024 - 01 - 02),
        date!(2024 - 01 - 03),
        date!(2024 - 01 - 04),
        date!(2024 - 01 - 05),
    ];
    let mut batch: Vec<RateObservation> = days
        .iter()
        .map(|d| obs("EURUSD", *d, "1.1", "ecb"))
        .collect();
    batch.push(obs("USDEUR", days[0], "0.9", "ecb"));
    store.record_rates(batch, at).await.unwrap();
    let history = |since, until, limit, offset| {
        let store = store.clone();
        async move {
            store
                .rate_history(code("EUR"), code("USD"), since, until, limit, offset)
                .await
                .unwrap()
                .iter()
                .map(|r| r.observation.as_of.day())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        history(None, None, 100, 0).await,
        [5, 4, 3, 2],
        "the reverse pair is another pair"
    );
    assert_eq!(history(Some(days[1]), Some(days[2]), 100, 0).await, [4, 3]);
    assert_eq!(history(None, None, 2, 1).await, [4, 3]);
    assert!(history(None, None, 2, 10).await.is_empty());
}

/// 20 concurrent recordings of one batch (30 pairs over 5 days): one observation per
/// pair and day, and the counts of new ones add up to the batch.
pub async fn concurrent_recordings_of_one_batch_record_it_once(store: Arc<dyn ExchangeStore>) {
    let codes: Vec<String> = (0..30u8)
        .map(|i| format!("Q{}{}", (b'A' + i / 26) as char, (b'A' + i % 26) as char))
        .collect();
    let mut batch = Vec::new();
    for day in 1..=5u8 {
        let as_of = time::Date::from_calendar_date(2024, time::Month::April, day).unwrap();
        for c in &codes {
            batch.push(obs(&format!("EUR{c}"), as_of, "1.5", "ecb"));
        }
    }
    let at = datetime!(2024-04-06 00:00 UTC);
    let results = futures::future::join_all((0..20).map(|_| {
        let (store, batch) = (store.clone(), batch.clone());
        tokio::spawn(async move { store.record_rates(batch, at).await.unwrap() })
    }))
    .await;
    let new: u64 = results.into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(new, 150);
    for c in &codes {
        let history = store
            .rate_history(code("EUR"), code(c), None, None, 100, 0)
            .await
            .unwrap();
        assert_eq!(history.len(), 5, "{c}");
    }
}

/// Every pair's counting observation of each day, ordered by pair and day, from a
/// first day on; and the newest day each source published.
pub async fn rates_by_day_and_a_sources_newest_day(store: Arc<dyn ExchangeStore>) {
    let (d1, d2, d3) = (
        date!(2024 - 05 - 02),
        date!(2024 - 05 - 03),
        date!(2024 - 05 - 06),
    );
    let (early, late) = (
        datetime!(2024-05-06 10:00 UTC),
        datetime!(2024-05-06 12:00 UTC),
    );
    assert!(store.rates_by_day(None).await.unwrap().is_empty());
    assert_eq!(store.newest_rate_day("ecb").await.unwrap(), None);
    let batch = vec![
        obs("EURUSD", d3, "1.07", "ecb"),
        obs("EURUSD", d1, "1.05", "ecb"),
        obs("EURJPY", d2, "164.5", "ecb"),
        obs("EURUSD", d2, "1.06", "ecb"),
    ];
    store.record_rates(batch, early).await.unwrap();
    // A later manual recording of one day counts over the feed's.
    store
        .record_rates(vec![obs("EURUSD", d2, "1.061", "manual")], late)
        .await
        .unwrap();
    assert_eq!(
        shown(&store.rates_by_day(None).await.unwrap()),
        [
            "EURJPY 164.5 2024-05-03 ecb",
            "EURUSD 1.05 2024-05-02 ecb",
            "EURUSD 1.061 2024-05-03 manual",
            "EURUSD 1.07 2024-05-06 ecb",
        ]
    );
    assert_eq!(
        shown(&store.rates_by_day(Some(d3)).await.unwrap()),
        ["EURUSD 1.07 2024-05-06 ecb"]
    );
    assert_eq!(store.newest_rate_day("ecb").await.unwrap(), Some(d3));
    assert_eq!(store.newest_rate_day("manual").await.unwrap(), Some(d2));
    assert_eq!(store.newest_rate_day("imf").await.unwrap(), None);
}
