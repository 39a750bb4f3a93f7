//! Sensitive changes need fresh proof; one-time things stay one-time.

use super::*;
use crate::mfa::{challenge, code, enrolled};

async fn signed_in(f: &Fixture, login: &str) -> (User, TokenPair, Principal) {
    let (user, pair) = f.user_and_login(login).await;
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    (user, pair, who)
}

fn new_email(email: &str) -> ProfileUpdate {
    ProfileUpdate {
        email: Some(email.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_email_change_needs_a_recent_reauthentication() {
    let f = fixture();
    let (user, _, who) = signed_in(&f, "alice").await;
    let update = ProfileUpdate {
        first_name: Some("Alice".into()),
        ..new_email("thief@example.com")
    };
    assert!(matches!(
        f.auth.update_profile(&who, update.clone()).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    assert_eq!(f.auth.user(user.id).await.unwrap(), user, "nothing changed");
    assert!(f.mailer.sent().iter().all(|m| m.to != "thief@example.com"));
    assert!(matches!(
        f.auth
            .reauthenticate(
                &who,
                ReauthProof::Password("wrong".into()),
                &ClientInfo::default()
            )
            .await,
        Err(AuthError::InvalidCredentials)
    ));
    f.reauth(&who).await;
    f.auth.update_profile(&who, update.clone()).await.unwrap();
    // The proof lasts the configured time only.
    f.clock.advance(f.auth.config().reauthentication_ttl);
    assert!(matches!(
        f.auth
            .update_profile(&who, new_email("other@example.com"))
            .await,
        Err(AuthError::ReauthenticationRequired)
    ));
    // And only for the session that gave it.
    f.reauth(&who).await;
    let other = f.login("alice").await;
    let other = f.auth.authenticate(&other.access_token).await.unwrap();
    assert!(matches!(
        f.auth
            .update_profile(&other, new_email("other@example.com"))
            .await,
        Err(AuthError::ReauthenticationRequired)
    ));
}

#[tokio::test]
async fn a_new_email_is_pending_until_the_new_address_confirms() {
    let f = fixture();
    let (user, _, who) = signed_in(&f, "alice").await;
    f.give_verified_email(user.id, "alice@example.com").await;
    let who = Principal {
        user: f.auth.user(user.id).await.unwrap(),
        ..who
    };
    f.reauth(&who).await;
    let u = f
        .auth
        .update_profile(
            &who,
            ProfileUpdate {
                first_name: Some("Alice".into()),
                email_verified: Some(false),
                ..new_email("new@example.com")
            },
        )
        .await
        .unwrap();
    assert_eq!(u.first_name.as_deref(), Some("Alice"));
    assert_eq!(
        (u.email.as_deref(), u.email_verified),
        (Some("alice@example.com"), true),
        "the verified address stays until the new one confirms"
    );
    let notice = f
        .mailer
        .sent()
        .into_iter()
        .find(|m| m.to == "alice@example.com")
        .expect("the old address is told");
    assert!(notice.kind == MailKind::EmailChangeNotice);
    let code = f
        .mailer
        .last_email_change_code_for("new@example.com")
        .unwrap();
    // A reset still goes to the current, verified address.
    f.auth
        .request_password_reset("alice@example.com", &ClientInfo::default())
        .await
        .unwrap();
    let token = f.mailed_reset_token("alice@example.com", None).await;
    assert!(
        matches!(
            f.auth
                .confirm_email_change(&who, "000000", &ClientInfo::default())
                .await,
            Err(AuthError::InvalidVerificationCode)
        ) || code == "000000"
    );
    let changed = f
        .auth
        .confirm_email_change(&who, &code, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(
        (changed.email.as_deref(), changed.email_verified),
        (Some("new@example.com"), true)
    );
    assert!(matches!(
        f.auth
            .confirm_email_change(&who, &code, &ClientInfo::default())
            .await,
        Err(AuthError::InvalidVerificationCode)
    ));
    let changes = AuditQuery {
        user: Some(who.user_id),
        kinds: vec![AuditKind::EmailChanged],
        ..AuditQuery::default()
    };
    let changes = f.auth.audit_events(changes).await.unwrap();
    assert_eq!(changes.len(), 1, "the change, not the refused codes");
    assert_eq!(changes[0].actor, Actor::User(who.user_id));
    assert!(matches!(
        f.auth
            .confirm_password_reset(&token, "N3w-passw0rd", &ClientInfo::default())
            .await,
        Err(AuthError::InvalidResetToken)
    ));
}

#[tokio::test]
async fn a_new_email_change_does_not_restore_the_confirmation_budget() {
    let f = fixture();
    let (_, _, who) = signed_in(&f, "alice").await;
    f.reauth(&who).await;
    for round in 0..4 {
        let email = format!("alice{round}@example.com");
        f.auth
            .update_profile(&who, new_email(&email))
            .await
            .unwrap();
        for _ in 0..2 {
            let _ = f
                .auth
                .confirm_email_change(&who, "999999", &ClientInfo::default())
                .await;
        }
    }
    let code = f
        .mailer
        .last_email_change_code_for("alice3@example.com")
        .unwrap();
    assert!(matches!(
        f.auth
            .confirm_email_change(&who, &code, &ClientInfo::default())
            .await,
        Err(AuthError::TooManyAttempts { .. })
    ));
}

#[tokio::test]
async fn a_reset_is_mailed_only_to_a_verified_address_on_the_same_path() {
    let f = fixture();
    f.auth
        .register(
            Registration {
                email: Some("una@example.com".into()),
                ..registration("una")
            },
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    for email in ["una@example.com", "nobody@example.com"] {
        f.auth
            .request_password_reset(email, &ClientInfo::default())
            .await
            .unwrap();
    }
    // Let the background work run, then check nothing was mailed.
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(f.mailer.last_reset_token_for("una@example.com"), None);
}

#[tokio::test]
async fn known_and_unknown_addresses_take_the_same_path_in_the_answer() {
    let store = Arc::new(auth_core::store::Spy::new(MemoryStore::new()));
    let auth = AuthService::new(
        store.clone(),
        keys(),
        &RefreshSecret::generate(),
        AuthConfig::default(),
    )
    .unwrap();
    let user = auth
        .register(
            Registration {
                email: Some("known@example.com".into()),
                ..registration("known")
            },
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    let verified = UserUpdate {
        email_verified: Some(true),
        ..Default::default()
    };
    store.update_user(user.id, verified, None).await.unwrap();
    let mut paths = vec![];
    for email in ["known@example.com", "nobody@example.com"] {
        store.take_calls();
        auth.request_password_reset(email, &ClientInfo::default())
            .await
            .unwrap();
        // The current-thread runtime has not run the background work yet.
        paths.push(store.take_calls());
    }
    assert_eq!(paths[0], paths[1]);
    assert!(!paths[0].contains(&"put_reset_token"), "{:?}", paths[0]);
}

#[tokio::test]
async fn a_challenge_completes_once() {
    let f = fixture();
    let (_, _, recovery) = enrolled(&f).await;
    let c = challenge(&f).await;
    f.auth
        .verify_mfa(&c.mfa_token, &recovery[0], ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &recovery[1], ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaToken)
    ));
    assert_eq!(
        f.store
            .recovery_codes_left(f.store_user_id("alice").await)
            .await
            .unwrap(),
        9
    );
}

#[tokio::test]
async fn a_challenge_dies_with_a_reset_a_block_or_a_factor_change() {
    let f = fixture();
    let (user, secret, recovery) = enrolled(&f).await;
    f.give_verified_email(user.id, "alice@example.com").await;
    // A password reset.
    let c = challenge(&f).await;
    f.auth
        .request_password_reset("alice@example.com", &ClientInfo::default())
        .await
        .unwrap();
    let token = f.mailed_reset_token("alice@example.com", None).await;
    f.auth
        .confirm_password_reset(&token, PASSWORD, &ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &recovery[0], ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaToken)
    ));
    // A block and an unblock.
    let c = challenge(&f).await;
    let admin = f.admin().await;
    f.auth.block_user(&admin, user.id).await.unwrap();
    f.auth
        .unblock_user(&f.admin().await, user.id)
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &recovery[0], ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaToken)
    ));
    // Removal of the factor (then a new one).
    let c = challenge(&f).await;
    f.auth
        .remove_second_factor(&f.admin().await, user.id)
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &code(&f, &secret, 1), ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaToken)
    ));
    assert_eq!(f.store.recovery_codes_left(user.id).await.unwrap(), 0);
}

