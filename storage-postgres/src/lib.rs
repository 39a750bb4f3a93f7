//! PostgreSQL storage for `auth-core` and `exchange-core`.
//!
//! One [`PgStore`] implements both [`auth_core::AuthStore`] and
//! [`exchange_core::ExchangeStore`] over a `sqlx` pool. The schema lives in embedded
//! migrations ([`PgStore::migrate`]) and enforces what the cores promise: unique logins
//! and emails ignoring case, unique currency codes and pairs, positive rates. Unique
//! and foreign-key violations become the cores' conflict and not-found errors; lost
//! connections and pool timeouts become `Unavailable`.
//!
//! [`PoolSettings::acquire_timeout`] is a `std::time::Duration`, as sqlx takes it; the
//! cores' own durations are theirs (`time::Duration` in auth-core).
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
mod cache;
mod error;
mod exchange;
mod listener;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use cache::SessionCache;
pub use cache::{SessionCacheSettings, SessionCacheStats};
pub use error::{PgStoreError, is_unavailable};
pub use listener::{LISTENER_APPLICATION_NAME, SESSION_STATUS_CHANNEL};
pub use sqlx;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The embedded migrations. Migrations applied by the application to the same
/// database (numbered apart, see `migrations/README.md`) are tolerated.
pub fn migrator() -> sqlx::migrate::Migrator {
    let mut m = sqlx::migrate!("./migrations");
    m.set_ignore_missing(true);
    m
}

/// The schema the store keeps its tables and its migration history in, unless told
/// otherwise: apart from an application's own tables (`users`, say) and its own sqlx
/// migrations in the same database.
pub const DEFAULT_SCHEMA: &str = "auth_exchange";

/// How [`PgStore::connect_with`] sizes and bounds its pool, and where it keeps its
/// tables. `Default` is fit for a server: up to 16 connections, a 3-second acquire
/// timeout (a database outage turns into quick `Unavailable` errors instead of hung
/// requests), schema [`DEFAULT_SCHEMA`], and the session-status cache on with its
/// default settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a call waits for a free connection before `Unavailable`.
    pub acquire_timeout: Duration,
    /// The schema of the store's tables and migration history (created by
    /// [`PgStore::migrate`]); the pool's connections use it as their `search_path`.
    pub schema: String,
    /// The session-status cache: `authenticate` answers recently seen sessions from
    /// memory, and every instance drops a user's entries when the database notifies a
    /// change to it (`LISTEN/NOTIFY`, see [`SessionCacheSettings`]). `None` reads the
    /// database on every call.
    pub session_cache: Option<SessionCacheSettings>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            schema: DEFAULT_SCHEMA.to_owned(),
            session_cache: Some(SessionCacheSettings::default()),
        }
    }
}

impl PoolSettings {
    fn options(&self) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            // No ping before each use (a round trip per statement): a connection that
            // broke meanwhile fails its statement, which is reported `Unavailable`,
            // and the pool drops it.
            .test_before_acquire(false)
    }

    /// `url`'s connect options with the schema as `search_path`.
    fn connect_options(&self, url: &str) -> Result<PgConnectOptions, PgStoreError> {
        let valid = self.schema.len() <= 63
            && self
                .schema
                .starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && self
                .schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(PgStoreError::Schema(self.schema.clone()));
        }
        let options: PgConnectOptions = url.parse()?;
        Ok(options.options([("search_path", self.schema.as_str())]))
    }
}

/// A PostgreSQL store for both cores. Cheap to clone (it shares the pool and the
/// session-status cache).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The schema [`PgStore::migrate`] creates, when the store chose it.
    schema: Option<String>,
    cache: Option<Arc<CacheHandle>>,
}

/// The cache and its listener task, which stops when the last clone of the store
/// drops this (and with it the sender).
/// What `slot` holds, leaving it empty.
fn take<T>(slot: &std::sync::Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).take()
}

