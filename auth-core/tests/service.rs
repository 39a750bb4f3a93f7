//! Service behaviour over the in-memory store, with a manual clock.

use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use time::Duration;

const PASSWORD: &str = "Passw0rd!";

struct Fixture {
    auth: Arc<AuthService>,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    mailer: Arc<MemoryMailer>,
    keys: KeySet,
}

fn keys() -> KeySet {
    KeySet::new(
        Key::generate_ed25519().unwrap(),
        [],
        "https://issuer.test",
        "api.test",
        0,
    )
    .unwrap()
}

fn fixture_with(config: AuthConfig, keys: KeySet) -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::starting_now());
    let mailer = Arc::new(MemoryMailer::new());
    let auth = AuthService::new(
        store.clone(),
        keys.clone(),
        &RefreshSecret::from_bytes(&[42u8; 32]).unwrap(),
        config,
    )
    .unwrap()
    .with_clock(clock.clone())
    .with_mailer(mailer.clone());
    Fixture {
        auth: Arc::new(auth),
        store,
        clock,
        mailer,
        keys,
    }
}

fn fixture() -> Fixture {
    fixture_with(AuthConfig::default(), keys())
}

fn registration(login: &str) -> Registration {
    Registration {
        login: login.into(),
        password: PASSWORD.into(),
        ..Default::default()
    }
}

impl Fixture {
    async fn user_and_login(&self, login: &str) -> (User, TokenPair) {
        let user = self
            .auth
            .register(registration(login), &ClientInfo::default())
            .await
            .unwrap();
        let pair = self
            .auth
            .login(login, PASSWORD, ClientInfo::default())
            .await
            .unwrap();
        (user, pair)
    }

    async fn store_user_id(&self, login: &str) -> uuid::Uuid {
        self.store
            .credentials_by_login(login)
            .await
            .unwrap()
            .unwrap()
            .user
            .id
    }

    async fn login(&self, login: &str) -> TokenPair {
        self.auth
            .login(login, PASSWORD, ClientInfo::default())
            .await
            .unwrap()
    }
}

mod registration {
    use super::*;

