//! Unit tests of what reaches the store, over a recording memory store.

use super::verification::random_code;
use super::*;
use crate::memory::MemoryStore;
use crate::password::Argon2Params;
use crate::store::Spy;
use crate::token::{AccessClaims, Key};
use time::OffsetDateTime;

type Store = Arc<Spy<MemoryStore>>;

fn service_over(store: Store, config: AuthConfig) -> AuthService {
    let keys = KeySet::new(Key::generate_ed25519().unwrap(), [], "iss", "aud", 0).unwrap();
    AuthService::new(
        store,
        keys,
        &RefreshSecret::generate(),
        AuthConfig {
            argon2: Argon2Params {
                m_cost: 1024,
                t_cost: 1,
                p_cost: 1,
            },
            ..config
        },
    )
    .unwrap()
}

fn service() -> (AuthService, Store) {
    let store = Arc::new(Spy::new(MemoryStore::new()));
    (service_over(store.clone(), AuthConfig::default()), store)
}

fn from(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.parse().unwrap()),
        user_agent: None,
    }
}

#[tokio::test]
async fn an_unknown_login_is_reserved_first_and_writes_nothing_else() {
    let (auth, store) = service();
    let err = auth
        .login("ghost", "Passw0rd!", ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials));
    // No release, no history, no session: the reservation stays as the failure.
    assert_eq!(
        store.take_calls(),
        ["reserve_attempt", "credentials_by_login"]
    );
}

#[tokio::test]
async fn a_malformed_login_or_refresh_token_never_reaches_the_store() {
    let (auth, store) = service();
    let err = auth
        .login("not a login!", "x", ClientInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidCredentials));
    let err = auth
        .refresh("garbage", &from("192.0.2.7"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::InvalidRefreshToken));
    assert!(store.take_calls().is_empty());
}

#[tokio::test]
async fn an_unreachable_store_is_reported_as_unavailable() {
    let store = Arc::new(
        Spy::new(MemoryStore::new()).failing(crate::store::Call::session_status, || {
            StoreError::Unavailable("connection refused".into())
        }),
    );
    let auth = service_over(store, AuthConfig::default());
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let token = auth
        .keys()
        .sign(&AccessClaims {
            iss: "iss".into(),
            aud: "aud".into(),
            sub: Uuid::new_v4(),
            sid: Uuid::new_v4(),
            iat: now,
            exp: now + 60,
            jti: Uuid::new_v4(),
            nbf: None,
            roles: vec![],
            amr: vec![],
            custom: Default::default(),
        })
        .unwrap();
    assert!(matches!(
        auth.authenticate(&token).await,
        Err(AuthError::Unavailable(_))
    ));
}

/// A service under `throttle` whose limit has been reached by one failed login of
/// `alice` from 192.0.2.7, then the store calls of a second attempt and its error.
async fn second_attempt_under(
    throttle: ThrottlePolicy,
    login: &str,
) -> (AuthError, Vec<&'static str>) {
    let store = Arc::new(Spy::new(MemoryStore::new()));
    let config = AuthConfig {
        throttle,
        ..AuthConfig::default()
    };
    let auth = service_over(store.clone(), config);
    let _ = auth.login("alice", "Wr0ng-pass!", from("192.0.2.7")).await;
    store.take_calls();
    let err = auth
        .login(login, "Passw0rd!", from("192.0.2.7"))
        .await
        .unwrap_err();
    (err, store.take_calls())
}

#[tokio::test]
async fn a_refused_address_gives_back_nothing_and_checks_nothing() {
    let throttle = ThrottlePolicy {
        max_failures_per_ip: 1,
        ..ThrottlePolicy::default()
    };
    let (err, calls) = second_attempt_under(throttle, "alice").await;
    let AuthError::Throttled { retry_after } = err else {
        panic!("expected Throttled, got {err:?}");
    };
    assert!(retry_after.whole_seconds() > 25 && retry_after.whole_seconds() <= 30);
    // The address is asked first; no login key, lookup or hashing follows.
    assert_eq!(calls, ["reserve_attempt"]);
}

