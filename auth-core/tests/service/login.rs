use super::*;

#[tokio::test]
async fn unknown_login_and_wrong_password_give_the_same_error() {
    let f = fixture();
    f.auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    for (login, password) in [("bob", PASSWORD), ("alice", "Wrong0rd!"), ("b a d", "x")] {
        assert!(matches!(
            f.auth.login(login, password, ClientInfo::default()).await,
            Err(AuthError::InvalidCredentials)
        ));
    }
}

#[tokio::test]
async fn login_is_case_insensitive_and_issues_a_valid_pair() {
    let f = fixture();
    let user = f
        .auth
        .register(registration("Alice"), &ClientInfo::default())
        .await
        .unwrap();
    let pair = f
        .auth
        .login("aLiCe", PASSWORD, ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(pair.token_type, "Bearer");
    assert_eq!(pair.expires_in, 900);
    assert_eq!(pair.refresh_expires_in, 7 * 24 * 3600);
    let claims = f.auth.verify(&pair.access_token).unwrap();
    assert_eq!(claims.sub, user.id);
    assert_eq!(claims.iss, "https://issuer.test");
    assert_eq!(claims.aud, "api.test");
    assert_eq!(claims.exp - claims.iat, 900);
}

#[tokio::test]
async fn history_records_successes_and_failures_with_client_info() {
    let f = fixture();
    let user = f
        .auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    let client = ClientInfo {
        ip: Some("203.0.113.9".parse().unwrap()),
        user_agent: Some("x".repeat(600)),
    };
    f.auth
        .login("alice", "Wrong0rd!", client.clone())
        .await
        .unwrap_err();
    f.clock.advance(Duration::seconds(1));
    f.auth.login("alice", PASSWORD, client).await.unwrap();
    let history = f.auth.login_history(user.id, 10, None).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[0].success && !history[1].success);
    assert_eq!(history[0].ip, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(history[0].user_agent.as_ref().unwrap().len(), 512);
}

#[tokio::test]
async fn a_blocked_user_cannot_log_in_but_is_told_only_with_the_right_password() {
    let f = fixture();
    let user = f
        .auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    f.auth.block_user(&f.admin().await, user.id).await.unwrap();
    assert!(matches!(
        f.auth
            .login("alice", "Wrong0rd!", ClientInfo::default())
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    assert!(matches!(
        f.auth.login("alice", PASSWORD, ClientInfo::default()).await,
        Err(AuthError::Blocked)
    ));
    f.auth
        .unblock_user(&f.admin().await, user.id)
        .await
        .unwrap();
    f.login("alice").await;
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_replaced_at_login() {
    let f = fixture();
    let user = f
        .auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    let weak = PasswordHasher::new(Argon2Params {
        m_cost: 1024,
        t_cost: 1,
        p_cost: 1,
    })
    .unwrap()
    .hash(&Password::unchecked(PASSWORD))
    .await
    .unwrap();
    f.store
        .set_password_hash(user.id, &weak, None, None)
        .await
        .unwrap();
    f.login("alice").await;
    let now = f.store.password_hash(user.id).await.unwrap().unwrap();
    assert!(now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{now}");
    f.login("alice").await;
}

#[tokio::test]
async fn an_overlong_password_is_refused_without_hashing_and_counts_as_a_failure() {
    let f = fixture();
    let (_, pair) = f.user_and_login("alice").await;
    let long = "A1!".repeat(50_000);
    for _ in 0..5 {
        assert!(matches!(
            f.auth.login("alice", &long, ClientInfo::default()).await,
            Err(AuthError::InvalidCredentials)
        ));
    }
    // The failures counted: the right password is throttled now.
    assert!(matches!(
        f.auth.login("alice", PASSWORD, ClientInfo::default()).await,
        Err(AuthError::Throttled { .. })
    ));
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    assert!(matches!(
        f.auth.change_password(&who, &long, "N3w-passw0rd!").await,
        Err(AuthError::WrongPassword)
    ));
}
