//! Throwaway databases for tests: each test gets its own, so tests run in parallel
//! without sharing state.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::{PgStore, PoolSettings};

/// The server tests connect to when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `DATABASE_URL`, or [`DEFAULT_DATABASE_URL`].
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

/// A freshly created, migrated database, dropped by [`TestDatabase::drop_database`].
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    store: PgStore,
}

impl TestDatabase {
    /// Creates and migrates a new database with a pool of up to `max_connections`.
    ///
    /// # Panics
    /// If Postgres cannot be reached: tests need it.
    pub async fn create(max_connections: u32) -> Self {
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
        let options = admin.clone().database(&name);
        let url = options.to_url_lossy().to_string();
        // As an application connects: in the store's own schema.
        let settings = PoolSettings {
            max_connections,
            ..PoolSettings::default()
        };
        let store = PgStore::connect_with(&url, settings)
            .await
            .expect("connect to test database");
        store.migrate().await.expect("migrate test database");
        Self { url, name, store }
    }

    /// The store over this database.
    pub fn store(&self) -> PgStore {
        self.store.clone()
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL that connects to this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the pool and drops the database.
    pub async fn drop_database(self) {
        self.store.pool().close().await;
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
