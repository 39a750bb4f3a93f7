//! `cargo run -p actix-example`: in memory, or on Postgres when `DATABASE_URL` is set.
//! Keys are generated at start, so a restart signs everyone out.

use std::sync::Arc;

use actix_example::{AppState, routes};
use actix_web::{App, HttpServer, web};
use auth_core::{AuthConfig, AuthService, AuthStore, Key, KeySet, RefreshSecret};
use exchange_core::{ExchangeService, ExchangeStore};

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (auth_store, exchange_store): (Arc<dyn AuthStore>, Arc<dyn ExchangeStore>) =
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let store = storage_postgres::PgStore::connect(&url).await?;
                store.migrate().await?;
                (Arc::new(store.clone()), Arc::new(store))
            }
            _ => (
                Arc::new(auth_core::memory::MemoryStore::new()),
                Arc::new(exchange_core::memory::MemoryStore::new()),
            ),
        };
    let keys = KeySet::new(
        Key::generate_ed25519()?,
        [],
        "actix-example",
        "actix-example",
        5,
    )?;
    let state = AppState {
        auth: Arc::new(AuthService::new(
            auth_store,
            keys,
            &RefreshSecret::generate(),
            AuthConfig::default(),
        )?),
        exchange: Arc::new(ExchangeService::new(exchange_store)),
    };
    let bind = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".into());
    println!("listening on http://{bind}");
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .configure(routes)
    })
    .bind(bind)?
    .run()
    .await?;
    Ok(())
}
