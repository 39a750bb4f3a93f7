//! Item: the login policy is the application's to choose, on memory and on Postgres.

use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::{
    AuthConfig, AuthError, AuthService, AuthStore, ClientInfo, Key, KeySet, LoginPolicy,
    RefreshSecret, Registration,
};
use storage_postgres::testing::TestDatabase;

fn service(store: Arc<dyn AuthStore>, policy: LoginPolicy) -> AuthService {
    let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
    let config = AuthConfig {
        login_policy: policy,
        ..AuthConfig::default()
    };
    AuthService::new(store, keys, &RefreshSecret::generate(), config).unwrap()
}

fn registration(login: &str) -> Registration {
    Registration {
        login: login.into(),
        password: "Passw0rd!".into(),
        ..Default::default()
    }
}

async fn email_like_logins_register_and_sign_in(store: Arc<dyn AuthStore>) {
    let auth = service(store, LoginPolicy::new(3, 64, "._-@").unwrap());
    for login in ["john.doe", "ann_lee", "x-y-z", "ann@example.com"] {
        auth.register(registration(login), &ClientInfo::default())
            .await
            .unwrap_or_else(|e| panic!("{login}: {e}"));
        auth.login(login, "Passw0rd!", ClientInfo::default())
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
