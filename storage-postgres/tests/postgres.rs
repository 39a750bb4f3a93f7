//! PgStore against a real Postgres: both cores' conformance suites, migrations, and
//! behaviour when the database is unreachable. Each test gets its own database.

use std::sync::Arc;

use storage_postgres::PgStore;
use storage_postgres::testing::TestDatabase;

/// A fresh database per test, with a pool of 10 so concurrency tests really overlap.
struct Pg(TestDatabase);

#[async_trait::async_trait]
impl auth_core::testkit::Harness for Pg {
    async fn setup() -> Self {
        Pg(TestDatabase::create(10).await)
    }
    fn store(&self) -> Arc<dyn auth_core::AuthStore> {
        Arc::new(self.0.store())
    }
    async fn teardown(self) {
        self.0.drop_database().await;
    }
}

#[async_trait::async_trait]
impl exchange_core::testkit::Harness for Pg {
    async fn setup() -> Self {
        Pg(TestDatabase::create(10).await)
    }
    fn store(&self) -> Arc<dyn exchange_core::ExchangeStore> {
        Arc::new(self.0.store())
    }
    async fn teardown(self) {
        self.0.drop_database().await;
    }
}

mod auth_conformance {
    auth_core::auth_store_conformance!(super::Pg);
}

mod exchange_conformance {
    exchange_core::exchange_store_conformance!(super::Pg);
}

mod migrations {
    use super::*;
    use storage_postgres::sqlx;

