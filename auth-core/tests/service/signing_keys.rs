//! Signing keys kept in the store: the schedule, "rotate now", revocation, and a
//! second instance following the first.

use super::*;

fn rotation() -> KeyRotation {
    KeyRotation {
        period: Duration::hours(1),
        jwks_max_age: Duration::minutes(5),
        grace: Duration::minutes(5),
        poll: Duration::seconds(10),
    }
}

fn rotating() -> Fixture {
    let config = AuthConfig {
        key_rotation: Some(rotation()),
        ..AuthConfig::default()
    };
    fixture_with(config, keys())
}

/// The audit events of `kind`, newest first.
async fn events(f: &Fixture, kind: AuditKind) -> Vec<AuditEvent> {
    let query = AuditQuery {
        kinds: vec![kind],
        ..Default::default()
    };
    f.auth.audit_events(query).await.unwrap()
}

/// Another instance over `f`'s store, with refresh secret `[secret; 32]`.
fn instance(f: &Fixture, secret: u8, rotation: KeyRotation) -> AuthService {
    let config = AuthConfig {
        key_rotation: Some(rotation),
        ..AuthConfig::default()
    };
    let secret = RefreshSecret::from_bytes(&[secret; 32]).unwrap();
    AuthService::new(f.store.clone(), keys(), &secret, config).unwrap()
}

/// The `kid` in an access token's header.
fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

fn published(auth: &AuthService) -> Vec<String> {
    auth.jwks().keys.into_iter().map(|k| k.kid).collect()
}

async fn stored(f: &Fixture, state: SigningKeyState) -> Vec<String> {
    let keys = f.store.signing_keys().await.unwrap().keys;
    keys.into_iter()
        .filter(|k| k.state == state)
        .map(|k| k.kid)
        .collect()
}

#[tokio::test]
async fn keys_are_published_before_they_sign_and_retired_after_the_last_token_expired() {
    let f = rotating();
    let configured = f.keys.signing_key().unwrap().kid().to_owned();
    f.auth.sync_signing_keys().await.unwrap();
    let first = stored(&f, SigningKeyState::Current).await;
    let next = stored(&f, SigningKeyState::Next).await;
    assert_eq!((first.len(), next.len()), (1, 1));
    let (_, pair) = f.user_and_login("alice").await;
    assert_eq!(
        kid_of(&pair.access_token),
        first[0],
        "the stored current key signs"
    );
    let jwks = published(&f.auth);
    for kid in [&first[0], &next[0], &configured] {
        assert!(jwks.contains(kid), "{kid} published");
    }

    // Before the period ends nothing changes.
    f.clock.advance(Duration::minutes(59));
    f.auth.sync_signing_keys().await.unwrap();
    assert_eq!(stored(&f, SigningKeyState::Current).await, first);
    let last_of_first = f.login("alice").await.access_token;

    // Then the published next key signs, and the old one only verifies.
    f.clock.advance(Duration::minutes(2));
    f.auth.sync_signing_keys().await.unwrap();
    assert_eq!(stored(&f, SigningKeyState::Current).await, next);
    assert_eq!(stored(&f, SigningKeyState::Retired).await, first);
    let third = stored(&f, SigningKeyState::Next).await;
    assert_eq!(third.len(), 1);
    assert!(
        published(&f.auth).contains(&third[0]),
        "the new next key is published at once"
    );
    assert_eq!(kid_of(&f.login("alice").await.access_token), next[0]);
    f.auth
        .authenticate(&last_of_first)
        .await
        .expect("a token of the retired key verifies");

    // The retired key leaves after the token lifetime (15 minutes) plus the grace (5).
    f.clock.advance(Duration::minutes(19));
    f.auth.sync_signing_keys().await.unwrap();
    assert!(published(&f.auth).contains(&first[0]));
    f.clock.advance(Duration::minutes(2));
    f.auth.sync_signing_keys().await.unwrap();
    assert!(!published(&f.auth).contains(&first[0]));
    assert_eq!(
        stored(&f, SigningKeyState::Retired).await,
        Vec::<String>::new()
    );

    let log = events(&f, AuditKind::SigningKeyRotated).await;
    assert_eq!(log.len(), 2, "the first key and the rotation");
    assert!(
        log.iter()
            .all(|e| e.actor == Actor::System && e.target.is_none())
    );
    assert_eq!(log[0].detail.as_deref(), Some(next[0].as_str()));
}

