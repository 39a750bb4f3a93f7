//! A store sharing the application's pool: its tables in a schema of their own, the
//! application's tables and migrations where the application keeps them.

use std::sync::Arc;

use auth_core::store::{AccountStore, NewUser};
use storage_postgres::testing::TestDatabase;
use storage_postgres::{PgStore, sqlx};

/// The store's schema in these tests: not the default one, so every statement runs
/// renamed.
const SCHEMA: &str = "shop_auth";

/// A fresh database per test, the store in the application's pool.
struct Shared(TestDatabase);

#[async_trait::async_trait]
impl auth_core::testkit::Harness for Shared {
    async fn setup() -> Self {
        Shared(TestDatabase::create_in_shared_pool(10, SCHEMA).await)
    }
    fn store(&self) -> Arc<dyn auth_core::AuthStore> {
        Arc::new(self.0.store())
    }
    async fn teardown(self) {
        self.0.drop_database().await;
    }
}

#[async_trait::async_trait]
impl exchange_core::testkit::Harness for Shared {
    async fn setup() -> Self {
        Shared(TestDatabase::create_in_shared_pool(10, SCHEMA).await)
    }
    fn store(&self) -> Arc<dyn exchange_core::ExchangeStore> {
        Arc::new(self.0.store())
    }
    async fn teardown(self) {
        self.0.drop_database().await;
    }
}

mod auth_conformance {
    auth_core::auth_store_conformance!(super::Shared);
}

mod exchange_conformance {
    exchange_core::exchange_store_conformance!(super::Shared);
}

fn new_user(login: &str) -> NewUser {
    NewUser {
        id: uuid::Uuid::now_v7(),
        login: auth_core::Login::parse(login).unwrap(),
        email: None,
        first_name: None,
        last_name: None,
        password_hash: "not-a-real-hash".into(),
        roles: vec![],
        email_verified: false,
        created_at: time::OffsetDateTime::now_utc(),
    }
}

/// Counts the rows of `table`.
async fn rows(pool: &sqlx::PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_application_and_the_store_share_a_pool_and_keep_their_tables_apart() {
    let db = TestDatabase::create_in_shared_pool(4, SCHEMA).await;
    let store = db.store();
    let pool = store.pool().clone();
    let app_migrator = sqlx::migrate!("tests/app_migrations");
    // Both migrators, in either order and again: each keeps its own history.
    app_migrator.run(&pool).await.unwrap();
    store.migrate().await.unwrap();
    app_migrator.run(&pool).await.unwrap();

    sqlx::query("INSERT INTO users (name) VALUES ('shop-owner')")
        .execute(&pool)
        .await
        .unwrap();
    let user = store.create_user(new_user("alice")).await.unwrap();
    let found = store.user_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(found.login.as_str(), "alice");

    assert_eq!(rows(&pool, "public.users").await, 1);
    assert_eq!(rows(&pool, &format!("{SCHEMA}.users")).await, 1);
    let app_name: String = sqlx::query_scalar("SELECT name FROM users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(app_name, "shop-owner");
    assert_eq!(rows(&pool, "public._sqlx_migrations").await, 1);
    assert_eq!(
        rows(&pool, &format!("{SCHEMA}._sqlx_migrations")).await,
        i64::try_from(storage_postgres::migrator().iter().count()).unwrap()
    );
    // The store left every connection as the application opened it.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let path: String = sqlx::query_scalar("SHOW search_path")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(path, "\"$user\", public");
    }
    drop(held);
    db.drop_database().await;
}

#[tokio::test]
async fn a_schema_name_that_is_not_a_plain_identifier_is_refused() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://postgres@127.0.0.1:5432/postgres")
        .unwrap();
    for bad in ["Shop", "shop-auth", "a\"; DROP TABLE users; --"] {
        let err = PgStore::in_schema(pool.clone(), bad).unwrap_err();
        assert!(err.to_string().contains("invalid schema name"), "{err}");
    }
}
