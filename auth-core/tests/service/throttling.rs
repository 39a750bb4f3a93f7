use super::*;

fn from(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.parse().unwrap()),
        user_agent: None,
    }
}

#[tokio::test]
async fn five_failures_lock_the_login_even_for_the_right_password() {
    let f = fixture();
    f.auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    for i in 0..5 {
        // A different address each time: this is the per-login limit.
        let r = f
            .auth
            .login("alice", "Wr0ng-pass", from(&format!("192.0.2.{i}")))
            .await;
        assert!(matches!(r, Err(AuthError::InvalidCredentials)), "{r:?}");
    }
    let r = f.auth.login("ALICE", PASSWORD, from("192.0.2.99")).await;
    let Err(AuthError::Throttled { retry_after }) = r else {
        panic!("expected Throttled, got {r:?}");
    };
    assert_eq!(retry_after.whole_seconds(), 30);
    f.clock.advance(Duration::seconds(29));
    assert!(matches!(
        f.auth.login("alice", PASSWORD, from("192.0.2.99")).await,
        Err(AuthError::Throttled { .. })
    ));
    f.clock.advance(Duration::seconds(1));
    f.auth
        .login("alice", PASSWORD, from("192.0.2.99"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_delay_grows_with_each_failure_past_the_limit() {
    let f = fixture();
    f.auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    for _ in 0..5 {
        f.auth
            .login("alice", "Wr0ng-pass", ClientInfo::default())
            .await
            .unwrap_err();
    }
    f.clock.advance(Duration::seconds(30));
    f.auth
        .login("alice", "Wr0ng-pass", ClientInfo::default())
        .await
        .unwrap_err();
    let Err(AuthError::Throttled { retry_after }) =
        f.auth.login("alice", PASSWORD, ClientInfo::default()).await
    else {
        panic!("expected Throttled");
    };
    assert_eq!(retry_after.whole_seconds(), 60);
}

#[tokio::test]
async fn a_success_resets_the_logins_count() {
    let f = fixture();
    f.auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    for _ in 0..4 {
        f.auth
            .login("alice", "Wr0ng-pass", ClientInfo::default())
            .await
            .unwrap_err();
    }
    f.login("alice").await;
    for _ in 0..4 {
        f.auth
            .login("alice", "Wr0ng-pass", ClientInfo::default())
            .await
            .unwrap_err();
    }
    f.login("alice").await;
}

#[tokio::test]
async fn one_address_failing_on_many_logins_is_throttled_alone() {
    let f = fixture();
    f.auth
        .register(registration("victim"), &ClientInfo::default())
        .await
        .unwrap();
    for i in 0..20 {
        let r = f
            .auth
            .login(&format!("user{i}"), "Wr0ng-pass", from("198.51.100.7"))
            .await;
        assert!(matches!(r, Err(AuthError::InvalidCredentials)));
    }
    assert!(matches!(
        f.auth.login("victim", PASSWORD, from("198.51.100.7")).await,
        Err(AuthError::Throttled { .. })
    ));
    f.auth
        .login("victim", PASSWORD, from("198.51.100.8"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_window_forgets_old_failures() {
    let f = fixture();
    f.auth
        .register(registration("alice"), &ClientInfo::default())
        .await
        .unwrap();
    for _ in 0..4 {
        f.auth
            .login("alice", "Wr0ng-pass", ClientInfo::default())
            .await
            .unwrap_err();
    }
    f.clock.advance(Duration::minutes(15));
    for _ in 0..4 {
        f.auth
            .login("alice", "Wr0ng-pass", ClientInfo::default())
            .await
            .unwrap_err();
    }
    f.login("alice").await;
}

#[tokio::test]
async fn wrong_verification_codes_throttle_the_address() {
    let f = fixture_with(
        AuthConfig {
            throttle: ThrottlePolicy {
                max_failures_per_ip: 3,
                ..Default::default()
            },
            ..Default::default()
        },
        keys(),
    );
    for n in ["alice", "bob"] {
        f.auth
            .register(
                Registration {
                    email: Some(format!("{n}@example.com")),
                    ..registration(n)
                },
                &ClientInfo::default(),
            )
            .await
            .unwrap();
    }
    for login in ["alice", "alice", "bob"] {
        assert!(matches!(
            f.auth
                .verify_email(login, "000000x", &from("192.0.2.1"))
                .await,
            Err(AuthError::InvalidVerificationCode)
        ));
    }
    let code = f.mailer.last_code_for("bob@example.com").unwrap();
    assert!(matches!(
        f.auth.verify_email("bob", &code, &from("192.0.2.1")).await,
        Err(AuthError::Throttled { .. })
    ));
    f.auth
        .verify_email("bob", &code, &from("192.0.2.2"))
        .await
        .unwrap();
}
