//! Item: the store lives beside the application's own tables and sqlx migrations in
//! one database.

use std::sync::Arc;

use auth_core::AuthConfig;
use consumer::{MIGRATOR, auth_service, register};
use sqlx::PgPool;
use storage_postgres::testing::TestDatabase;
use storage_postgres::{DEFAULT_SCHEMA, PgStore, PoolSettings};

#[tokio::test]
async fn the_store_and_the_application_share_a_database_without_clashing() {
    let db = TestDatabase::create(2).await;
    // The application: its own pool, its own `users` table, its own migrations.
    let app = PgPool::connect(db.url()).await.unwrap();
    MIGRATOR.run(&app).await.unwrap();
    sqlx::query("INSERT INTO users (id, nickname) VALUES (1, 'app')")
        .execute(&app)
        .await
        .unwrap();
    // The store, migrated again on the same database (a second instance starting).
    let store = PgStore::connect_with(db.url(), PoolSettings::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let auth = auth_service(Arc::new(store.clone()), "iss", "aud", AuthConfig::default());
    let user = register(&auth, "alice").await;
    // Each side keeps its own history and its own users.
    MIGRATOR.run(&app).await.unwrap();
    let theirs: i64 = sqlx::query_scalar("SELECT count(*) FROM public._sqlx_migrations")
        .fetch_one(&app)
        .await
        .unwrap();
    assert_eq!(theirs, 1);
    let ours: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {DEFAULT_SCHEMA}._sqlx_migrations"
    ))
    .fetch_one(&app)
    .await
    .unwrap();
    assert_eq!(ours, storage_postgres::migrator().iter().count() as i64);
    let nickname: String = sqlx::query_scalar("SELECT nickname FROM users WHERE id = 1")
        .fetch_one(&app)
        .await
        .unwrap();
    assert_eq!(nickname, "app");
    let login: String = sqlx::query_scalar(&format!(
        "SELECT login FROM {DEFAULT_SCHEMA}.users WHERE id = $1"
    ))
    .bind(user.id)
    .fetch_one(&app)
    .await
    .unwrap();
    assert_eq!(login, "alice");
    app.close().await;
    db.drop_database().await;
}