    /// The minor units migration 0010 gives existing rows are the ISO 4217
    /// catalogue's, for every code whose figure is not the default 2.
    #[test]
    fn the_minor_units_migration_lists_the_catalogues_figures() {
        let sql = include_str!("../migrations/0010_currency_minor_units.sql");
        let mut listed = std::collections::BTreeMap::new();
        for entry in sql.split("('").skip(1) {
            let (code, rest) = entry.split_once("', ").unwrap();
            let units: u32 = rest[..rest.find(')').unwrap()].parse().unwrap();
            listed.insert(code.to_owned(), units);
        }
        let mut catalogue = std::collections::BTreeMap::new();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                for c in b'A'..=b'Z' {
                    let text = String::from_utf8(vec![a, b, c]).unwrap();
                    let code = exchange_core::CurrencyCode::parse(&text).unwrap();
                    match exchange_core::iso_currency(code).and_then(|i| i.minor_units) {
                        Some(units) if units != 2 => {
                            catalogue.insert(text, units);
                        }
                        _ => {}
                    }
                }
            }
        }
        assert_eq!(listed, catalogue);
        assert_eq!(listed["JPY"], 0);
        assert_eq!(listed["KWD"], 3);
    }

    // Test statements run on a session connection of the store: straight to Postgres
    // with the store's schema as search_path, even behind a transaction pooler.
    async fn columns(store: &PgStore, table: &str) -> Vec<String> {
        let mut conn = store.session_connection().await.unwrap();
        sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn migrating_twice_is_a_no_op() {
        let db = TestDatabase::create(2).await;
        let store = db.store();
        let applied = || async {
            let mut conn = store.session_connection().await.unwrap();
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations")
                .fetch_one(&mut conn)
                .await
                .unwrap()
        };
        let before = applied().await;
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        assert_eq!(applied().await, before);
        assert_eq!(before, storage_postgres::migrator().iter().count() as i64);
        db.drop_database().await;
    }

    // Beside an application's own tables and migrations: `consumer/tests/postgres.rs`.
    #[tokio::test]
    async fn a_schema_name_that_is_not_an_identifier_is_refused() {
        use storage_postgres::PoolSettings;
        let db = TestDatabase::create(1).await;
        for schema in ["Robert'); DROP", "", "1abc", "a\"b"] {
            let settings = PoolSettings {
                schema: schema.into(),
                ..PoolSettings::default()
            };
            assert!(
                PgStore::connect_with(db.url(), settings).await.is_err(),
                "{schema:?}"
            );
        }
        db.drop_database().await;
    }

    #[tokio::test]
    async fn the_schema_has_the_columns_the_code_reads() {
        let db = TestDatabase::create(2).await;
        let store = db.store();
        let expected: &[(&str, &[&str])] = &[
            (
                "users",
                &[
                    "id",
                    "login",
                    "email",
                    "first_name",
                    "last_name",
                    "password_hash",
                    "status",
                    "email_verified",
                    "created_at",
                    "roles",
                ],
            ),
            ("roles", &["name", "description"]),
            ("user_roles", &["user_id", "role"]),
            (
                "sessions",
                &[
                    "id",
                    "user_id",
                    "counter",
                    "created_at",
                    "last_refreshed_at",
                    "expires_at",
                    "revoked",
                    "ip",
                    "user_agent",
                    "reauthenticated_at",
                    "sign_in",
                ],
            ),
            ("password_resets", &["user_id", "token_hash", "expires_at"]),
            ("mfa_challenges", &["token_hash", "user_id", "expires_at"]),
            (
                "email_changes",
                &["user_id", "email", "code_hash", "expires_at"],
            ),
            (
                "totp_factors",
                &["user_id", "secret", "active", "last_step"],
            ),
            ("recovery_codes", &["user_id", "code_hash"]),
            (
                "passkeys",
                &[
                    "id",
                    "user_id",
                    "credential_id",
                    "name",
                    "credential",
                    "counter",
                    "backup_eligible",
                    "backup_state",
                    "created_at",
                    "last_used_at",
                ],
            ),
            (
                "passkey_ceremonies",
                &["id", "kind", "user_id", "state", "expires_at"],
            ),
            (
                "api_keys",
                &[
                    "id",
                    "user_id",
                    "name",
                    "secret_hash",
                    "roles",
                    "rate_limit",
                    "created_at",
                    "expires_at",
                    "last_used_at",
                ],
            ),
            (
                "audit_events",
                &[
                    "id",
                    "at",
                    "kind",
                    "actor_user",
                    "actor_key",
                    "actor_system",
                    "target",
                    "ip",
                    "user_agent",
                    "success",
                    "detail",
                ],
            ),
            (
                "signing_keys",
                &[
                    "kid",
                    "algorithm",
                    "state",
                    "sealed_key",
                    "created_at",
                    "activated_at",
                    "retire_after",
                ],
            ),
            ("signing_key_generation", &["singleton", "generation"]),
            (
                "verification_codes",
                &["user_id", "code_hash", "expires_at"],
            ),
            (
                "auth_attempts",
                &["key", "attempts", "window_start", "last_attempt"],
            ),
            ("currencies", &["id", "code", "name", "sign", "minor_units"]),
            (
                "rate_observations",
                &["base", "target", "as_of", "source", "rate", "recorded_at"],
            ),
            (
                "exchange_rates",
                &["id", "base_currency_id", "target_currency_id", "rate"],
            ),
        ];
        for (table, cols) in expected {
            assert_eq!(columns(&store, table).await, *cols, "{table}");
        }
        db.drop_database().await;
    }

    #[tokio::test]
    async fn the_schema_itself_refuses_what_the_cores_refuse() {
        let db = TestDatabase::create(2).await;
        let mut conn = db.store().session_connection().await.unwrap();
        sqlx::query("INSERT INTO currencies (code, name, sign) VALUES ('USD', 'Dollar', '$')")
            .execute(&mut conn)
            .await
            .unwrap();
        for bad in [
            "INSERT INTO currencies (code, name, sign) VALUES ('usd', 'x', 'x')",
            "INSERT INTO currencies (code, name, sign) VALUES ('EUR', ' ', 'x')",
            "INSERT INTO exchange_rates (base_currency_id, target_currency_id, rate) VALUES (1, 1, 1)",
            "INSERT INTO roles (name) VALUES ('Bad Name')",
        ] {
            assert!(sqlx::query(bad).execute(&mut conn).await.is_err(), "{bad}");
        }
        sqlx::query("INSERT INTO currencies (code, name, sign) VALUES ('EUR', 'Euro', '€')")
            .execute(&mut conn)
            .await
            .unwrap();
        for bad_rate in ["0", "-1", "1000000000001", "0.0000000000001"] {
            let q = format!(
                "INSERT INTO exchange_rates (base_currency_id, target_currency_id, rate) VALUES (1, 2, {bad_rate})"
            );
            assert!(
                sqlx::query(&q).execute(&mut conn).await.is_err(),
                "{bad_rate}"
            );
        }
        db.drop_database().await;
    }
}

mod outages {
    use super::*;
    use auth_core::store::SessionStore;
    use exchange_core::ExchangeStore;

    fn unreachable() -> PgStore {
        // Nothing listens on port 1; the pool gives up quickly.
        let pool = storage_postgres::sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(std::time::Duration::from_millis(500))
            .connect_lazy("postgres://postgres@127.0.0.1:1/postgres")
            .unwrap();
        PgStore::new(pool)
    }

