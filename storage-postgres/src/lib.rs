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
mod pooler;
mod schema;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use cache::SessionCache;
pub use cache::{SessionCacheSettings, SessionCacheStats};
pub use error::{PgStoreError, is_unavailable};
pub use listener::{LISTENER_APPLICATION_NAME, SESSION_STATUS_CHANNEL, SIGNING_KEYS_NOTICE};
pub use pooler::Pooler;
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
    /// How the pool reaches Postgres: straight (the default) or through a pooler in
    /// transaction mode ([`Pooler`]).
    pub pooler: Pooler,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
            schema: DEFAULT_SCHEMA.to_owned(),
            session_cache: Some(SessionCacheSettings::default()),
            pooler: Pooler::None,
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

    /// `url`'s connect options: with the schema as `search_path`, or behind a
    /// transaction pooler without the startup parameters it refuses.
    fn connect_options(&self, url: &str) -> Result<PgConnectOptions, PgStoreError> {
        let schema = schema::checked(&self.schema)?;
        let options: PgConnectOptions = url.parse()?;
        Ok(match self.pooler {
            Pooler::None => options.options([("search_path", schema)]),
            Pooler::Transaction { .. } => options.extra_float_digits(None),
        })
    }
}

/// What a committed write changed, as far as the session-status cache cares.
#[derive(Debug, Clone, Copy)]
enum Changed {
    /// A user, their roles or any of their sessions.
    User(uuid::Uuid),
    /// One cached entry went stale (a session rotated, a key's last use written), its
    /// owner untouched.
    Session(uuid::Uuid),
    /// Users the store does not know one by one (a role deleted from every holder).
    Everyone,
    /// Nothing a cached session status holds (a new user, a one-time code used).
    Nothing,
}

