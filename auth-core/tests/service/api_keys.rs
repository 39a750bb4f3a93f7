//! API keys: created with fresh proof, stored as a digest, roles narrowed to the
//! owner's, refused at once when revoked, expired or the owner is blocked, limited per
//! key atomically.

use super::*;

/// Alice, signed in and re-authenticated, holding `editor` and `viewer`.
async fn alice(f: &Fixture) -> Principal {
    let (user, pair) = f.user_and_login("alice").await;
    for role in ["editor", "viewer"] {
        f.auth
            .create_role(&f.admin().await, role, None)
            .await
            .unwrap();
        f.auth
            .grant_role(&f.admin().await, user.id, role)
            .await
            .unwrap();
    }
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    f.reauth(&who).await;
    who
}

fn new_key(name: &str, roles: &[&str]) -> NewApiKey {
    NewApiKey {
        name: name.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

fn refused(r: Result<Principal, AuthError>) -> bool {
    matches!(r, Err(AuthError::InvalidToken))
}

#[tokio::test]
async fn a_key_acts_as_its_owner_with_the_roles_it_was_given_that_the_owner_still_holds() {
    let f = fixture();
    let who = alice(&f).await;
    let created = f
        .auth
        .create_api_key(&who, new_key("deploy", &["editor", "editor"]))
        .await
        .unwrap();
    let key = created.key.expose();
    assert!(
        key.starts_with(API_KEY_PREFIX) && key.len() == 79,
        "{}",
        key.len()
    );
    assert_eq!(created.info.roles, vec![RoleName::parse("editor").unwrap()]);
    let p = f.auth.authenticate(key).await.unwrap();
    assert_eq!(p.user_id, who.user_id);
    assert_eq!(p.credential, Credential::ApiKey(created.info.id));
    assert_eq!(p.api_key_id(), Some(created.info.id));
    assert!(
        p.has_role("editor") && !p.has_role("viewer"),
        "narrowed to the key's"
    );
    let admin = f.admin().await;
    f.auth
        .revoke_role(&admin, who.user_id, "editor")
        .await
        .unwrap();
    let p = f.auth.authenticate(key).await.unwrap();
    assert!(!p.has_role("editor"), "the owner lost it, so the key did");
    // What only a signed-in person may do, a key may not.
    assert!(matches!(p.session_id(), Err(AuthError::SessionRequired)));
    assert!(matches!(
        f.auth.logout(&p, LogoutScope::Global).await,
        Err(AuthError::SessionRequired)
    ));
    assert!(matches!(
        f.auth.create_api_key(&p, new_key("more", &[])).await,
        Err(AuthError::SessionRequired)
    ));
    assert!(matches!(
        f.auth.change_password(&p, PASSWORD, "An0ther-pass!").await,
        Err(AuthError::SessionRequired)
    ));
    assert!(
        f.auth
            .authenticate(&f.login("alice").await.access_token)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn creating_a_key_needs_fresh_proof_a_held_role_and_a_free_name() {
    let f = fixture();
    let who = alice(&f).await;
    let pair = f.login("alice").await;
    let stale = f.auth.authenticate(&pair.access_token).await.unwrap();
    assert!(matches!(
        f.auth.create_api_key(&stale, new_key("deploy", &[])).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    let invalid = |r: Result<CreatedApiKey, AuthError>, field: &str| matches!(r, Err(AuthError::Validation(e)) if e.field == field);
    assert!(invalid(
        f.auth
            .create_api_key(&who, new_key("deploy", &["admin"]))
            .await,
        "roles"
    ));
    assert!(invalid(
        f.auth
            .create_api_key(&who, new_key("deploy", &["Not A Role"]))
            .await,
        "roles"
    ));
    assert!(invalid(
        f.auth.create_api_key(&who, new_key(" ", &[])).await,
        "name"
    ));
    assert!(invalid(
        f.auth
            .create_api_key(&who, new_key(&"n".repeat(65), &[]))
            .await,
        "name"
    ));
    let past = NewApiKey {
        expires_at: Some(f.clock.now()),
        ..new_key("deploy", &[])
    };
    assert!(invalid(
        f.auth.create_api_key(&who, past).await,
        "expires_at"
    ));
    let unlimited = NewApiKey {
        rate_limit: Some(0),
        ..new_key("deploy", &[])
    };
    assert!(invalid(
        f.auth.create_api_key(&who, unlimited).await,
        "rate_limit"
    ));
    assert!(
        f.auth.api_keys(who.user_id).await.unwrap().is_empty(),
        "nothing refused was kept"
    );
    f.auth
        .create_api_key(&who, new_key("deploy", &[]))
        .await
        .unwrap();
    assert!(matches!(
        f.auth.create_api_key(&who, new_key("deploy", &[])).await,
        Err(AuthError::ApiKeyExists)
    ));
}

#[tokio::test]
async fn the_secret_is_kept_only_as_a_digest_and_must_match_whole() {
    let f = fixture();
    let who = alice(&f).await;
    let created = f
        .auth
        .create_api_key(&who, new_key("deploy", &[]))
        .await
        .unwrap();
    let key = created.key.expose().to_owned();
    let secret = &key[API_KEY_PREFIX.len() + 33..];
    let raw = B64.decode(secret).unwrap();
    let stored = &f.store.api_keys(who.user_id).await.unwrap()[0];
    assert_eq!(stored.secret_hash.len(), 32);
    assert!(
        !stored
            .secret_hash
            .windows(8)
            .any(|w| raw.windows(8).any(|r| r == w))
    );
    assert!(
        !format!("{stored:?}{created:?}").contains(secret),
        "no secret in Debug"
    );
    // One character changed anywhere in the secret, or another key's id: refused.
    let mut tampered = key.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert!(refused(
        f.auth
            .authenticate(std::str::from_utf8(&tampered).unwrap())
            .await
    ));
    let other = f
        .auth
        .create_api_key(&who, new_key("other", &[]))
        .await
        .unwrap();
    let swapped = format!("ak_{}_{secret}", other.info.id.simple());
    assert!(refused(f.auth.authenticate(&swapped).await));
    assert!(refused(f.auth.authenticate("ak_").await));
    assert!(f.auth.authenticate(&key).await.is_ok());
}

#[tokio::test]
async fn revoked_expired_and_blocked_owners_keys_are_refused_at_once() {
    let f = fixture();
    let who = alice(&f).await;
    let short = NewApiKey {
        expires_at: Some(f.clock.now() + Duration::hours(1)),
        ..new_key("short", &[])
    };
    let short = f.auth.create_api_key(&who, short).await.unwrap();
    let revoked = f
        .auth
        .create_api_key(&who, new_key("revoked", &[]))
        .await
        .unwrap();
    let kept = f
        .auth
        .create_api_key(&who, new_key("kept", &[]))
        .await
        .unwrap();
    for k in [&short, &revoked, &kept] {
        f.auth.authenticate(k.key.expose()).await.unwrap();
    }
    f.auth
        .revoke_api_key(&who, who.user_id, revoked.info.id)
        .await
        .unwrap();
    assert!(refused(f.auth.authenticate(revoked.key.expose()).await));
    assert!(matches!(
        f.auth
            .revoke_api_key(&who, who.user_id, revoked.info.id)
            .await,
        Err(AuthError::NotFound(_))
    ));
    f.clock.advance(Duration::hours(1));
    assert!(refused(f.auth.authenticate(short.key.expose()).await));
    let admin = f.admin().await;
    f.auth.block_user(&admin, who.user_id).await.unwrap();
    assert!(refused(f.auth.authenticate(kept.key.expose()).await));
    f.auth
        .unblock_user(&f.admin().await, who.user_id)
        .await
        .unwrap();
    assert!(
        f.auth.authenticate(kept.key.expose()).await.is_ok(),
        "refused while blocked only"
    );
    f.auth.delete_user(&admin, who.user_id).await.unwrap();
    assert!(refused(f.auth.authenticate(kept.key.expose()).await));
}

#[tokio::test]
async fn fifty_parallel_uses_of_a_key_limited_to_ten_get_exactly_ten() {
    let f = fixture();
    let who = alice(&f).await;
    let limited = NewApiKey {
        rate_limit: Some(10),
        ..new_key("limited", &[])
    };
    let key = f.auth.create_api_key(&who, limited).await.unwrap().key;
    let uses = futures::future::join_all((0..50).map(|_| {
        let (auth, key) = (f.auth.clone(), key.clone());
        tokio::spawn(async move { auth.authenticate(key.expose()).await })
    }))
    .await;
    let (ok, limited): (Vec<_>, Vec<_>) = uses
        .into_iter()
        .map(|r| r.unwrap())
        .partition(Result::is_ok);
    assert_eq!(ok.len(), 10);
    assert!(limited.iter().all(|r| matches!(r, Err(AuthError::RateLimited { retry_after }) if *retry_after > Duration::ZERO)));
    f.clock.advance(Duration::minutes(1));
    assert!(
        f.auth.authenticate(key.expose()).await.is_ok(),
        "a new window"
    );
}

#[tokio::test]
async fn the_last_use_is_written_at_most_once_a_minute() {
    let f = fixture();
    let who = alice(&f).await;
    let key = f
        .auth
        .create_api_key(&who, new_key("deploy", &[]))
        .await
        .unwrap()
        .key;
    let last = || async { f.auth.api_keys(who.user_id).await.unwrap()[0].last_used_at };
    assert_eq!(last().await, None);
    let first = f.clock.now();
    f.auth.authenticate(key.expose()).await.unwrap();
    assert_eq!(last().await, Some(first));
    f.clock.advance(Duration::seconds(59));
    f.auth.authenticate(key.expose()).await.unwrap();
    assert_eq!(last().await, Some(first));
    f.clock.advance(Duration::seconds(1));
    f.auth.authenticate(key.expose()).await.unwrap();
    assert_eq!(last().await, Some(f.clock.now()));
}

#[tokio::test]
async fn an_administrator_creates_and_revokes_keys_for_a_user_with_fresh_proof() {
    let f = fixture();
    let who = alice(&f).await;
    let admin = f.admin().await;
    assert!(matches!(
        f.auth
            .create_api_key_for(&admin, who.user_id, new_key("ops", &["viewer"]))
            .await,
        Err(AuthError::ReauthenticationRequired)
    ));
    f.auth
        .reauthenticate(
            &admin,
            ReauthProof::Password("Adm1n-pass!".into()),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    assert!(
        matches!(
            f.auth.create_api_key_for(&admin, who.user_id, new_key("ops", &["admin"])).await,
            Err(AuthError::Validation(e)) if e.field == "roles"
        ),
        "the owner's roles count, not the administrator's"
    );
    assert!(matches!(
        f.auth
            .create_api_key_for(&admin, uuid::Uuid::now_v7(), new_key("ops", &[]))
            .await,
        Err(AuthError::NotFound(_))
    ));
    let created = f
        .auth
        .create_api_key_for(&admin, who.user_id, new_key("ops", &["viewer"]))
        .await
        .unwrap();
    let p = f.auth.authenticate(created.key.expose()).await.unwrap();
    assert_eq!(p.user_id, who.user_id);
    assert!(p.has_role("viewer"));
    let listed = f.auth.api_keys(who.user_id).await.unwrap();
    assert_eq!((listed.len(), listed[0].id), (1, created.info.id));
    f.auth
        .revoke_api_key(&who, who.user_id, created.info.id)
        .await
        .unwrap();
    assert!(refused(f.auth.authenticate(created.key.expose()).await));
}

#[tokio::test]
async fn a_keys_custom_claims_are_computed_from_the_roles_it_may_use() {
    let base = fixture();
    let auth = AuthService::new(
        base.store.clone(),
        base.keys.clone(),
        &RefreshSecret::from_bytes(&[42u8; 32]).unwrap(),
        AuthConfig::default(),
    )
    .unwrap()
    .with_clock(base.clock.clone())
    .with_custom_claims(|user, roles| {
        let mut c = CustomClaims::new();
        c.insert("user_copy".into(), user.to_string().into());
        c.insert("role_list".into(), roles.join(",").into());
        c.insert("sub".into(), "someone-else".into());
        c
    });
    let f = Fixture {
        auth: Arc::new(auth),
        ..base
    };
    let who = alice(&f).await;
    let key = f
        .auth
        .create_api_key(&who, new_key("deploy", &["viewer"]))
        .await
        .unwrap()
        .key;
    let p = f.auth.authenticate(key.expose()).await.unwrap();
    assert_eq!(p.custom["user_copy"], who.user_id.to_string());
    assert_eq!(
        p.custom["role_list"], "viewer",
        "the key's roles, not all of the owner's"
    );
    assert!(!p.custom.contains_key("sub"), "reserved names are dropped");
}
