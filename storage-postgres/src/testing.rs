//! Throwaway databases for tests: each test gets its own, so tests run in parallel
//! without sharing state.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::{PgStore, PoolSettings};

/// The server tests connect to when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `DATABASE_URL`, or [`DEFAULT_DATABASE_URL`].
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

/// `DATABASE_POOLER_URL`: a pooler in transaction mode in front of the server of
/// [`admin_url`], when the tests are to run through one. Each test database is
/// reached through it under its own name.
pub fn pooler_url() -> Option<String> {
    std::env::var("DATABASE_POOLER_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Creates an empty database; its name and a URL that connects to it.
async fn new_database() -> (String, String) {
    let admin: PgConnectOptions = admin_url().parse().expect("DATABASE_URL is a valid URL");
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .expect("Postgres reachable at DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .expect("create test database");
    conn.close().await.ok();
    let url = admin.database(&name).to_url_lossy().to_string();
    (name, url)
}

/// A freshly created, migrated database, dropped by [`TestDatabase::drop_database`].
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    /// Through the pooler of [`pooler_url`], when set.
    pooled_url: Option<String>,
    store: PgStore,
}

impl TestDatabase {
    /// Creates and migrates a new database with a pool of up to `max_connections`;
    /// when [`pooler_url`] is set, the store's pool goes through that pooler
    /// ([`Pooler::Transaction`](crate::Pooler::Transaction), this database's direct
    /// URL for migrations and the listener).
    ///
    /// # Panics
    /// If Postgres cannot be reached: tests need it.
    pub async fn create(max_connections: u32) -> Self {
        let (name, url) = new_database().await;
        // As an application connects: in the store's own schema.
        let pooled_url = pooler_url().map(|pooler| {
            let options: PgConnectOptions =
                pooler.parse().expect("DATABASE_POOLER_URL is a valid URL");
            options.database(&name).to_url_lossy().to_string()
        });
        let settings = PoolSettings {
            max_connections,
            pooler: match pooled_url {
                Some(_) => crate::Pooler::Transaction {
                    direct_url: url.clone(),
                },
                None => crate::Pooler::None,
            },
            ..PoolSettings::default()
        };
        let store = PgStore::connect_with(pooled_url.as_deref().unwrap_or(&url), settings)
            .await
            .expect("connect to test database");
        Self::migrated(name, url, pooled_url, store).await
    }

    /// Like [`TestDatabase::create`], but the store shares a pool opened as an
    /// application opens its own (no `search_path` set), its tables in `schema`
    /// ([`PgStore::in_schema`]), with the session-status cache on.
    ///
    /// # Panics
    /// If Postgres cannot be reached or `schema` is not a plain identifier.
    pub async fn create_in_shared_pool(max_connections: u32, schema: &str) -> Self {
        let (name, url) = new_database().await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(max_connections)
            .connect(&url)
            .await
            .expect("connect to test database");
        let store = PgStore::in_schema(pool, schema)
            .expect("a plain schema name")
            .with_session_cache(crate::SessionCacheSettings::default());
        Self::migrated(name, url, None, store).await
    }

    async fn migrated(
        name: String,
        url: String,
        pooled_url: Option<String>,
        store: PgStore,
    ) -> Self {
        store.migrate().await.expect("migrate test database");
        Self {
            url,
            name,
            pooled_url,
            store,
        }
    }

    /// The store over this database.
    pub fn store(&self) -> PgStore {
        self.store.clone()
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL that connects to this database directly.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A URL that connects to this database through the pooler of [`pooler_url`],
    /// when set: the one the store's pool uses.
    pub fn pooled_url(&self) -> Option<&str> {
        self.pooled_url.as_deref()
    }

    /// Closes the pool and drops the database.
    pub async fn drop_database(self) {
        self.store.close().await;
        let admin: PgConnectOptions = admin_url().parse().expect("DATABASE_URL is a valid URL");
        if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
        }
    }
}

/// A TCP proxy that can cut every connection and refuse new ones: a database outage
/// without stopping the shared Postgres.
pub struct ToggleProxy {
    /// The address to connect to instead of the target.
    pub addr: SocketAddr,
    enabled: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl ToggleProxy {
    /// Starts forwarding to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let enabled = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (en, cs) = (enabled.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !en.load(Ordering::SeqCst) {
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                cs.lock().expect("lock").push(task);
            }
        });
        Self {
            addr,
            enabled,
            conns,
            accept,
        }
    }

    /// Cuts every open connection and refuses new ones.
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::SeqCst);
        for t in self.conns.lock().expect("lock").drain(..) {
            t.abort();
        }
    }

    /// Forwards again.
    pub fn enable(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }
}

impl Drop for ToggleProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.disable();
    }
}
