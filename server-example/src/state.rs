//! The shared state of every handler. It is built at start by [`crate::startup`].

use std::sync::Arc;
use std::time::Duration;

use auth_core::{AuthService, Passkeys};
use exchange_core::ExchangeService;
use storage_postgres::PgStore;

use crate::kv::KvStore;
use crate::serve::Connections;
use auth_axum::TrustedProxies;
use axum::extract::FromRef;

/// What `/readyz` checks.
#[derive(Debug, Clone)]
pub enum Health {
    /// In-memory stores: always ready.
    Memory,
    /// Postgres: ready when it answers.
    Postgres(PgStore),
}

impl Health {
    /// Whether the stores answer.
    pub async fn ready(&self) -> bool {
        match self {
            Health::Memory => true,
            Health::Postgres(store) => store.ping().await.is_ok(),
        }
    }

    /// What the session-status cache is doing: `listening`, `reconnecting` (the
    /// listener is away and every request reads the database) or `off`.
    pub fn session_cache(&self) -> &'static str {
        let stats = match self {
            Health::Memory => None,
            Health::Postgres(store) => store.session_cache_stats(),
        };
        match stats {
            Some(s) if s.listening => "listening",
            Some(_) => "reconnecting",
            None => "off",
        }
    }
}

/// Shared state of every handler: one reference to [`Shared`], so the clone each
/// request takes is one reference count, not a copy of every field.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state over `shared`.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every handler shares, behind [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// The auth service.
    pub auth: Arc<AuthService>,
    /// Passkeys for its users.
    pub passkeys: Arc<Passkeys>,
    /// The exchange service.
    pub exchange: Arc<ExchangeService>,
    /// The rate feed of `RATE_SOURCE_URL`, if one is configured.
    pub rate_feed: Option<Arc<exchange_core::source::RateFeed>>,
    /// The key-value store.
    pub kv: Arc<dyn KvStore>,
    /// Readiness probe.
    pub health: Health,
    /// Let anyone create and update currencies and rates.
    pub exchange_public_writes: bool,
    /// Origins allowed by CORS outside the exchange routes (`None`: any).
    pub cors_origins: Option<Vec<String>>,
    /// Largest request body.
    pub body_limit: usize,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Limits on client connections.
    pub connections: Connections,
    /// The proxies whose forwarded client addresses are believed.
    pub trusted_proxies: TrustedProxies,
    /// The server's public base URL (`PUBLIC_URL`), for absolute links such as the
    /// discovery document's `jwks_uri`.
    pub public_url: Option<String>,
}

/// The adapter's extractors take the auth service from the state.
impl FromRef<AppState> for Arc<AuthService> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}
