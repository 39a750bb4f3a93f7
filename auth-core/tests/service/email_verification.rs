use super::*;

fn verifying() -> Fixture {
    fixture_with(
        AuthConfig {
            require_email_verification: true,
            ..Default::default()
        },
        keys(),
    )
}

async fn register(f: &Fixture) -> String {
    f.auth
        .register(
            Registration {
                email: Some("alice@example.com".into()),
                ..registration("alice")
            },
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    f.mailer.last_code_for("alice@example.com").unwrap()
}

#[tokio::test]
async fn login_waits_for_the_code_then_succeeds() {
    let f = verifying();
    let code = register(&f).await;
    assert_eq!(code.len(), 6);
    assert!(matches!(
        f.auth.login("alice", PASSWORD, ClientInfo::default()).await,
        Err(AuthError::EmailNotVerified)
    ));
    f.auth
        .verify_email("alice", &code, &ClientInfo::default())
        .await
        .unwrap();
    assert!(f.login("alice").await.access_token.len() > 20);
}

#[tokio::test]
async fn wrong_codes_count_towards_the_limit() {
    let f = verifying();
    let code = register(&f).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert!(matches!(
            f.auth
                .verify_email("alice", wrong, &ClientInfo::default())
                .await,
            Err(AuthError::InvalidVerificationCode)
        ));
    }
    // The budget is used up: even the right code is refused now...
    assert!(matches!(
        f.auth
            .verify_email("alice", &code, &ClientInfo::default())
            .await,
        Err(AuthError::TooManyAttempts { .. })
    ));
    // ...and a new code does not restore it.
    f.auth
        .resend_verification("alice", &ClientInfo::default())
        .await
        .unwrap();
    let fresh = f.mailer.last_code_for("alice@example.com").unwrap();
    let Err(AuthError::TooManyAttempts { retry_after }) = f
        .auth
        .verify_email("alice", &fresh, &ClientInfo::default())
        .await
    else {
        panic!("a new code reset the budget");
    };
    assert_eq!(retry_after.whole_seconds(), 30);
    f.clock.advance(Duration::seconds(30));
    f.auth
        .verify_email("alice", &fresh, &ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_verified_login_answers_like_a_wrong_code() {
    let f = verifying();
    let code = register(&f).await;
    f.auth
        .verify_email("alice", &code, &ClientInfo::default())
        .await
        .unwrap();
    for any in [code.as_str(), "000000", "nonsense"] {
        assert!(matches!(
            f.auth
                .verify_email("alice", any, &ClientInfo::default())
                .await,
            Err(AuthError::InvalidVerificationCode)
        ));
    }
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let f = verifying();
    let code = register(&f).await;
    f.clock.advance(Duration::minutes(15));
    assert!(matches!(
        f.auth
            .verify_email("alice", &code, &ClientInfo::default())
            .await,
        Err(AuthError::InvalidVerificationCode)
    ));
}

#[tokio::test]
async fn unknown_logins_and_malformed_codes_are_refused() {
    let f = verifying();
    register(&f).await;
    for (login, code) in [("bob", "123456"), ("alice", "12345"), ("alice", "abcdef")] {
        assert!(matches!(
            f.auth
                .verify_email(login, code, &ClientInfo::default())
                .await,
            Err(AuthError::InvalidVerificationCode)
        ));
    }
}