/// A PostgreSQL store for both cores. Cheap to clone (it shares the pool and the
/// session-status cache).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The schema [`PgStore::migrate`] creates, when the store chose it.
    schema: Option<String>,
    statements: Arc<schema::Statements>,
    cache: Option<Arc<CacheHandle>>,
    /// Behind a transaction pooler: the direct connection's options (see [`Pooler`]).
    direct: Option<Arc<pooler::Direct>>,
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
    /// decides where the tables go. [`PgStore::in_schema`] shares a pool and keeps
    /// the tables apart in their own schema; [`PgStore::connect_with`] opens a pool
    /// of the store's own.
    pub fn new(pool: PgPool) -> Self {
        Self::over(pool, None)
    }

    /// A store over the application's own pool, its tables and migration history in
    /// `schema` (created by [`PgStore::migrate`]) whatever the pool's `search_path`:
    /// every statement names its tables with the schema, and the pool's connections
    /// are left as they are. Errors when `schema` is not a plain lowercase identifier.
    ///
    /// ```no_run
    /// # async fn run(pool: sqlx::PgPool) -> Result<(), storage_postgres::PgStoreError> {
    /// use storage_postgres::{DEFAULT_SCHEMA, PgStore, SessionCacheSettings};
    ///
    /// let store = PgStore::in_schema(pool, DEFAULT_SCHEMA)?
    ///     .with_session_cache(SessionCacheSettings::default());
    /// store.migrate().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn in_schema(pool: PgPool, schema: &str) -> Result<Self, PgStoreError> {
        let schema = schema::checked(schema)?;
        Ok(Self::over(pool, Some(schema.to_owned())))
    }

    fn over(pool: PgPool, schema: Option<String>) -> Self {
        Self {
            pool,
            statements: Arc::new(schema::Statements::new(schema.as_deref())),
            schema,
            cache: None,
            direct: None,
        }
    }

    /// Behind a transaction pooler ([`Pooler::Transaction`]): statements run unnamed,
    /// each in a transaction, and migrations and the session cache's listener use
    /// the direct URL. For a store over an existing pool ([`PgStore::new`],
    /// [`PgStore::in_schema`]), whose connect options must then leave out what the
    /// pooler refuses; [`PoolSettings::pooler`] does all of it for
    /// [`PgStore::connect_with`]. Errors when the direct URL does not parse, or when
    /// the session cache is already on (its listener would be connected through the
    /// pooler): call [`PgStore::with_session_cache`] after this.
    pub fn with_pooler(mut self, pooler: Pooler) -> Result<Self, PgStoreError> {
        self.direct = match pooler {
            Pooler::None => None,
            Pooler::Transaction { direct_url } => {
                Some(Arc::new(pooler::Direct(direct_url.parse()?)))
            }
        };
        if self.direct.is_some() && self.cache.is_some() {
            return Err(PgStoreError::CacheBeforePooler);
        }
        Ok(self)
    }

    /// Where a statement outside a transaction runs: the pool, in the store's mode.
    fn exec(&self) -> pooler::Db<'_> {
        pooler::Db::pool(&self.pool, self.direct.is_some())
    }

    /// A transaction whose statements run in the store's mode.
    async fn begin(&self) -> Result<pooler::Tx, sqlx::Error> {
        pooler::Tx::begin(&self.pool, self.direct.is_some()).await
    }

    /// An executor for the application's own statements on the store's pool, run as
    /// the store runs its own: behind a transaction pooler each unnamed, in a
    /// transaction of its own (its rows read whole before the commit), and
    /// `prepare` (a named statement) is refused; otherwise straight on the pool.
    pub fn executor(&self) -> impl sqlx::Executor<'_, Database = sqlx::Postgres> {
        self.exec()
    }

    /// `text` (tables written `auth_exchange.<table>`) as this store runs it.
    fn sql<'a>(&self, text: &'a str) -> schema::Sql<'a> {
        self.statements.render(text)
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
            None => self.session_options(),
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

    /// After this instance committed `change`: the session-status cache drops what
    /// it made stale now, before the database's notice comes back. Every committed
    /// write that touches sessions, users or roles goes through here (or through
    /// `commit`, which calls it).
    fn changed(&self, change: Changed) {
        let Some(c) = self.cache() else { return };
        match change {
            Changed::User(user) => c.forget_user(user),
            Changed::Session(session) => c.forget_session(session),
            Changed::Everyone => c.forget_all(),
            Changed::Nothing => {}
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
        Self::chosen(pool, settings)
    }

    /// A store over `pool` in `settings.schema`, cached and pooled as the settings say.
    fn chosen(pool: PgPool, settings: PoolSettings) -> Result<Self, PgStoreError> {
        let store = Self::over(pool, Some(settings.schema)).with_pooler(settings.pooler)?;
        Ok(match settings.session_cache {
            Some(cache) => store.with_session_cache(cache),
            None => store,
        })
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
        Self::chosen(pool, settings)
    }

    /// Creates the store's schema if it chose one, then applies pending migrations,
    /// recording them in that schema's own history; a no-op when current. The
    /// migrations run on a [`PgStore::session_connection`], closed afterwards.
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        let mut conn = self.session_connection().await?;
        if let Some(schema) = &self.schema {
            // The name was checked to be a plain identifier.
            let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
            sqlx::Executor::execute(&mut conn, create.as_str()).await?;
        }
        let migrated = migrator().run_direct(&mut conn).await;
        let _ = sqlx::Connection::close(conn).await;
        Ok(migrated?)
    }

    /// A connection of its own to the store's database, not from the pool, for what
    /// needs a session: migrations (the application's own too), advisory locks.
    /// Behind a transaction pooler it goes to the direct URL. When the store chose its
    /// schema, that schema is the connection's `search_path`. Close it when done.
    pub async fn session_connection(&self) -> Result<sqlx::PgConnection, PgStoreError> {
        let mut conn = sqlx::ConnectOptions::connect(&self.session_options()).await?;
        if let Some(schema) = &self.schema {
            let set = format!("SET search_path TO \"{schema}\"");
            sqlx::Executor::execute(&mut conn, set.as_str()).await?;
        }
        Ok(conn)
    }

    /// The connect options of a session connection: direct behind a pooler.
    fn session_options(&self) -> PgConnectOptions {
        match &self.direct {
            Some(direct) => direct.0.clone(),
            None => (*self.pool.connect_options()).clone(),
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), PgStoreError> {
        sqlx::query("SELECT 1").execute(self.exec()).await?;
        Ok(())
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