    #[tokio::test]
    async fn each_invalid_field_is_rejected_with_the_rule_named() {
        let f = fixture();
        let cases = [
            (
                Registration {
                    login: "a".into(),
                    ..registration("x")
                },
                "login",
                "2 to 64",
            ),
            (
                Registration {
                    login: "bad login".into(),
                    ..registration("x")
                },
                "login",
                "Latin letters and digits",
            ),
            (
                Registration {
                    password: "short1!".into(),
                    ..registration("alice")
                },
                "password",
                "8 to 128",
            ),
            (
                Registration {
                    password: "password1!".into(),
                    ..registration("alice")
                },
                "password",
                "uppercase",
            ),
            (
                Registration {
                    email: Some("not-an-email".into()),
                    ..registration("alice")
                },
                "email",
                "valid email",
            ),
            (
                Registration {
                    first_name: Some("J".into()),
                    ..registration("alice")
                },
                "first_name",
                "2 to 32",
            ),
            (
                Registration {
                    last_name: Some("--".into()),
                    ..registration("alice")
                },
                "last_name",
                "at least one letter",
            ),
        ];
        for (reg, field, rule) in cases {
            match f.auth.register(reg, &ClientInfo::default()).await {
                Err(AuthError::Validation(e)) => {
                    assert_eq!(e.field, field);
                    assert!(e.message.contains(rule), "{}", e.message);
                }
                other => panic!("expected validation error, got {other:?}"),
            }
        }
        assert!(f.auth.list_users(None, 10, 0).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn duplicate_login_and_email_conflict() {
        let f = fixture();
        f.auth
            .register(
                Registration {
                    email: Some("Alice@Example.com".into()),
                    ..registration("alice")
                },
                &ClientInfo::default(),
            )
            .await
            .unwrap();
        assert!(matches!(
            f.auth
                .register(registration("Alice"), &ClientInfo::default())
                .await,
            Err(AuthError::LoginTaken)
        ));
        assert!(matches!(
            f.auth
                .register(
                    Registration {
                        email: Some("alice@example.com".into()),
                        ..registration("bob")
                    },
                    &ClientInfo::default()
                )
                .await,
            Err(AuthError::EmailTaken)
        ));
    }

    #[tokio::test]
    async fn the_stored_hash_is_argon2id_and_never_the_password() {
        let f = fixture();
        let user = f
            .auth
            .register(registration("alice"), &ClientInfo::default())
            .await
            .unwrap();
        let hash = f.store.password_hash(user.id).await.unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!hash.contains(PASSWORD));
    }

    #[tokio::test]
    async fn email_is_required_when_verification_is_on() {
        let f = fixture_with(
            AuthConfig {
                require_email_verification: true,
                ..Default::default()
            },
            keys(),
        );
        let Err(AuthError::Validation(e)) = f
            .auth
            .register(registration("alice"), &ClientInfo::default())
            .await
        else {
            panic!("expected a validation error");
        };
        assert_eq!(e.field, "email");
    }
}

mod email_verification {
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
        assert_eq!(retry_after.as_secs(), 30);
        f.clock.advance(Duration::seconds(30));
        f.auth
            .verify_email("alice", &fresh, &ClientInfo::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn changing_the_email_back_and_forth_does_not_reset_the_budget() {
        let f = verifying();
        register(&f).await;
        let id = f.store_user_id("alice").await;
        for round in 0..4 {
            for _ in 0..2 {
                let _ = f
                    .auth
                    .verify_email("alice", "999999", &ClientInfo::default())
                    .await;
            }
            let email = if round % 2 == 0 {
                "other@example.com"
            } else {
                "alice@example.com"
            };
            f.auth
                .update_profile(
                    id,
                    ProfileUpdate {
                        email: Some(email.into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        let code = f.mailer.last_code_for("alice@example.com").unwrap();
        assert!(matches!(
            f.auth
                .verify_email("alice", &code, &ClientInfo::default())
                .await,
            Err(AuthError::TooManyAttempts { .. })
        ));
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
}

mod login {
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
        f.auth.block_user(user.id).await.unwrap();
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
        f.auth.unblock_user(user.id).await.unwrap();
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
            .set_password_hash(user.id, &weak, None)
            .await
            .unwrap();
        f.login("alice").await;
        let now = f.store.password_hash(user.id).await.unwrap().unwrap();
        assert!(now.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{now}");
        f.login("alice").await;
    }
}

mod throttling {
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
        assert_eq!(retry_after.as_secs(), 30);
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
        assert_eq!(retry_after.as_secs(), 60);
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
}

mod refresh {
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
        f.auth.block_user(user.id).await.unwrap();
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
}

mod sessions {
    use super::*;

    #[tokio::test]
    async fn logout_local_ends_only_this_session() {
        let f = fixture();
        let (_, phone) = f.user_and_login("alice").await;
        let laptop = f.login("alice").await;
        let who = f.auth.authenticate(&phone.access_token).await.unwrap();
        assert_eq!(f.auth.logout(&who, LogoutScope::Local).await.unwrap(), 1);
        assert!(f.auth.authenticate(&phone.access_token).await.is_err());
        assert!(
            f.auth
                .refresh(&phone.refresh_token, &ClientInfo::default())
                .await
                .is_err()
        );
        f.auth.authenticate(&laptop.access_token).await.unwrap();
    }

    #[tokio::test]
    async fn logout_global_ends_every_session() {
        let f = fixture();
        let (_, phone) = f.user_and_login("alice").await;
        let laptop = f.login("alice").await;
        let (_, bob) = f.user_and_login("bob").await;
        let who = f.auth.authenticate(&phone.access_token).await.unwrap();
        assert_eq!(f.auth.logout(&who, LogoutScope::Global).await.unwrap(), 2);
        assert!(f.auth.authenticate(&phone.access_token).await.is_err());
        assert!(f.auth.authenticate(&laptop.access_token).await.is_err());
        f.auth.authenticate(&bob.access_token).await.unwrap();
    }

    #[tokio::test]
    async fn logout_others_keeps_this_session() {
        let f = fixture();
        let (_, phone) = f.user_and_login("alice").await;
        let laptop = f.login("alice").await;
        let who = f.auth.authenticate(&phone.access_token).await.unwrap();
        assert_eq!(f.auth.logout(&who, LogoutScope::Others).await.unwrap(), 1);
        f.auth.authenticate(&phone.access_token).await.unwrap();
        assert!(f.auth.authenticate(&laptop.access_token).await.is_err());
        assert!(
            f.auth
                .refresh(&laptop.refresh_token, &ClientInfo::default())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn blocking_rejects_tokens_at_once() {
        let f = fixture();
        let (user, p) = f.user_and_login("alice").await;
        f.auth.block_user(user.id).await.unwrap();
        assert!(matches!(
            f.auth.authenticate(&p.access_token).await,
            Err(AuthError::InvalidToken)
        ));
        // The stateless check alone cannot see it: that is what authenticate is for.
        f.auth.verify(&p.access_token).unwrap();
        f.auth.unblock_user(user.id).await.unwrap();
        assert!(f.auth.authenticate(&p.access_token).await.is_err());
    }

    #[tokio::test]
    async fn changing_the_password_revokes_every_other_session() {
        let f = fixture();
        let (_, phone) = f.user_and_login("alice").await;
        let laptop = f.login("alice").await;
        let who = f.auth.authenticate(&phone.access_token).await.unwrap();
        assert!(matches!(
            f.auth
                .change_password(&who, "Wrong0rd!", "N3w-passw0rd")
                .await,
            Err(AuthError::WrongPassword)
        ));
        let Err(AuthError::Validation(e)) = f.auth.change_password(&who, PASSWORD, "weak").await
        else {
            panic!("expected a validation error");
        };
        assert_eq!(e.field, "new_password");
        f.auth
            .change_password(&who, PASSWORD, "N3w-passw0rd")
            .await
            .unwrap();
        f.auth.authenticate(&phone.access_token).await.unwrap();
        assert!(f.auth.authenticate(&laptop.access_token).await.is_err());
        assert!(
            f.auth
                .login("alice", PASSWORD, ClientInfo::default())
                .await
                .is_err()
        );
        f.auth
            .login("alice", "N3w-passw0rd", ClientInfo::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn sessions_are_listed_with_the_current_one_marked_and_revocable() {
        let f = fixture();
        let (user, phone) = f.user_and_login("alice").await;
        f.clock.advance(Duration::seconds(1));
        let laptop = f.login("alice").await;
        let (bob, _) = f.user_and_login("bob").await;
        let who = f.auth.authenticate(&phone.access_token).await.unwrap();
        let list = f
            .auth
            .sessions(user.id, Some(who.session_id), 100, 0)
            .await
            .unwrap();
        assert_eq!(list.len(), 2);
        assert!(!list[0].current && list[1].current);
        let laptop_sid = f.auth.verify(&laptop.access_token).unwrap().sid;
        assert_eq!(list[0].id, laptop_sid);
        assert!(matches!(
            f.auth.revoke_session(bob.id, laptop_sid).await,
            Err(AuthError::NotFound(_))
        ));
        f.auth.revoke_session(user.id, laptop_sid).await.unwrap();
        assert!(f.auth.authenticate(&laptop.access_token).await.is_err());
        assert_eq!(
            f.auth.sessions(user.id, None, 100, 0).await.unwrap().len(),
            1
        );
    }
}

mod admin {
    use super::*;

    #[tokio::test]
    async fn ensure_admin_creates_once_and_grants_the_role() {
        let f = fixture();
        let admin = f.auth.ensure_admin("root", "Adm1n-pass").await.unwrap();
        assert_eq!(admin.roles, ["admin"]);
        assert!(admin.email_verified);
        let again = f.auth.ensure_admin("root", "Adm1n-pass").await.unwrap();
        assert_eq!(again.id, admin.id);
        let p = f
            .auth
            .login("root", "Adm1n-pass", ClientInfo::default())
            .await
            .unwrap();
        let who = f.auth.authenticate(&p.access_token).await.unwrap();
        who.require_role("admin").unwrap();
    }

    #[tokio::test]
    async fn roles_take_effect_on_the_next_request() {
        let f = fixture();
        let (user, p) = f.user_and_login("alice").await;
        let who = f.auth.authenticate(&p.access_token).await.unwrap();
        assert!(matches!(
            who.require_role("admin"),
            Err(AuthError::Forbidden)
        ));
        f.auth.grant_role(user.id, "admin").await.unwrap();
        assert!(
            f.auth
                .authenticate(&p.access_token)
                .await
                .unwrap()
                .has_role("admin")
        );
        f.auth.revoke_role(user.id, "admin").await.unwrap();
        assert!(
            !f.auth
                .authenticate(&p.access_token)
                .await
                .unwrap()
                .has_role("admin")
        );
    }

    #[tokio::test]
    async fn roles_are_managed_and_admin_is_protected() {
        let f = fixture();
        f.auth
            .create_role("editor", Some("Edits".into()))
            .await
            .unwrap();
        assert!(matches!(
            f.auth.create_role("editor", None).await,
            Err(AuthError::RoleExists)
        ));
        assert!(matches!(
            f.auth.create_role("Bad Name", None).await,
            Err(AuthError::Validation(_))
        ));
        assert!(matches!(
            f.auth.delete_role("admin").await,
            Err(AuthError::ProtectedRole)
        ));
        f.auth.delete_role("editor").await.unwrap();
        assert!(matches!(
            f.auth.delete_role("editor").await,
            Err(AuthError::NotFound(_))
        ));
        let (user, _) = f.user_and_login("alice").await;
        assert!(matches!(
            f.auth.grant_role(user.id, "editor").await,
            Err(AuthError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn admins_update_delete_and_revoke_users() {
        let f = fixture();
        let (user, p) = f.user_and_login("alice").await;
        let updated = f
            .auth
            .admin_update_user(
                user.id,
                ProfileUpdate {
                    email: Some("A@Example.com".into()),
                    email_verified: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(updated.email.as_deref(), Some("a@example.com"));
        assert!(updated.email_verified);
        assert_eq!(f.auth.revoke_user_sessions(user.id).await.unwrap(), 1);
        assert!(f.auth.authenticate(&p.access_token).await.is_err());
        f.auth.delete_user(user.id).await.unwrap();
        assert!(matches!(
            f.auth.user(user.id).await,
            Err(AuthError::NotFound("user"))
        ));
        assert!(matches!(
            f.auth.delete_user(user.id).await,
            Err(AuthError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_profile_email_change_resets_verification_and_sends_a_code() {
        let f = fixture();
        let (user, _) = f.user_and_login("alice").await;
        let u = f
            .auth
            .update_profile(
                user.id,
                ProfileUpdate {
                    email: Some("new@example.com".into()),
                    first_name: Some("Alice".into()),
                    email_verified: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(!u.email_verified, "users cannot verify themselves");
        assert_eq!(u.first_name.as_deref(), Some("Alice"));
        let code = f.mailer.last_code_for("new@example.com").unwrap();
        f.auth
            .verify_email("alice", &code, &ClientInfo::default())
            .await
            .unwrap();
        assert!(f.auth.user(user.id).await.unwrap().email_verified);
    }
}

mod tokens {
    use super::*;

    fn parts(token: &str) -> (serde_json::Value, serde_json::Value, String) {
        let mut it = token.split('.');
        let h = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
        let c = serde_json::from_slice(&B64.decode(it.next().unwrap()).unwrap()).unwrap();
        (h, c, it.next().unwrap().to_owned())
    }

    fn hs256(header: &serde_json::Value, claims: &serde_json::Value, key: &[u8]) -> String {
        let msg = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
        let sig = aws_lc_rs::hmac::sign(&k, msg.as_bytes());
        format!("{msg}.{}", B64.encode(sig.as_ref()))
    }

    async fn issued(f: &Fixture) -> TokenPair {
        f.user_and_login("alice").await.1
    }

    fn rejected(f: &Fixture, token: &str) {
        assert!(
            matches!(f.auth.verify(token), Err(AuthError::InvalidToken)),
            "accepted {token}"
        );
    }

    #[tokio::test]
    async fn the_header_is_at_jwt_with_kid_and_eddsa() {
        let f = fixture();
        let p = issued(&f).await;
        let (h, c, _) = parts(&p.access_token);
        assert_eq!(h["typ"], "at+jwt");
        assert_eq!(h["alg"], "EdDSA");
        assert_eq!(h["kid"], f.keys.signing_key().kid());
        for claim in ["iss", "aud", "sub", "sid", "iat", "exp", "jti", "roles"] {
            assert!(c.get(claim).is_some(), "{claim}");
        }
    }

    #[tokio::test]
    async fn alg_none_is_rejected() {
        let f = fixture();
        let (mut h, c, _) = parts(&issued(&f).await.access_token);
        h["alg"] = "none".into();
        let t = format!(
            "{}.{}.",
            B64.encode(h.to_string()),
            B64.encode(c.to_string())
        );
        rejected(&f, &t);
    }

    #[tokio::test]
    async fn hs256_signed_with_the_public_key_is_rejected() {
        let f = fixture();
        let (mut h, c, _) = parts(&issued(&f).await.access_token);
        let x = &f.auth.jwks().keys[0].x;
        h["alg"] = "HS256".into();
        for key in [B64.decode(x).unwrap(), x.as_bytes().to_vec()] {
            rejected(&f, &hs256(&h, &c, &key));
        }
    }

    #[tokio::test]
    async fn wrong_typ_iss_aud_and_unknown_kid_are_rejected() {
        let secret = [5u8; 32];
        let hs = KeySet::new(
            Key::hs256("k1", &secret).unwrap(),
            [],
            "https://issuer.test",
            "api.test",
            0,
        )
        .unwrap();
        let f = fixture_with(AuthConfig::default(), hs);
        let p = issued(&f).await;
        let (h, c, _) = parts(&p.access_token);
        // The forging helper itself is sound: an untouched re-signature verifies.
        f.auth.verify(&hs256(&h, &c, &secret)).unwrap();
        let mut cases = Vec::new();
        for typ in [serde_json::Value::from("JWT"), serde_json::Value::Null] {
            let mut h2 = h.clone();
            h2["typ"] = typ;
            cases.push(hs256(&h2, &c, &secret));
        }
        for (claim, value) in [("iss", "https://evil.test"), ("aud", "other-api")] {
            let mut c2 = c.clone();
            c2[claim] = value.into();
            cases.push(hs256(&h, &c2, &secret));
        }
        for missing in ["exp", "iat", "sub", "sid"] {
            let mut c2 = c.clone();
            c2.as_object_mut().unwrap().remove(missing);
            cases.push(hs256(&h, &c2, &secret));
        }
        let mut h2 = h.clone();
        h2["kid"] = "k2".into();
        cases.push(hs256(&h2, &c, &secret));
        let mut h3 = h.clone();
        h3.as_object_mut().unwrap().remove("kid");
        cases.push(hs256(&h3, &c, &secret));
        for t in cases {
            rejected(&f, &t);
        }
    }

    #[tokio::test]
    async fn expired_tokens_are_rejected() {
        let f = fixture();
        let p = issued(&f).await;
        f.clock.advance(Duration::minutes(15));
        rejected(&f, &p.access_token);
        assert!(f.auth.authenticate(&p.access_token).await.is_err());
    }

    #[tokio::test]
    async fn a_token_remembered_as_verified_still_expires_on_time() {
        let f = fixture();
        let p = issued(&f).await;
        // The first call checks the signature and remembers the token.
        f.auth.authenticate(&p.access_token).await.unwrap();
        f.clock
            .advance(Duration::minutes(15) - Duration::seconds(1));
        f.auth.authenticate(&p.access_token).await.unwrap();
        f.clock.advance(Duration::seconds(1));
        assert!(matches!(
            f.auth.authenticate(&p.access_token).await,
            Err(AuthError::InvalidToken)
        ));
    }

    #[tokio::test]
    async fn the_verified_token_cache_can_be_turned_off() {
        let f = fixture_with(
            AuthConfig {
                verified_token_cache: 0,
                ..Default::default()
            },
            keys(),
        );
        let p = issued(&f).await;
        f.auth.authenticate(&p.access_token).await.unwrap();
        f.clock.advance(Duration::minutes(15));
        assert!(f.auth.authenticate(&p.access_token).await.is_err());
    }

    #[tokio::test]
    async fn tampered_payloads_and_signatures_are_rejected() {
        let f = fixture();
        let p = issued(&f).await;
        let (h, mut c, sig) = parts(&p.access_token);
        c["roles"] = serde_json::json!(["admin"]);
        let forged = format!(
            "{}.{}.{sig}",
            B64.encode(h.to_string()),
            B64.encode(c.to_string())
        );
        rejected(&f, &forged);
        let mut bytes = p.access_token.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        rejected(&f, &String::from_utf8(bytes).unwrap());
        for junk in ["", "a.b.c", "....", "not a token", &"x".repeat(10_000)] {
            rejected(&f, junk);
        }
    }

    #[tokio::test]
    async fn a_token_from_another_key_is_rejected_until_that_key_is_trusted() {
        let old = Key::generate_ed25519().unwrap();
        let new = Key::generate_ed25519().unwrap();
        let before = fixture_with(
            AuthConfig::default(),
            KeySet::new(old.clone(), [], "https://issuer.test", "api.test", 0).unwrap(),
        );
        let p = issued(&before).await;
        // Rotation: the new key signs, the old one still verifies.
        let rotated = KeySet::new(
            new.clone(),
            [old.clone().verify_only()],
            "https://issuer.test",
            "api.test",
            0,
        )
        .unwrap();
        assert!(
            rotated
                .verify(
                    &p.access_token,
                    time::OffsetDateTime::now_utc().unix_timestamp()
                )
                .is_ok()
        );
        assert_eq!(rotated.jwks().keys.len(), 2);
        let without_old = KeySet::new(new, [], "https://issuer.test", "api.test", 0).unwrap();
        assert_eq!(
            without_old.verify(
                &p.access_token,
                time::OffsetDateTime::now_utc().unix_timestamp()
            ),
            Err(TokenError::UnknownKey)
        );
    }

    #[tokio::test]
    async fn access_and_refresh_tokens_are_not_interchangeable() {
        let f = fixture();
        let p = issued(&f).await;
        assert!(matches!(
            f.auth
                .refresh(&p.access_token, &ClientInfo::default())
                .await,
            Err(AuthError::InvalidRefreshToken)
        ));
        rejected(&f, &p.refresh_token);
        assert!(f.auth.authenticate(&p.refresh_token).await.is_err());
    }

    #[tokio::test]
    async fn a_refresh_token_with_a_flipped_bit_is_rejected() {
        let f = fixture();
        let p = issued(&f).await;
        let raw = B64.decode(&p.refresh_token).unwrap();
        for i in [0, 5, 20, 30, raw.len() - 1] {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            assert!(matches!(
                f.auth
                    .refresh(&B64.encode(&bad), &ClientInfo::default())
                    .await,
                Err(AuthError::InvalidRefreshToken)
            ));
        }
        f.auth
            .refresh(&p.refresh_token, &ClientInfo::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn jwks_has_public_keys_only() {
        let f = fixture();
        let jwks = serde_json::to_value(f.auth.jwks()).unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["use"], "sig");
        assert!(key.get("d").is_none());
        let hs = KeySet::new(Key::hs256("k", &[1u8; 32]).unwrap(), [], "i", "a", 0).unwrap();
        assert!(hs.jwks().keys.is_empty());
    }

    #[tokio::test]
    async fn keys_load_from_pem_and_round_trip() {
        let k = Key::generate_ed25519().unwrap();
        let pem = k.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let loaded = Key::ed25519_from_pem(&pem).unwrap();
        assert_eq!(loaded.kid(), k.kid());
        // An OpenSSL-made PKCS#8 v1 key (RFC 8410 test vector).
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let v1 = Key::ed25519_from_pem(openssl).unwrap();
        let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            Key::ed25519_public_from_pem(public).unwrap().kid(),
            v1.kid()
        );
        assert!(Key::ed25519_from_pem("garbage").is_err());
        assert!(Key::hs256("k", &[0u8; 31]).is_err());
        assert!(!format!("{k:?}").contains(&pem[30..60]));
    }
}
