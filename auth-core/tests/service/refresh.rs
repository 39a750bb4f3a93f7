use super::*;

#[tokio::test]
async fn refresh_rotates_and_the_new_token_works() {
    let f = fixture();
    let (user, p0) = f.user_and_login("alice").await;
    f.clock.advance(Duration::seconds(30));
    let p1 = f
        .auth
        .refresh(&p0.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    assert_ne!(p1.refresh_token, p0.refresh_token);
    assert_eq!(
        f.auth.authenticate(&p1.access_token).await.unwrap().user_id,
        user.id
    );
    f.clock.advance(Duration::seconds(30));
    let p2 = f
        .auth
        .refresh(&p1.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    assert_ne!(p2.refresh_token, p1.refresh_token);
}

#[tokio::test]
async fn a_retry_inside_the_grace_window_gets_the_same_refresh_token() {
    let f = fixture();
    let (_, p0) = f.user_and_login("alice").await;
    let first = f
        .auth
        .refresh(&p0.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(10));
    let retry = f
        .auth
        .refresh(&p0.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(retry.refresh_token, first.refresh_token);
    // The chain goes on from the shared token.
    f.auth
        .refresh(&retry.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn reuse_after_the_window_revokes_every_session_and_it_sticks() {
    let f = fixture();
    let (_, p0) = f.user_and_login("alice").await;
    let laptop = f.login("alice").await;
    let p1 = f
        .auth
        .refresh(&p0.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(11));
    assert!(matches!(
        f.auth
            .refresh(&p0.refresh_token, &ClientInfo::default())
            .await,
        Err(AuthError::RefreshTokenReused)
    ));
    // Committed although the call failed: every token of the user is dead now.
    for t in [&p1.refresh_token, &laptop.refresh_token] {
        assert!(matches!(
            f.auth.refresh(t, &ClientInfo::default()).await,
            Err(AuthError::InvalidRefreshToken)
        ));
    }
    for t in [&p1.access_token, &laptop.access_token] {
        assert!(matches!(
            f.auth.authenticate(t).await,
            Err(AuthError::InvalidToken)
        ));
    }
}

#[tokio::test]
async fn reuse_with_the_session_policy_spares_other_devices() {
    let f = fixture_with(
        AuthConfig {
            reuse_policy: ReusePolicy::RevokeSession,
            ..Default::default()
        },
        keys(),
    );
    let (_, p0) = f.user_and_login("alice").await;
    let laptop = f.login("alice").await;
    let p1 = f
        .auth
        .refresh(&p0.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(11));
    assert!(matches!(
        f.auth
            .refresh(&p0.refresh_token, &ClientInfo::default())
            .await,
        Err(AuthError::RefreshTokenReused)
    ));
    assert!(matches!(
        f.auth
            .refresh(&p1.refresh_token, &ClientInfo::default())
            .await,
        Err(AuthError::InvalidRefreshToken)
    ));
    assert!(f.auth.authenticate(&p1.access_token).await.is_err());
    f.auth.authenticate(&laptop.access_token).await.unwrap();
    f.auth
        .refresh(&laptop.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_hundred_concurrent_refreshes_rotate_exactly_once() {
    let f = fixture();
    let (_, p0) = f.user_and_login("alice").await;
    let results = futures::future::join_all((0..100).map(|_| {
        let auth = f.auth.clone();
        let token = p0.refresh_token.clone();
        tokio::spawn(async move { auth.refresh(&token, &ClientInfo::default()).await })
    }))
    .await;
    let tokens: std::collections::HashSet<String> = results
        .into_iter()
        .map(|r| r.unwrap().unwrap().refresh_token)
        .collect();
    assert_eq!(tokens.len(), 1, "every caller got the one rotated token");
    let sessions = f
        .auth
        .sessions(f.auth.verify(&p0.access_token).unwrap().sub, None, 100, 0)
        .await
        .unwrap();
    let session = f.store.session(sessions[0].id).await.unwrap().unwrap();
    assert_eq!(session.counter, 1);
}

#[tokio::test]
async fn sessions_expire_after_idle_and_absolute_lifetimes() {
    let f = fixture();
    let (_, p0) = f.user_and_login("alice").await;
    f.clock.advance(Duration::days(7));
    assert!(matches!(
        f.auth
            .refresh(&p0.refresh_token, &ClientInfo::default())
            .await,
        Err(AuthError::InvalidRefreshToken)
    ));

    let mut p = f.login("alice").await;
    for _ in 0..4 {
        f.clock.advance(Duration::days(6));
        p = f
            .auth
            .refresh(&p.refresh_token, &ClientInfo::default())
            .await
            .unwrap();
    }
    // 24 of 30 days used: the absolute limit, not the idle one, bounds the token.
    assert_eq!(p.refresh_expires_in, 6 * 24 * 3600);
    f.clock.advance(Duration::days(6));
    assert!(matches!(
        f.auth
            .refresh(&p.refresh_token, &ClientInfo::default())
            .await,
        Err(AuthError::InvalidRefreshToken)
    ));
}

#[tokio::test]
async fn a_blocked_user_cannot_refresh() {
    let f = fixture();
    let (user, p0) = f.user_and_login("alice").await;
    f.auth.block_user(&f.admin().await, user.id).await.unwrap();
    assert!(matches!(
        f.auth
            .refresh(&p0.refresh_token, &ClientInfo::default())
            .await,
        Err(AuthError::InvalidRefreshToken)
    ));
}

#[tokio::test]
async fn purge_deletes_dead_sessions() {
    let f = fixture();
    let (_, p0) = f.user_and_login("alice").await;
    let keep = f.login("alice").await;
    let who = f.auth.authenticate(&p0.access_token).await.unwrap();
    f.auth.logout(&who, LogoutScope::Local).await.unwrap();
    assert_eq!(f.auth.purge_expired().await.unwrap(), 1);
    f.auth
        .refresh(&keep.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    f.clock.advance(Duration::days(8));
    assert_eq!(f.auth.purge_expired().await.unwrap(), 1);
}

#[tokio::test]
async fn the_purger_purges_on_its_own_until_aborted() {
    let f = fixture();
    let (_, p0) = f.user_and_login("alice").await;
    let who = f.auth.authenticate(&p0.access_token).await.unwrap();
    f.auth.logout(&who, LogoutScope::Local).await.unwrap();
    let purger = f.auth.spawn_purger(std::time::Duration::from_millis(5));
    // The logged-out session goes without anyone calling purge_expired.
    let start = std::time::Instant::now();
    while f
        .store
        .session(who.session_id().unwrap())
        .await
        .unwrap()
        .is_some()
    {
        assert!(start.elapsed().as_secs() < 10, "the purger never ran");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    purger.abort();
    assert!(purger.await.unwrap_err().is_cancelled());
    // Aborted: a dead session stays until purged by hand.
    let (_, p1) = f.user_and_login("bob").await;
    let bob = f.auth.authenticate(&p1.access_token).await.unwrap();
    f.auth.logout(&bob, LogoutScope::Local).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    assert_eq!(f.auth.purge_expired().await.unwrap(), 1);
}
