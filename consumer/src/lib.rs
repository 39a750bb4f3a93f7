//! An application that adopts `auth-core`, `exchange-core` and `storage-postgres` the
//! way a user would. Its code is in `tests/`: each test checks that adding the crates
//! leaves the application's own behaviour as it was.

/// The application's own migrations (its own `users` table), run beside the store's.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

use std::sync::Arc;

use auth_core::{
    AuthConfig, AuthService, AuthStore, ClientInfo, Key, KeySet, RefreshSecret, Registration,
};

/// The application's password for its test accounts.
pub const PASSWORD: &str = "Passw0rd!";

/// An auth service over `store` with a fresh Ed25519 key for `issuer`/`audience`.
pub fn auth_service(
    store: Arc<dyn AuthStore>,
    issuer: &str,
    audience: &str,
    config: AuthConfig,
) -> AuthService {
    let key = Key::generate_ed25519().expect("a fresh key");
    let keys = KeySet::new(key, [], issuer, audience, 0).expect("one signing key");
    AuthService::new(store, keys, &RefreshSecret::generate(), config).expect("a valid config")
}

/// Registers `login` with [`PASSWORD`].
pub async fn register(auth: &AuthService, login: &str) -> auth_core::User {
    let registration = Registration {
        login: login.into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    auth.register(registration, &ClientInfo::default())
        .await
        .unwrap_or_else(|e| panic!("{login}: {e}"))
}

/// The application's price label: `amount` of `from` shown in `to`, or a sentence
/// its page shows when no price can be given. A handler in the application's own
/// terms, tested with the exchange store mocked (`tests/mocks.rs`).
pub async fn price_label(
    exchange: &exchange_core::ExchangeService,
    amount: &str,
    from: &str,
    to: &str,
) -> String {
    use exchange_core::ExchangeError;
    match exchange.convert(from, to, amount).await {
        Ok(c) => format!("{} {}", c.converted_amount, c.target_currency.code),
        Err(ExchangeError::Unavailable(_)) => "prices are unavailable, try again shortly".into(),
        Err(ExchangeError::NoRate | ExchangeError::CurrencyNotFound) => {
            format!("no price in {to}")
        }
        Err(e) => format!("no price: {e}"),
    }
}

/// The application's greeting for the bearer of `access_token`: its status and body.
/// A handler in the application's own terms, tested with the auth store mocked
/// (`tests/mocks.rs`): a bad token is 401, an outage 503 (not a bad token).
pub async fn greeting(auth: &AuthService, access_token: &str) -> (u16, String) {
    match auth.authenticate(access_token).await {
        Ok(who) => (200, format!("hello, {}", who.user.login)),
        Err(e) => (e.status(), e.code().to_owned()),
    }
}