#[tokio::test]
async fn a_key_not_published_long_enough_waits_even_when_the_period_is_shorter() {
    let config = AuthConfig {
        key_rotation: Some(KeyRotation {
            period: Duration::minutes(1),
            ..rotation()
        }),
        ..AuthConfig::default()
    };
    let f = fixture_with(config, keys());
    f.auth.sync_signing_keys().await.unwrap();
    let first = stored(&f, SigningKeyState::Current).await;
    f.clock.advance(Duration::minutes(5));
    f.auth.sync_signing_keys().await.unwrap();
    assert_eq!(
        stored(&f, SigningKeyState::Current).await,
        first,
        "published 5 min, cached up to 5 min + a poll"
    );
    f.clock.advance(Duration::seconds(10));
    f.auth.sync_signing_keys().await.unwrap();
    assert_ne!(stored(&f, SigningKeyState::Current).await, first);
}

#[tokio::test]
async fn twenty_concurrent_rotations_rotate_once_and_leave_one_current_key() {
    let f = rotating();
    f.auth.sync_signing_keys().await.unwrap();
    let first = stored(&f, SigningKeyState::Current).await;
    let next = stored(&f, SigningKeyState::Next).await;
    let admin = f.admin().await;
    f.clock.advance(Duration::seconds(10));
    let calls = futures::future::join_all((0..20).map(|_| {
        let (auth, admin) = (f.auth.clone(), admin.clone());
        tokio::spawn(async move { auth.rotate_signing_key(&admin).await })
    }))
    .await;
    for call in calls {
        let keys = call.unwrap().unwrap();
        assert_eq!(keys.iter().filter(|k| k.state == "current").count(), 1);
    }
    assert_eq!(
        stored(&f, SigningKeyState::Current).await,
        next,
        "the published next key"
    );
    assert_eq!(
        stored(&f, SigningKeyState::Retired).await,
        first,
        "one rotation"
    );
    assert_eq!(
        kid_of(&f.user_and_login("alice").await.1.access_token),
        next[0]
    );
    let log = events(&f, AuditKind::SigningKeyRotated).await;
    assert_eq!(log[0].actor, Actor::User(admin.user_id));
    assert_eq!(log.len(), 2, "the first key and one rotation");
    // A poll later, every instance has the next key: the next call rotates.
    f.clock.advance(Duration::seconds(10));
    f.auth.rotate_signing_key(&admin).await.unwrap();
    assert_eq!(stored(&f, SigningKeyState::Retired).await.len(), 2);
}

#[tokio::test]
async fn a_revoked_key_leaves_the_jwks_and_its_tokens_are_refused_at_once() {
    let f = rotating();
    f.auth.sync_signing_keys().await.unwrap();
    let first = stored(&f, SigningKeyState::Current).await;
    let next = stored(&f, SigningKeyState::Next).await;
    let (_, pair) = f.user_and_login("alice").await;
    f.auth
        .authenticate(&pair.access_token)
        .await
        .expect("valid before");
    let admin = f.admin().await;
    assert!(matches!(
        f.auth.revoke_signing_key(&admin, "no-such-kid").await,
        Err(AuthError::NotFound(_))
    ));
    f.auth.revoke_signing_key(&admin, &first[0]).await.unwrap();
    assert!(
        matches!(
            f.auth.authenticate(&pair.access_token).await,
            Err(AuthError::InvalidToken)
        ),
        "refused, though verified before"
    );
    assert!(!published(&f.auth).contains(&first[0]));
    assert_eq!(
        stored(&f, SigningKeyState::Current).await,
        next,
        "the next key took over"
    );
    assert_eq!(stored(&f, SigningKeyState::Next).await.len(), 1);
    assert_eq!(kid_of(&f.login("alice").await.access_token), next[0]);
    let log = events(&f, AuditKind::SigningKeyRevoked).await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].actor, log[0].detail.as_deref()),
        (Actor::User(admin.user_id), Some(first[0].as_str()))
    );
}

