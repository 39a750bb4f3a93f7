//! Opening the stores: Postgres (migrated) when configured, else memory.

use std::sync::Arc;
use std::time::Duration;

use auth_core::AuthStore;
use auth_core::memory::MemoryStore as AuthMemory;
use exchange_core::ExchangeStore;
use exchange_core::memory::MemoryStore as ExchangeMemory;
use storage_postgres::{PgStore, PoolSettings, Pooler, SessionCacheSettings};

use super::StartupError;
use crate::config::{Config, PoolerArg};
use crate::kv::{KvStore, MemoryKv, PgKv};
use crate::state::Health;

pub(super) struct Stores {
    pub(super) auth: Arc<dyn AuthStore>,
    pub(super) exchange: Arc<dyn ExchangeStore>,
    pub(super) kv: Arc<dyn KvStore>,
    pub(super) health: Health,
}

/// Postgres when configured (migrated), else memory.
pub(super) async fn open_stores(config: &Config) -> Result<Stores, StartupError> {
    let Some(url) = config.database_url.as_deref().filter(|u| !u.is_empty()) else {
        tracing::warn!(
            "storage: in memory; no data is kept after the server stops (set DATABASE_URL to use Postgres)"
        );
        return Ok(Stores {
            auth: Arc::new(AuthMemory::new()),
            exchange: Arc::new(ExchangeMemory::new()),
            kv: Arc::new(MemoryKv::default()),
            health: Health::Memory,
        });
    };
    let pooler = match (config.database_pooler, &config.database_direct_url) {
        (PoolerArg::None, _) => Pooler::None,
        (PoolerArg::Transaction, Some(direct_url)) => Pooler::Transaction {
            direct_url: direct_url.clone(),
        },
        (PoolerArg::Transaction, None) => {
            return Err(StartupError::Config(
                "DATABASE_POOLER=transaction needs DATABASE_DIRECT_URL (migrations and LISTEN need a session)".into(),
            ));
        }
    };
    let settings = PoolSettings {
        max_connections: config.database_max_connections,
        acquire_timeout: Duration::from_millis(config.database_acquire_timeout_ms),
        schema: config.database_schema.clone(),
        session_cache: (config.session_cache_ttl_ms > 0).then(|| SessionCacheSettings {
            ttl: Duration::from_millis(config.session_cache_ttl_ms),
            capacity: config.session_cache_capacity,
            listen_url: config.database_listen_url.clone(),
        }),
        pooler,
    };
    let store = PgStore::connect_with(url, settings).await?;
    store.migrate().await?;
    let mut kv_migrator = sqlx::migrate!("./migrations");
    // The history table also holds storage-postgres's migrations.
    kv_migrator.set_ignore_missing(true);
    let mut conn = store.session_connection().await?;
    let migrated = kv_migrator.run_direct(&mut conn).await;
    let _ = sqlx::Connection::close(conn).await;
    migrated.map_err(storage_postgres::PgStoreError::from)?;
    tracing::info!("storage: Postgres");
    Ok(Stores {
        auth: Arc::new(store.clone()),
        exchange: Arc::new(store.clone()),
        kv: Arc::new(PgKv::new(store.clone(), &config.database_schema)),
        health: Health::Postgres(store),
    })
}