#[tokio::test]
async fn a_blocked_login_uses_up_no_recovery_code() {
    let f = fixture();
    let (user, _, recovery) = enrolled(&f).await;
    let c = challenge(&f).await;
    f.store
        .set_user_status(user.id, UserStatus::Blocked, None)
        .await
        .unwrap();
    // The store's block kills the challenge; a challenge issued while blocked is
    // refused for the block, before the code.
    assert!(
        f.auth
            .verify_mfa(&c.mfa_token, &recovery[0], ClientInfo::default())
            .await
            .is_err()
    );
    assert_eq!(f.store.recovery_codes_left(user.id).await.unwrap(), 10);
    f.store
        .set_user_status(user.id, UserStatus::Active, None)
        .await
        .unwrap();
    let pair = f
        .auth
        .verify_mfa(
            &challenge(&f).await.mfa_token,
            &recovery[0],
            ClientInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        f.auth.verify(&pair.access_token).unwrap().amr,
        ["pwd", "otp"]
    );
}

#[tokio::test]
async fn enrolment_needs_reauthentication_and_leaves_only_the_current_session() {
    let f = fixture();
    let (_, pair, who) = signed_in(&f, "alice").await;
    let other = f.login("alice").await;
    assert!(matches!(
        f.auth.enrol_totp(&who).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    f.auth
        .reauthenticate(
            &who,
            ReauthProof::Code("123456".into()),
            &ClientInfo::default(),
        )
        .await
        .expect_err("no factor yet: a code proves nothing");
    f.reauth(&who).await;
    let enrolment = f.auth.enrol_totp(&who).await.unwrap();
    f.auth
        .confirm_totp(
            &who,
            &code(&f, &enrolment.secret, 0),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .refresh(&other.refresh_token, &ClientInfo::default())
            .await,
        Err(AuthError::InvalidRefreshToken)
    ));
    assert!(f.auth.authenticate(&other.access_token).await.is_err());
    f.auth
        .refresh(&pair.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    // The second factor now re-authenticates too, once per step.
    f.clock.advance(Duration::seconds(30));
    let now = code(&f, &enrolment.secret, 0);
    f.auth
        .reauthenticate(&who, ReauthProof::Code(now.clone()), &ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .reauthenticate(&who, ReauthProof::Code(now), &ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaCode)
    ));
}