#[tokio::test]
async fn another_instance_follows_the_store_at_its_next_step() {
    let f = rotating();
    let other = Arc::new(instance(&f, 42, rotation()).with_clock(f.clock.clone()));
    f.auth.sync_signing_keys().await.unwrap();
    other.sync_signing_keys().await.unwrap();
    let (_, pair) = f.user_and_login("alice").await;
    other
        .authenticate(&pair.access_token)
        .await
        .expect("the other instance verifies");
    let admin = f.admin().await;
    f.clock.advance(Duration::seconds(10));
    let rotated = f.auth.rotate_signing_key(&admin).await.unwrap();
    let current = rotated
        .iter()
        .find(|k| k.state == "current")
        .unwrap()
        .kid
        .clone();
    other.sync_signing_keys().await.unwrap();
    let pair2 = other
        .login("alice", PASSWORD, ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(
        kid_of(&pair2.access_token),
        current,
        "both sign with one key"
    );
    f.auth.authenticate(&pair2.access_token).await.unwrap();
    f.auth.revoke_signing_key(&admin, &current).await.unwrap();
    other
        .authenticate(&pair2.access_token)
        .await
        .expect("until the other instance's step");
    other.sync_signing_keys().await.unwrap();
    assert!(matches!(
        other.authenticate(&pair2.access_token).await,
        Err(AuthError::InvalidToken)
    ));
}

#[tokio::test]
async fn private_keys_are_sealed_under_the_service_secret() {
    let f = rotating();
    f.auth.sync_signing_keys().await.unwrap();
    let first = stored(&f, SigningKeyState::Current).await;
    let key = &f.store.signing_keys().await.unwrap().keys[0];
    assert!(format!("{key:?}").contains("[redacted]"));
    // An instance with another secret cannot open them: it makes keys of its own
    // rather than fail to sign.
    let stranger = instance(&f, 7, rotation());
    stranger.sync_signing_keys().await.unwrap();
    assert_ne!(stored(&f, SigningKeyState::Current).await, first);
}

#[tokio::test]
async fn without_a_rotation_the_configured_keys_sign_and_key_calls_say_so() {
    let f = fixture();
    let admin = f.admin().await;
    assert!(matches!(
        f.auth.sync_signing_keys().await,
        Err(AuthError::KeyRotationOff)
    ));
    assert!(matches!(
        f.auth.rotate_signing_key(&admin).await,
        Err(AuthError::KeyRotationOff)
    ));
    assert!(matches!(
        f.auth.signing_keys().await,
        Err(AuthError::KeyRotationOff)
    ));
    assert_eq!(AuthError::KeyRotationOff.status(), 409);
    assert!(f.auth.spawn_key_rotation().is_none());
    assert_eq!(
        f.store.signing_keys().await.unwrap(),
        SigningKeys::default()
    );
    let (_, pair) = f.user_and_login("alice").await;
    assert_eq!(
        kid_of(&pair.access_token),
        f.keys.signing_key().unwrap().kid()
    );
}

#[tokio::test]
async fn another_instance_follows_a_revocation_at_once_through_the_stores_notices() {
    let f = rotating();
    let hourly = KeyRotation {
        poll: Duration::hours(1),
        ..rotation()
    };
    let other = Arc::new(instance(&f, 42, hourly).with_clock(f.clock.clone()));
    f.auth.sync_signing_keys().await.unwrap();
    other.sync_signing_keys().await.unwrap();
    let task = other.spawn_key_rotation().expect("a rotation");
    let (_, pair) = f.user_and_login("alice").await;
    other.authenticate(&pair.access_token).await.unwrap();
    let admin = f.admin().await;
    f.auth
        .revoke_signing_key(&admin, &kid_of(&pair.access_token))
        .await
        .unwrap();
    // Its poll is an hour away: only the store's notice explains a refusal now.
    let start = std::time::Instant::now();
    while other.authenticate(&pair.access_token).await.is_ok() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the other instance never followed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    task.abort();
}
