//! The application's handler tested with the exchange store mocked (feature `mocks`):
//! what the page shows when the store answers, and when it is down.

use std::str::FromStr;
use std::sync::Arc;

use consumer::price_label;
use exchange_core::rust_decimal::Decimal;
use exchange_core::store::{ConversionCandidates, MockExchangeStore, RateQuote};
use exchange_core::{Currency, CurrencyCode, ExchangeService, StoreError};

fn currency(id: i64, code: &str, minor_units: u32) -> Currency {
    Currency {
        id,
        name: code.into(),
        code: CurrencyCode::parse(code).unwrap(),
        sign: "¤".into(),
        minor_units,
    }
}

#[tokio::test]
async fn the_label_shows_the_price_in_the_targets_minor_units() {
    let mut store = MockExchangeStore::new();
    store
        .expect_conversion_candidates()
        .times(1)
        .returning(|from, to, _pivot| {
            Ok(ConversionCandidates {
                from: Some(currency(1, from.as_str(), 2)),
                to: Some(currency(2, to.as_str(), 0)),
                rates: vec![RateQuote {
                    base: from,
                    target: to,
                    rate: Decimal::from_str("151.2345").unwrap(),
                }],
            })
        });
    let exchange = ExchangeService::new(Arc::new(store));
    assert_eq!(
        price_label(&exchange, "10.05", "USD", "JPY").await,
        "1520 JPY"
    );
}

#[tokio::test]
async fn a_store_outage_shows_a_sentence_not_an_error() {
    let mut store = MockExchangeStore::new();
    store
        .expect_conversion_candidates()
        .returning(|_, _, _| Err(StoreError::Unavailable("connection refused".into())));
    let exchange = ExchangeService::new(Arc::new(store));
    assert_eq!(
        price_label(&exchange, "1", "USD", "EUR").await,
        "prices are unavailable, try again shortly"
    );
}

#[tokio::test]
async fn a_pair_without_a_rate_says_so() {
    let mut store = MockExchangeStore::new();
    store
        .expect_conversion_candidates()
        .returning(|from, to, _| {
            Ok(ConversionCandidates {
                from: Some(currency(1, from.as_str(), 2)),
                to: Some(currency(2, to.as_str(), 2)),
                rates: vec![],
            })
        });
    let exchange = ExchangeService::new(Arc::new(store));
    assert_eq!(
        price_label(&exchange, "1", "USD", "CHF").await,
        "no price in CHF"
    );
}
