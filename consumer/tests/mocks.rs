//! The application's handlers tested with the stores mocked (feature `mocks` of both
//! cores): what they answer when the store answers, and when it is down.

use std::str::FromStr;
use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::store::{MockAuthStore, SessionStatus};
use auth_core::{AuthConfig, AuthService, ClientInfo, Key, KeySet, RefreshSecret};
use consumer::{PASSWORD, greeting, price_label, register};
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

/// Two services with one key set: the memory one logs a user in, the mocked one
/// checks the token against what the test makes the store answer.
async fn token_and_user() -> (KeySet, String, auth_core::User) {
    let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "shop", "shop-api", 0).unwrap();
    let issuer = AuthService::new(
        Arc::new(MemoryStore::new()),
        keys.clone(),
        &RefreshSecret::generate(),
        AuthConfig::default(),
    )
    .unwrap();
    let user = register(&issuer, "alice").await;
    let pair = issuer
        .login("alice", PASSWORD, ClientInfo::default())
        .await
        .unwrap();
    (keys, pair.access_token, user)
}

/// A session of `user` refreshed just now, `revoked` or not.
fn status_now(user: &auth_core::User, revoked: bool) -> SessionStatus {
    let now = auth_core::time::OffsetDateTime::now_utc();
    SessionStatus {
        revoked,
        expires_at: now + auth_core::time::Duration::days(1),
        last_refreshed_at: now,
        user: user.clone(),
    }
}

fn mocked(keys: KeySet, store: MockAuthStore) -> AuthService {
    AuthService::new(
        Arc::new(store),
        keys,
        &RefreshSecret::generate(),
        AuthConfig::default(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_greeting_names_the_user_the_store_knows() {
    let (keys, token, user) = token_and_user().await;
    let mut store = MockAuthStore::default();
    let known = user.clone();
    store
        .sessions
        .expect_session_status()
        .times(1)
        .returning(move |_| Ok(Some(status_now(&known, false))));
    let auth = mocked(keys, store);
    assert_eq!(greeting(&auth, &token).await, (200, "hello, alice".into()));
}

#[tokio::test]
async fn a_revoked_session_is_a_bad_token_and_an_outage_is_not() {
    let (keys, token, user) = token_and_user().await;
    let mut store = MockAuthStore::default();
    store
        .sessions
        .expect_session_status()
        .returning(move |_| Ok(Some(status_now(&user, true))));
    let auth = mocked(keys.clone(), store);
    assert_eq!(greeting(&auth, &token).await, (401, "invalid_token".into()));

    let mut store = MockAuthStore::default();
    store.sessions.expect_session_status().returning(|_| {
        Err(auth_core::StoreError::Unavailable(
            "connection refused".into(),
        ))
    });
    let auth = mocked(keys, store);
    assert_eq!(
        greeting(&auth, &token).await,
        (503, "service_unavailable".into())
    );
}