    #[tokio::test]
    async fn a_connection_broken_while_idle_is_unavailable_once_then_replaced() {
        use storage_postgres::PoolSettings;
        let db = TestDatabase::create(1).await;
        let settings = PoolSettings {
            max_connections: 1,
            ..PoolSettings::default()
        };
        let store = PgStore::connect_with(db.url(), settings).await.unwrap();
        let id = uuid::Uuid::new_v4();
        assert!(store.session_status(id).await.unwrap().is_none());
        // Kill the pool's one connection from outside while it is idle.
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let admin = PgStore::connect_with(db.url(), PoolSettings::default())
            .await
            .unwrap();
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(admin.pool())
            .await
            .unwrap();
        assert!(killed);
        // Wait (with a deadline) until the killed backend is gone.
        for attempt in 0.. {
            let alive: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                    .bind(pid)
                    .fetch_one(admin.pool())
                    .await
                    .unwrap();
            if !alive {
                break;
            }
            assert!(attempt < 500, "the backend outlived its termination");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(matches!(
            store.session_status(id).await,
            Err(auth_core::StoreError::Unavailable(_))
        ));
        // The broken connection is gone; the next call opens a new one.
        assert!(store.session_status(id).await.unwrap().is_none());
        drop((store, admin));
        db.drop_database().await;
    }

    #[tokio::test]
    async fn an_unreachable_database_is_reported_as_unavailable() {
        let store = unreachable();
        assert!(matches!(
            store.session_status(uuid::Uuid::new_v4()).await,
            Err(auth_core::StoreError::Unavailable(_))
        ));
        assert!(matches!(
            store.list_currencies().await,
            Err(exchange_core::StoreError::Unavailable(_))
        ));
        assert!(store.ping().await.is_err());
    }
}

mod pooler {
    use super::*;
    use auth_core::store::AccountStore;
    use exchange_core::ExchangeStore;
    use storage_postgres::{PoolSettings, Pooler, SessionCacheSettings};

    /// Named statements left on the one connection of a store in `pooler` mode after
    /// reads, a transaction and the application's own statement on its executor.
    async fn named_statements_left(db: &TestDatabase, pooler: Pooler, login: &str) -> i64 {
        let settings = PoolSettings {
            max_connections: 1,
            session_cache: None,
            pooler,
            ..PoolSettings::default()
        };
        let store = PgStore::connect_with(db.url(), settings).await.unwrap();
        store.ping().await.unwrap();
        assert!(store.list_currencies().await.unwrap().is_empty());
        assert!(
            store
                .user_by_id(uuid::Uuid::new_v4())
                .await
                .unwrap()
                .is_none()
        );
        let user = auth_core::testkit::prelude::new_user(login, None);
        assert_eq!(store.create_user(user).await.unwrap().login.as_str(), login);
        let left = sqlx::query_scalar("SELECT count(*) FROM pg_prepared_statements")
            .fetch_one(store.executor())
            .await
            .unwrap();
        store.close().await;
        left
    }

    // Behind a transaction pooler a named statement stays on a server connection the
    // next transaction may not get, or another client's takes its name: none is left.
    // (`tests/pgbouncer/run.sh` runs the suites through a real PgBouncer.)
    #[tokio::test]
    async fn behind_a_transaction_pooler_no_named_statement_is_left_on_a_connection() {
        let db = TestDatabase::create(1).await;
        let direct_url = db.url().to_owned();
        assert_eq!(
            named_statements_left(&db, Pooler::Transaction { direct_url }, "alice").await,
            0
        );
        assert!(named_statements_left(&db, Pooler::None, "bob").await > 0);
        db.drop_database().await;
    }

    #[tokio::test]
    async fn the_pooler_is_chosen_before_the_session_cache_and_its_url_stays_out_of_debug() {
        let db = TestDatabase::create(1).await;
        let pooler = Pooler::Transaction {
            direct_url: "postgres://app:hunter2@127.0.0.1/app".into(),
        };
        assert!(!format!("{pooler:?}").contains("hunter2"));
        let pool = storage_postgres::sqlx::PgPool::connect(db.url())
            .await
            .unwrap();
        let cached = PgStore::new(pool.clone()).with_session_cache(SessionCacheSettings::default());
        assert!(matches!(
            cached.with_pooler(pooler.clone()),
            Err(storage_postgres::PgStoreError::CacheBeforePooler)
        ));
        let store = PgStore::new(pool).with_pooler(pooler).unwrap();
        assert!(store.session_cache_stats().is_none());
        assert!(!format!("{store:?}").contains("hunter2"));
        db.drop_database().await;
    }
}

mod roles_copy {
    use super::*;
    use auth_core::store::{AccountStore, Role, RoleStore};
    use auth_core::testkit::prelude::{new_user, role};
    use storage_postgres::sqlx;

