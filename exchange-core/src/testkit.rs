//! Conformance suite for [`ExchangeStore`] implementations.
//!
//! Each function takes a fresh, empty store and panics on a contract violation; run
//! them all with [`exchange_store_conformance!`](crate::exchange_store_conformance)
//! and a [`Harness`].

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use rust_decimal::Decimal;

use crate::error::StoreError;
use crate::store::*;
use crate::types::*;

mod dated;
pub use dated::*;

/// Makes a fresh, empty store for one test and cleans up after it.
#[async_trait]
pub trait Harness: Sized + Send + Sync + 'static {
    /// A new harness with an empty store.
    async fn setup() -> Self;
    /// The store under test.
    fn store(&self) -> Arc<dyn ExchangeStore>;
    /// Releases resources.
    async fn teardown(self) {}
}

/// Generates one `#[tokio::test]` per conformance test for a [`Harness`] type.
#[macro_export]
macro_rules! exchange_store_conformance {
    ($harness:ty) => {
        $crate::__exchange_store_conformance!(
            $harness;
            currencies_are_added_listed_and_found,
            a_currency_code_is_unique,
            rates_are_added_listed_found_and_updated,
            a_pair_is_unique_but_its_inverse_is_another_pair,
            rates_need_existing_currencies,
            deletes_report_missing_rows_and_currencies_in_use,
            rate_values_round_trip_exactly,
            conversion_candidates_hold_only_the_rates_among_the_three_currencies,
            concurrent_inserts_of_one_pair_succeed_once,
            concurrent_inserts_of_one_currency_succeed_once,
            currencies_keep_their_minor_units,
            recorded_rates_are_read_as_of_a_day,
            the_latest_recording_of_a_day_counts,
            rate_history_is_newest_first_in_a_range,
            concurrent_recordings_of_one_batch_record_it_once,
            rates_by_day_and_a_sources_newest_day,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __exchange_store_conformance {
    ($harness:ty; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let harness = <$harness as $crate::testkit::Harness>::setup().await;
                $crate::testkit::$name(<$harness as $crate::testkit::Harness>::store(&harness)).await;
                <$harness as $crate::testkit::Harness>::teardown(harness).await;
            }
        )*
    };
}

fn code(s: &str) -> CurrencyCode {
    CurrencyCode::parse(s).expect("valid test code")
}

fn pair(b: &str, t: &str) -> CurrencyPair {
    CurrencyPair::new(code(b), code(t)).expect("different codes")
}

fn rate(s: &str) -> Rate {
    Rate::parse(s).expect("valid test rate")
}

async fn add(store: &dyn ExchangeStore, c: &str) -> Currency {
    store
        .add_currency(NewCurrency::parse(&format!("Currency {c}"), c, "¤").expect("valid"))
        .await
        .expect("add currency")
}

/// Currencies get increasing ids and are found by code.
pub async fn currencies_are_added_listed_and_found(store: Arc<dyn ExchangeStore>) {
    assert!(store.list_currencies().await.unwrap().is_empty());
    let usd = add(&*store, "USD").await;
    let eur = store
        .add_currency(NewCurrency::parse("Euro", "EUR", "€").unwrap())
        .await
        .unwrap();
    assert_eq!((eur.name.as_str(), eur.sign.as_str()), ("Euro", "€"));
    assert!(eur.id > usd.id);
    assert_eq!(
        store.list_currencies().await.unwrap(),
        vec![usd.clone(), eur]
    );
    assert_eq!(store.currency(code("USD")).await.unwrap(), Some(usd));
    assert_eq!(store.currency(code("GBP")).await.unwrap(), None);
}

/// A currency keeps its minor units: the catalogue's for an ISO code, the stated
/// ones for another code, and they come back with rates and conversion candidates.
pub async fn currencies_keep_their_minor_units(store: Arc<dyn ExchangeStore>) {
    let yen = add(&*store, "JPY").await;
    let dinar = add(&*store, "KWD").await;
    let btc = NewCurrency::parse("Bitcoin", "BTC", "₿")
        .unwrap()
        .with_minor_units(8)
        .unwrap();
    let btc = store.add_currency(btc).await.unwrap();
    let test = add(&*store, "TST").await;
    assert_eq!(
        (
            yen.minor_units,
            dinar.minor_units,
            btc.minor_units,
            test.minor_units
        ),
        (0, 3, 8, 2)
    );
    assert_eq!(
        store.currency(code("BTC")).await.unwrap(),
        Some(btc.clone())
    );
    let listed: Vec<u32> = store
        .list_currencies()
        .await
        .unwrap()
        .iter()
        .map(|c| c.minor_units)
        .collect();
    assert_eq!(listed, [0, 3, 8, 2]);
    let r = store
        .add_rate(pair("BTC", "JPY"), rate("15000000"))
        .await
        .unwrap();
    assert_eq!(
        (r.base_currency, r.target_currency),
        (btc.clone(), yen.clone())
    );
    let candidates = store
        .conversion_candidates(code("BTC"), code("JPY"), code("USD"))
        .await
        .unwrap();
    assert_eq!((candidates.from, candidates.to), (Some(btc), Some(yen)));
}

/// A second currency with the same code is a conflict.
pub async fn a_currency_code_is_unique(store: Arc<dyn ExchangeStore>) {
    add(&*store, "USD").await;
    let again = store
        .add_currency(NewCurrency::parse("Other", "USD", "$").unwrap())
        .await;
    assert!(
        matches!(again, Err(StoreError::CurrencyExists)),
        "{again:?}"
    );
    assert_eq!(store.list_currencies().await.unwrap().len(), 1);
}

/// Rates carry their currencies; updates keep the id.
pub async fn rates_are_added_listed_found_and_updated(store: Arc<dyn ExchangeStore>) {
    let usd = add(&*store, "USD").await;
    let eur = add(&*store, "EUR").await;
    let gbp = add(&*store, "GBP").await;
    let r1 = store
        .add_rate(pair("USD", "EUR"), rate("0.9"))
        .await
        .unwrap();
    assert_eq!(r1.base_currency, usd);
    assert_eq!(r1.target_currency, eur);
    assert_eq!(r1.rate, Decimal::from_str("0.9").unwrap());
    let r2 = store
        .add_rate(pair("USD", "GBP"), rate("0.8"))
        .await
        .unwrap();
    assert_eq!(r2.target_currency, gbp);
    assert!(r2.id > r1.id);
    assert_eq!(store.list_rates().await.unwrap(), vec![r1.clone(), r2]);
    assert_eq!(
        store.rate(pair("USD", "EUR")).await.unwrap(),
        Some(r1.clone())
    );
    assert_eq!(store.rate(pair("EUR", "USD")).await.unwrap(), None);
    let u = store
        .update_rate(pair("USD", "EUR"), rate("0.95"))
        .await
        .unwrap();
    assert_eq!(u.id, r1.id);
    assert_eq!(u.rate, Decimal::from_str("0.95").unwrap());
    assert_eq!(store.rate(pair("USD", "EUR")).await.unwrap(), Some(u));
    assert!(matches!(
        store.update_rate(pair("EUR", "GBP"), rate("1")).await,
        Err(StoreError::RateNotFound)
    ));
}

/// The same pair twice conflicts; the inverse pair may coexist.
pub async fn a_pair_is_unique_but_its_inverse_is_another_pair(store: Arc<dyn ExchangeStore>) {
    add(&*store, "USD").await;
    add(&*store, "EUR").await;
    store
        .add_rate(pair("USD", "EUR"), rate("0.9"))
        .await
        .unwrap();
    assert!(matches!(
        store.add_rate(pair("USD", "EUR"), rate("0.8")).await,
        Err(StoreError::PairExists)
    ));
    store
        .add_rate(pair("EUR", "USD"), rate("1.1"))
        .await
        .unwrap();
    assert_eq!(store.list_rates().await.unwrap().len(), 2);
}

/// Rates between unknown currencies are refused.
pub async fn rates_need_existing_currencies(store: Arc<dyn ExchangeStore>) {
    add(&*store, "USD").await;
    for p in [pair("USD", "EUR"), pair("EUR", "USD"), pair("EUR", "GBP")] {
        assert!(matches!(
            store.add_rate(p, rate("1")).await,
            Err(StoreError::CurrencyNotFound)
        ));
    }
    assert!(store.list_rates().await.unwrap().is_empty());
}

/// Deleting reports what is missing and what is still used.
pub async fn deletes_report_missing_rows_and_currencies_in_use(store: Arc<dyn ExchangeStore>) {
    add(&*store, "USD").await;
    add(&*store, "EUR").await;
    store
        .add_rate(pair("USD", "EUR"), rate("0.9"))
        .await
        .unwrap();
    for c in ["USD", "EUR"] {
        assert!(matches!(
            store.delete_currency(code(c)).await,
            Err(StoreError::CurrencyInUse)
        ));
    }
    assert!(matches!(
        store.delete_rate(pair("EUR", "USD")).await,
        Err(StoreError::RateNotFound)
    ));
    store.delete_rate(pair("USD", "EUR")).await.unwrap();
    assert!(store.rate(pair("USD", "EUR")).await.unwrap().is_none());
    store.delete_currency(code("USD")).await.unwrap();
    assert!(store.currency(code("USD")).await.unwrap().is_none());
    assert!(matches!(
        store.delete_currency(code("USD")).await,
        Err(StoreError::CurrencyNotFound)
    ));
}

/// Stored rates come back with every digit.
pub async fn rate_values_round_trip_exactly(store: Arc<dyn ExchangeStore>) {
    add(&*store, "USD").await;
    add(&*store, "JPY").await;
    add(&*store, "EUR").await;
    for (p, r) in [
        (pair("USD", "JPY"), "1000000000000"),
        (pair("JPY", "USD"), "0.000000000001"),
        (pair("USD", "EUR"), "0.123456789012"),
    ] {
        store.add_rate(p, rate(r)).await.unwrap();
        let back = store.rate(p).await.unwrap().unwrap().rate;
        assert_eq!(back, Decimal::from_str(r).unwrap());
        assert_eq!(back.normalize().to_string(), r);
    }
}

/// Candidates hold both currencies and the rates among from, to and pivot only.
pub async fn conversion_candidates_hold_only_the_rates_among_the_three_currencies(
    store: Arc<dyn ExchangeStore>,
) {
    for c in ["USD", "EUR", "GBP", "JPY"] {
        add(&*store, c).await;
    }
    for (b, t) in [
        ("USD", "EUR"),
        ("GBP", "USD"),
        ("EUR", "GBP"),
        ("USD", "JPY"),
        ("JPY", "EUR"),
    ] {
        store.add_rate(pair(b, t), rate("2")).await.unwrap();
    }
    let c = store
        .conversion_candidates(code("EUR"), code("GBP"), code("USD"))
        .await
        .unwrap();
    assert_eq!(c.from.unwrap().code, code("EUR"));
    assert_eq!(c.to.unwrap().code, code("GBP"));
    let mut got: Vec<String> = c
        .rates
        .iter()
        .map(|q| format!("{}{}", q.base, q.target))
        .collect();
    got.sort();
    assert_eq!(got, ["EURGBP", "GBPUSD", "USDEUR"]);
    let none = store
        .conversion_candidates(code("XXX"), code("GBP"), code("USD"))
        .await
        .unwrap();
    assert!(none.from.is_none());
    assert_eq!(none.to.unwrap().code, code("GBP"));
}

/// 50 concurrent inserts of one pair: one succeeds, 49 conflict.
pub async fn concurrent_inserts_of_one_pair_succeed_once(store: Arc<dyn ExchangeStore>) {
    add(&*store, "USD").await;
    add(&*store, "EUR").await;
    let results = futures::future::join_all((0..50).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .add_rate(pair("USD", "EUR"), rate(&format!("1.{i}")))
                .await
        })
    }))
    .await;
    let mut ok = 0;
    for r in results {
        match r.expect("task") {
            Ok(_) => ok += 1,
            Err(StoreError::PairExists) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(store.list_rates().await.unwrap().len(), 1);
}

/// 50 concurrent inserts of one currency code: one succeeds.
pub async fn concurrent_inserts_of_one_currency_succeed_once(store: Arc<dyn ExchangeStore>) {
    let results = futures::future::join_all((0..50).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { add_result(&*store, "USD").await })
    }))
    .await;
    let ok = results
        .into_iter()
        .map(|r| r.expect("task"))
        .filter(|r| match r {
            Ok(_) => true,
            Err(StoreError::CurrencyExists) => false,
            Err(e) => panic!("unexpected {e:?}"),
        })
        .count();
    assert_eq!(ok, 1);
}

async fn add_result(store: &dyn ExchangeStore, c: &str) -> Result<Currency, StoreError> {
    store
        .add_currency(NewCurrency::parse("Dollar", c, "$").expect("valid"))
        .await
}