#[derive(Debug)]
struct CacheHandle {
    cache: Arc<SessionCache>,
    /// Dropping the sender (the last store clone gone, or [`PgStore::close`]) stops
    /// the listener.
    stop: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    listener: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl PgStore {
    /// A store over an existing pool, used as it is: its connections' `search_path`
    /// decides where the tables go. [`PgStore::connect_with`] keeps them apart in
    /// their own schema instead.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            schema: None,
            cache: None,
        }
    }

    /// Turns the session-status cache on (see [`PoolSettings::session_cache`]) and
    /// starts its listener on the current tokio runtime. Outside a runtime, or if
    /// `settings.listen_url` does not parse, the store stays uncached and a warning is
    /// logged.
    pub fn with_session_cache(mut self, settings: SessionCacheSettings) -> Self {
        let options = match &settings.listen_url {
            Some(url) => match url.parse::<PgConnectOptions>() {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(error = %e, "session cache off: listen_url does not parse");
                    return self;
                }
            },
            None => (*self.pool.connect_options()).clone(),
        };
        if tokio::runtime::Handle::try_current().is_err() {
            tracing::warn!("session cache off: no tokio runtime to run its listener");
            return self;
        }
        let cache = Arc::new(SessionCache::new(&settings));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = listener::spawn(Arc::downgrade(&cache), options, stopped);
        self.cache = Some(Arc::new(CacheHandle {
            cache,
            stop: std::sync::Mutex::new(Some(stop)),
            listener: std::sync::Mutex::new(Some(task)),
        }));
        self
    }

    /// Shuts the store down: stops the session cache's listener (its connection
    /// closes) and closes the pool, waiting for connections in use to be returned.
    /// Every clone shares the pool, so every clone is closed; calls after that answer
    /// [`StoreError::Unavailable`](auth_core::StoreError::Unavailable). Call it last,
    /// after the server stopped taking requests.
    pub async fn close(&self) {
        if let Some(handle) = &self.cache {
            drop(take(&handle.stop));
            if let Some(task) = take(&handle.listener) {
                let _ = task.await;
            }
        }
        self.pool.close().await;
    }

    /// What the session-status cache is doing; `None` when it is off.
    pub fn session_cache_stats(&self) -> Option<SessionCacheStats> {
        self.cache.as_ref().map(|h| h.cache.stats())
    }

    /// The session-status cache, when on.
    fn cache(&self) -> Option<&SessionCache> {
        self.cache.as_deref().map(|h| &*h.cache)
    }

    /// After a change this instance committed to `user`: its cached sessions go now,
    /// before the notice comes back.
    fn forget_user(&self, user: uuid::Uuid) {
        if let Some(c) = self.cache() {
            c.forget_user(user);
        }
    }

    /// After this instance rotated `session`.
    fn forget_session(&self, session: uuid::Uuid) {
        if let Some(c) = self.cache() {
            c.forget_session(session);
        }
    }

    /// After a change this instance committed whose users it does not know.
    fn forget_all(&self) {
        if let Some(c) = self.cache() {
            c.forget_all();
        }
    }

    /// Connects with the default [`PoolSettings`].
    pub async fn connect(url: &str) -> Result<Self, PgStoreError> {
        Self::connect_with(url, PoolSettings::default()).await
    }

    /// Connects with these pool settings, in `settings.schema`.
    pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<Self, PgStoreError> {
        let options = settings.connect_options(url)?;
        let pool = settings.options().connect_with(options).await?;
        Ok(Self::chosen(pool, settings))
    }

    /// A store over `pool` in `settings.schema`, cached as the settings say.
    fn chosen(pool: PgPool, settings: PoolSettings) -> Self {
        let store = Self {
            pool,
            schema: Some(settings.schema),
            cache: None,
        };
        match settings.session_cache {
            Some(cache) => store.with_session_cache(cache),
            None => store,
        }
    }

    /// Like [`PgStore::connect`] but connects on first use, so a server can start
    /// while the database is still down.
    pub fn connect_lazy(url: &str) -> Result<Self, PgStoreError> {
        Self::connect_lazy_with(url, PoolSettings::default())
    }

    /// Like [`PgStore::connect_with`] but connects on first use. The session cache's
    /// listener (started if a tokio runtime is current) keeps trying meanwhile.
    pub fn connect_lazy_with(url: &str, settings: PoolSettings) -> Result<Self, PgStoreError> {
        let options = settings.connect_options(url)?;
        let pool = settings.options().connect_lazy_with(options);
        Ok(Self::chosen(pool, settings))
    }

    /// Creates the store's schema if it chose one, then applies pending migrations,
    /// recording them in that schema's own history; a no-op when current.
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        if let Some(schema) = &self.schema {
            // The name was checked to be a plain identifier when connecting.
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&self.pool)
                .await?;
        }
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
