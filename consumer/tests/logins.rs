//! Item: the login policy is the application's to choose, on memory and on Postgres.

use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::{AuthConfig, AuthError, AuthService, AuthStore, ClientInfo, LoginPolicy};
use consumer::{PASSWORD, auth_service, register};
use storage_postgres::testing::TestDatabase;

fn service(store: Arc<dyn AuthStore>, policy: LoginPolicy) -> AuthService {
    let config = AuthConfig {
        login_policy: policy,
        ..AuthConfig::default()
    };
    auth_service(store, "iss", "aud", config)
}

fn registration(login: &str) -> auth_core::Registration {
    auth_core::Registration {
        login: login.into(),
        password: PASSWORD.into(),
        ..Default::default()
    }
}

async fn email_like_logins_register_and_sign_in(store: Arc<dyn AuthStore>) {
    let auth = service(store, LoginPolicy::new(3, 64, "._-@").unwrap());
    for login in ["john.doe", "ann_lee", "x-y-z", "ann@example.com"] {
        register(&auth, login).await;
        auth.login(login, PASSWORD, ClientInfo::default())
            .await
            .unwrap_or_else(|e| panic!("{login}: {e}"));
    }
    assert!(matches!(
        auth.register(registration("john doe"), &ClientInfo::default())
            .await,
        Err(AuthError::Validation(_))
    ));
}

#[tokio::test]
async fn the_default_policy_refuses_dots_and_a_wider_one_allows_them() {
    let strict = service(Arc::new(MemoryStore::new()), LoginPolicy::default());
    assert!(matches!(
        strict
            .register(registration("john.doe"), &ClientInfo::default())
            .await,
        Err(AuthError::Validation(_))
    ));
    email_like_logins_register_and_sign_in(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn postgres_keeps_what_the_policy_allows() {
    let db = TestDatabase::create(4).await;
    email_like_logins_register_and_sign_in(Arc::new(db.store())).await;
    db.drop_database().await;
}
