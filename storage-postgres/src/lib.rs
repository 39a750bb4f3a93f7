//! PostgreSQL storage for `auth-core` and `exchange-core`.
//!
//! One [`PgStore`] implements both [`auth_core::AuthStore`] and
//! [`exchange_core::ExchangeStore`] over a `sqlx` pool. The schema lives in embedded
//! migrations ([`PgStore::migrate`]) and enforces what the cores promise: unique logins
//! and emails ignoring case, unique currency codes and pairs, positive rates. Unique
//! and foreign-key violations become the cores' conflict and not-found errors; lost
//! connections and pool timeouts become `Unavailable`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use storage_postgres::PgStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/postgres").await?;
//! store.migrate().await?;
//! let auth_store: Arc<dyn auth_core::AuthStore> = Arc::new(store.clone());
//! let exchange_store: Arc<dyn exchange_core::ExchangeStore> = Arc::new(store);
//! # let _ = (auth_store, exchange_store);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod auth;
mod error;
mod exchange;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

pub use error::{PgStoreError, is_unavailable};
pub use sqlx;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// The embedded migrations. Migrations applied by the application to the same
/// database (numbered apart, see `migrations/README.md`) are tolerated.
pub fn migrator() -> sqlx::migrate::Migrator {
    let mut m = sqlx::migrate!("./migrations");
    m.set_ignore_missing(true);
    m
}

/// How [`PgStore::connect_with`] sizes and bounds its pool. `Default` is fit for a
/// server: up to 16 connections and a 3-second acquire timeout, so a database outage
/// turns into quick `Unavailable` errors instead of hung requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a call waits for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

impl PoolSettings {
    fn options(self) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
    }
}

/// A PostgreSQL store for both cores. Cheap to clone (it shares the pool).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// A store over an existing pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Connects with the default [`PoolSettings`].
    pub async fn connect(url: &str) -> Result<Self, PgStoreError> {
        Self::connect_with(url, PoolSettings::default()).await
    }

    /// Connects with these pool settings.
    pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<Self, PgStoreError> {
        Ok(Self::new(settings.options().connect(url).await?))
    }

    /// Like [`PgStore::connect`] but connects on first use, so a server can start
    /// while the database is still down.
    pub fn connect_lazy(url: &str) -> Result<Self, PgStoreError> {
        Ok(Self::new(
            PoolSettings::default().options().connect_lazy(url)?,
        ))
    }

    /// Applies pending migrations; a no-op when the schema is current.
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        migrator().run(&self.pool).await?;
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), PgStoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
