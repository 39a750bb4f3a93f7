//! Reference axum server embedding `auth-core`, `exchange-core` and
//! `storage-postgres`.
//!
//! [`app`] builds the whole router from an [`AppState`]; [`AppState::from_config`]
//! builds the state from a [`Config`] (in-memory stores, or Postgres when
//! `DATABASE_URL` is set). `main` only adds logging, the listener and signals, so
//! tests run exactly what production runs.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codes;
pub mod config;
pub mod dto;
pub mod error;
pub mod extract;
pub mod feed;
pub mod kv;
pub mod mail;
pub mod openapi;
pub mod routes;
pub mod serve;
pub mod startup;
pub mod state;

pub use config::Config;
pub use feed::spawn_rate_refresh;
pub use routes::app;
pub use startup::StartupError;
pub use state::AppState;

/// Serves `state` on `listener` within its connection limits until `shutdown`
/// resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.connections;
    serve::serve_router(listener, app(state), limits, shutdown).await
}
