use super::*;

async fn alice_with_email(f: &Fixture) -> (User, TokenPair) {
    let user = f
        .auth
        .register(
            Registration {
                login: "alice".into(),
                password: PASSWORD.into(),
                email: Some("alice@example.com".into()),
                ..Default::default()
            },
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    let code = f.mailer.last_code_for("alice@example.com").unwrap();
    f.auth
        .verify_email("alice", &code, &ClientInfo::default())
        .await
        .unwrap();
    (user, f.login("alice").await)
}

#[tokio::test]
async fn a_reset_sets_the_password_revokes_sessions_and_is_single_use() {
    let f = fixture();
    let (user, pair) = alice_with_email(&f).await;
    f.auth
        .request_password_reset("Alice@Example.com", &ClientInfo::default())
        .await
        .unwrap();
    let token = f.mailed_reset_token("alice@example.com", None).await;
    assert_eq!(token.len(), 43);
    assert_eq!(
        f.auth
            .confirm_password_reset(&token, "N3w-passw0rd", &ClientInfo::default())
            .await
            .unwrap(),
        user.id
    );
    assert!(matches!(
        f.auth.authenticate(&pair.access_token).await,
        Err(AuthError::InvalidToken)
    ));
    assert!(
        f.auth
            .refresh(&pair.refresh_token, &ClientInfo::default())
            .await
            .is_err()
    );
    assert!(matches!(
        f.auth.login("alice", PASSWORD, ClientInfo::default()).await,
        Err(AuthError::InvalidCredentials)
    ));
    f.auth
        .login("alice", "N3w-passw0rd", ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .confirm_password_reset(&token, "An0ther-pass", &ClientInfo::default())
            .await,
        Err(AuthError::InvalidResetToken)
    ));
}

#[tokio::test]
async fn an_unknown_address_answers_the_same_and_mails_nothing() {
    let f = fixture();
    alice_with_email(&f).await;
    f.auth
        .request_password_reset("nobody@example.com", &ClientInfo::default())
        .await
        .unwrap();
    f.auth
        .request_password_reset("alice@example.com", &ClientInfo::default())
        .await
        .unwrap();
    f.mailed_reset_token("alice@example.com", None).await;
    let resets: Vec<_> = f
        .mailer
        .sent()
        .into_iter()
        .filter(|m| matches!(m.kind, MailKind::PasswordReset { .. }))
        .map(|m| m.to)
        .collect();
    assert_eq!(resets, ["alice@example.com"]);
    assert!(matches!(
        f.auth
            .request_password_reset("not an address", &ClientInfo::default())
            .await,
        Err(AuthError::Validation(_))
    ));
}

#[tokio::test]
async fn a_token_expires_and_a_new_request_replaces_the_old_one() {
    let f = fixture();
    alice_with_email(&f).await;
    let client = ClientInfo::default();
    let ask = || f.auth.request_password_reset("alice@example.com", &client);
    ask().await.unwrap();
    let first = f.mailed_reset_token("alice@example.com", None).await;
    ask().await.unwrap();
    let second = f
        .mailed_reset_token("alice@example.com", Some(&first))
        .await;
    assert!(matches!(
        f.auth
            .confirm_password_reset(&first, "N3w-passw0rd", &ClientInfo::default())
            .await,
        Err(AuthError::InvalidResetToken)
    ));
    // A password breaking the rules leaves the token usable.
    assert!(matches!(
        f.auth
            .confirm_password_reset(&second, "short", &ClientInfo::default())
            .await,
        Err(AuthError::Validation(_))
    ));
    f.clock.advance(Duration::minutes(30));
    assert!(matches!(
        f.auth
            .confirm_password_reset(&second, "N3w-passw0rd", &ClientInfo::default())
            .await,
        Err(AuthError::InvalidResetToken)
    ));
    assert!(matches!(
        f.auth
            .confirm_password_reset("garbage", "N3w-passw0rd", &ClientInfo::default())
            .await,
        Err(AuthError::InvalidResetToken)
    ));
}

#[tokio::test]
async fn requests_are_limited_per_address_known_or_not() {
    let f = fixture();
    alice_with_email(&f).await;
    for email in ["alice@example.com", "nobody@example.com"] {
        for _ in 0..3 {
            f.auth
                .request_password_reset(email, &ClientInfo::default())
                .await
                .unwrap();
        }
        assert!(matches!(
            f.auth
                .request_password_reset(email, &ClientInfo::default())
                .await,
            Err(AuthError::RateLimited { .. })
        ));
    }
}