#[tokio::test]
async fn a_refused_login_gives_the_address_its_attempt_back() {
    let throttle = ThrottlePolicy {
        max_failures_per_login: 1,
        ..ThrottlePolicy::default()
    };
    // Logins compare ignoring case.
    let (err, calls) = second_attempt_under(throttle, "Alice").await;
    assert!(matches!(err, AuthError::Throttled { .. }), "{err:?}");
    assert_eq!(
        calls,
        ["reserve_attempt", "reserve_attempt", "release_attempt"]
    );
}

#[test]
fn the_lock_doubles_per_extra_failure_up_to_the_window() {
    let t = ThrottlePolicy::default().limit(5);
    assert_eq!(t.lock_for(4), Duration::ZERO);
    assert_eq!(t.lock_for(5), Duration::seconds(30));
    assert_eq!(t.lock_for(6), Duration::seconds(60));
    assert_eq!(t.lock_for(8), Duration::seconds(240));
    assert_eq!(t.lock_for(50), Duration::minutes(15));
}

#[test]
fn verification_codes_are_six_digits() {
    for _ in 0..200 {
        let c = random_code();
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
    }
}

#[tokio::test]
async fn authenticate_reads_the_session_and_its_user_in_one_store_call() {
    let store = Arc::new(Spy::new(MemoryStore::new()));
    let auth = service_over(store.clone(), AuthConfig::default());
    let registration = Registration {
        login: "alice".into(),
        password: "Passw0rd!".into(),
        email: Some("alice@example.com".into()),
        ..Default::default()
    };
    auth.register(registration, &ClientInfo::default())
        .await
        .unwrap();
    let pair = auth
        .login("alice", "Passw0rd!", ClientInfo::default())
        .await
        .unwrap();
    store.take_calls();
    let who = auth.authenticate(&pair.access_token).await.unwrap();
    assert_eq!(store.take_calls(), ["session_status"]);
    assert_eq!(who.user.login, "alice");
    assert_eq!(who.user.email.as_deref(), Some("alice@example.com"));
    assert_eq!(who.user.id, who.user_id);
}

#[tokio::test]
async fn a_limited_refresh_is_one_store_call_and_its_refusal_is_rate_limited() {
    let store = Arc::new(Spy::new(MemoryStore::new()));
    let mut config = AuthConfig::default();
    config.limits.refresh_per_ip = crate::RateLimit::new(1, time::Duration::minutes(1));
    let auth = service_over(store.clone(), config);
    let registration = Registration {
        login: "alice".into(),
        password: "Passw0rd!".into(),
        ..Default::default()
    };
    auth.register(registration, &ClientInfo::default())
        .await
        .unwrap();
    let client = ClientInfo {
        ip: Some("192.0.2.1".parse().unwrap()),
        ..ClientInfo::default()
    };
    let pair = auth
        .login("alice", "Passw0rd!", client.clone())
        .await
        .unwrap();
    store.take_calls();
    let next = auth.refresh(&pair.refresh_token, &client).await.unwrap();
    // The per-address reservation rides on the rotation: one call, one round trip.
    assert_eq!(store.take_calls(), ["refresh_session"]);
    let refused = auth
        .refresh(&next.refresh_token, &client)
        .await
        .unwrap_err();
    let AuthError::RateLimited { retry_after } = refused else {
        panic!("expected RateLimited, got {refused:?}");
    };
    assert!(retry_after > time::Duration::ZERO && retry_after <= time::Duration::minutes(1));
    // Nothing rotated: the token still works from another address.
    let elsewhere = ClientInfo {
        ip: Some("192.0.2.2".parse().unwrap()),
        ..ClientInfo::default()
    };
    auth.refresh(&next.refresh_token, &elsewhere).await.unwrap();
}
