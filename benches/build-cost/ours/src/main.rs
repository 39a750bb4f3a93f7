use std::sync::Arc;

use auth_axum::Authenticated;
use auth_core::{AuthConfig, AuthService, Key, KeySet, RefreshSecret};
use axum::{Json, Router, routing::get};
use storage_postgres::PgStore;

async fn me(Authenticated(who): Authenticated) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "login": who.user.login }))
}

#[tokio::main]
async fn main() {
    let pool = sqlx::PgPool::connect_lazy("postgres://postgres@127.0.0.1/postgres").unwrap();
    let store = PgStore::in_schema(pool, "auth_exchange").unwrap();
    let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
    let auth = Arc::new(
        AuthService::new(
            Arc::new(store.clone()),
            keys,
            &RefreshSecret::generate(),
            AuthConfig::default(),
        )
        .unwrap(),
    );
    let _exchange = exchange_core::ExchangeService::new(Arc::new(store));
    let app = Router::new().route("/me", get(me)).with_state(auth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