    /// The user's row copy of its roles, sorted, and its grants in `user_roles`.
    async fn copy_and_record(store: &PgStore, user: uuid::Uuid) -> (Vec<String>, Vec<String>) {
        sqlx::query_as(
            "SELECT ARRAY(SELECT x FROM unnest(u.roles) x ORDER BY x), \
                    ARRAY(SELECT r.role FROM auth_exchange.user_roles r WHERE r.user_id = u.id ORDER BY r.role) \
             FROM auth_exchange.users u WHERE u.id = $1",
        )
        .bind(user)
        .fetch_one(store.executor())
        .await
        .unwrap()
    }

    // The hot reads take a user's roles from the copy on its row; concurrent grants and
    // removals for one user must leave it equal to the grants, as deleting a role must.
    #[tokio::test]
    async fn the_copy_of_a_users_roles_follows_concurrent_grants_and_removals() {
        let db = TestDatabase::create(10).await;
        let store = Arc::new(db.store());
        let names: Vec<String> = (0..12).map(|i| format!("r{i:02}")).collect();
        for name in &names {
            let r = Role {
                name: role(name),
                description: None,
            };
            store.create_role(r, None).await.unwrap();
        }
        let mut users = Vec::new();
        for round in 0..5 {
            let user = store
                .create_user(new_user(&format!("u{round}"), None))
                .await
                .unwrap()
                .id;
            for name in &names[..6] {
                store.grant_role(user, &role(name), None).await.unwrap();
            }
            // At once: grant r06..r11, remove r00..r02.
            let barrier = Arc::new(tokio::sync::Barrier::new(9));
            let tasks: Vec<_> = names[..3]
                .iter()
                .map(|n| (n.clone(), false))
                .chain(names[6..].iter().map(|n| (n.clone(), true)))
                .map(|(name, grant)| {
                    let (store, barrier) = (store.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        if grant {
                            store.grant_role(user, &role(&name), None).await
                        } else {
                            store.revoke_role(user, &role(&name), None).await
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap().unwrap();
            }
            let expected: Vec<String> = names[3..].to_vec();
            assert_eq!(
                copy_and_record(&store, user).await,
                (expected.clone(), expected.clone())
            );
            let read = store.user_by_id(user).await.unwrap().unwrap().roles;
            assert_eq!(
                read.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                expected
            );
            users.push(user);
        }
        // Deleting a role takes it from every copy; deleting a user still works.
        store.delete_role(&role("r07"), None).await.unwrap();
        let user = users[0];
        let (copy, record) = copy_and_record(&store, user).await;
        assert_eq!(copy, record);
        assert!(!copy.contains(&"r07".to_owned()) && copy.contains(&"r08".to_owned()));
        store.delete_user(user, None).await.unwrap();
        assert!(store.user_by_id(user).await.unwrap().is_none());
        db.drop_database().await;
    }

    // Migration 0013 fills the copy for users who already have roles, without telling
    // the caches (no user's roles change), and leaves the notify trigger on.
    #[tokio::test]
    async fn the_migration_fills_the_copy_of_existing_grants() {
        let db = TestDatabase::create(2).await;
        let store = db.store();
        for name in ["a", "b"] {
            let r = Role {
                name: role(name),
                description: None,
            };
            store.create_role(r, None).await.unwrap();
        }
        let granted = store
            .create_user(new_user("granted", None))
            .await
            .unwrap()
            .id;
        let none = store.create_user(new_user("none", None)).await.unwrap().id;
        for name in ["b", "a"] {
            store.grant_role(granted, &role(name), None).await.unwrap();
        }
        // Back to the schema before 0013, with the grants in place.
        let mut conn = store.session_connection().await.unwrap();
        sqlx::raw_sql(
            "DROP TRIGGER user_roles_copy ON user_roles; DROP FUNCTION user_roles_copy(); \
             ALTER TABLE users DROP COLUMN roles; DELETE FROM _sqlx_migrations WHERE version = 13",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        store.migrate().await.unwrap();
        let copy = |id: uuid::Uuid| {
            sqlx::query_scalar::<_, Vec<String>>(
                "SELECT ARRAY(SELECT x FROM unnest(roles) x ORDER BY x) FROM users WHERE id = $1",
            )
            .bind(id)
        };
        assert_eq!(
            copy(granted).fetch_one(&mut conn).await.unwrap(),
            ["a", "b"]
        );
        assert!(copy(none).fetch_one(&mut conn).await.unwrap().is_empty());
        let enabled: String = sqlx::query_scalar(
            "SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'users_session_status_changed' \
             AND tgrelid = 'users'::regclass",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(enabled, "O");
        drop(conn);
        db.drop_database().await;
    }
}
