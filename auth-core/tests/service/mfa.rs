use super::*;

/// The code an authenticator app shows for `secret` (base32) at the fixture's time,
/// `offset` steps away.
pub(super) fn code(f: &Fixture, secret: &str, offset: i64) -> String {
    let at = f.clock.now().unix_timestamp() + offset * 30;
    auth_core::testkit::totp_code(secret, at)
}

/// Alice with an active second factor: her secret and recovery codes.
pub(super) async fn enrolled(f: &Fixture) -> (User, String, Vec<String>) {
    let (user, pair) = f.user_and_login("alice").await;
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    f.reauth(&who).await;
    let enrolment = f.auth.enrol_totp(&who).await.unwrap();
    assert!(enrolment.otpauth_uri.starts_with("otpauth://totp/"));
    assert!(
        enrolment
            .otpauth_uri
            .contains(&format!("secret={}", enrolment.secret))
    );
    // Not active yet: login still gives tokens.
    f.login("alice").await;
    let recovery = f
        .auth
        .confirm_totp(&who, &code(f, &enrolment.secret, 0), &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(recovery.len(), RECOVERY_CODES);
    (user, enrolment.secret, recovery)
}

pub(super) async fn challenge(f: &Fixture) -> MfaChallenge {
    match f.auth.login("alice", PASSWORD, ClientInfo::default()).await {
        Err(AuthError::MfaRequired(c)) => c,
        other => panic!("expected a challenge, got {other:?}"),
    }
}

fn amr(f: &Fixture, pair: &TokenPair) -> Vec<String> {
    f.auth.verify(&pair.access_token).unwrap().amr
}

#[tokio::test]
async fn login_with_a_second_factor_needs_a_code_once_per_step() {
    let f = fixture();
    let (user, secret, _) = enrolled(&f).await;
    let c = challenge(&f).await;
    assert_eq!(c.expires_in, 300);
    assert!(!format!("{c:?}").contains(&c.mfa_token));
    // The enrolment consumed the current step: its code cannot log in again.
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &code(&f, &secret, 0), ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaCode)
    ));
    f.clock.advance(Duration::seconds(30));
    let pair = f
        .auth
        .verify_mfa(&c.mfa_token, &code(&f, &secret, 0), ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(amr(&f, &pair), ["pwd", "otp"]);
    assert_eq!(
        f.auth
            .authenticate(&pair.access_token)
            .await
            .unwrap()
            .user_id,
        user.id
    );
    // Refreshed tokens keep the second factor.
    let next = f
        .auth
        .refresh(&pair.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(amr(&f, &next), ["pwd", "otp"]);
    // The same code again is refused, even on a new challenge.
    let again = challenge(&f).await;
    assert!(matches!(
        f.auth
            .verify_mfa(
                &again.mfa_token,
                &code(&f, &secret, 0),
                ClientInfo::default()
            )
            .await,
        Err(AuthError::InvalidMfaCode)
    ));
}

#[tokio::test]
async fn one_step_of_drift_is_accepted_and_no_more() {
    let f = fixture();
    let (_, secret, _) = enrolled(&f).await;
    f.clock.advance(Duration::minutes(2));
    let c = challenge(&f).await;
    for offset in [-3, -2, 2, 3] {
        assert!(
            matches!(
                f.auth
                    .verify_mfa(
                        &c.mfa_token,
                        &code(&f, &secret, offset),
                        ClientInfo::default()
                    )
                    .await,
                Err(AuthError::InvalidMfaCode)
            ),
            "offset {offset}"
        );
    }
    f.auth
        .verify_mfa(&c.mfa_token, &code(&f, &secret, 1), ClientInfo::default())
        .await
        .unwrap();
    // A later step was used: the earlier neighbours are spent too.
    assert!(
        f.auth
            .verify_mfa(&c.mfa_token, &code(&f, &secret, -1), ClientInfo::default())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn recovery_codes_work_once_each() {
    let f = fixture();
    let (_, _, recovery) = enrolled(&f).await;
    let c = challenge(&f).await;
    let shouted = recovery[3].to_uppercase();
    let pair = f
        .auth
        .verify_mfa(&c.mfa_token, &shouted, ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(amr(&f, &pair), ["pwd", "otp"]);
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &recovery[4], ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaToken)
    ));
    let c = challenge(&f).await;
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &recovery[3], ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaCode)
    ));
    f.auth
        .verify_mfa(&c.mfa_token, &recovery[4], ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_challenge_expires_and_cannot_be_forged() {
    let f = fixture();
    let (_, secret, _) = enrolled(&f).await;
    let c = challenge(&f).await;
    let mut forged = c.mfa_token.clone();
    forged.push('x');
    assert!(matches!(
        f.auth
            .verify_mfa(&forged, "000000", ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaToken)
    ));
    assert!(matches!(
        f.auth
            .verify_mfa(
                &c.mfa_token.replace('.', ""),
                "000000",
                ClientInfo::default()
            )
            .await,
        Err(AuthError::InvalidMfaToken)
    ));
    f.clock.advance(Duration::minutes(5));
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &code(&f, &secret, 0), ClientInfo::default())
            .await,
        Err(AuthError::InvalidMfaToken)
    ));
}

#[tokio::test]
async fn wrong_codes_are_throttled_per_account() {
    let f = fixture();
    let (_, secret, _) = enrolled(&f).await;
    f.clock.advance(Duration::seconds(30));
    let c = challenge(&f).await;
    for _ in 0..5 {
        assert!(matches!(
            f.auth
                .verify_mfa(&c.mfa_token, "000000", ClientInfo::default())
                .await,
            Err(AuthError::InvalidMfaCode)
        ));
    }
    // Past the limit even the right code is not checked.
    assert!(matches!(
        f.auth
            .verify_mfa(&c.mfa_token, &code(&f, &secret, 0), ClientInfo::default())
            .await,
        Err(AuthError::Throttled { .. })
    ));
}

#[tokio::test]
async fn disabling_and_admin_removal_end_the_second_factor() {
    let f = fixture();
    let (user, secret, recovery) = enrolled(&f).await;
    let c = challenge(&f).await;
    f.clock.advance(Duration::seconds(30));
    let pair = f
        .auth
        .verify_mfa(&c.mfa_token, &code(&f, &secret, 0), ClientInfo::default())
        .await
        .unwrap();
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    f.reauth(&who).await;
    assert!(matches!(
        f.auth.enrol_totp(&who).await,
        Err(AuthError::MfaActive)
    ));
    assert!(matches!(
        f.auth
            .disable_totp(&who, "wrong", &ClientInfo::default())
            .await,
        Err(AuthError::Validation(_))
    ));
    f.auth
        .disable_totp(&who, &recovery[0], &ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .disable_totp(&who, &recovery[1], &ClientInfo::default())
            .await,
        Err(AuthError::NotFound(_))
    ));
    let plain = f.login("alice").await;
    assert_eq!(amr(&f, &plain), ["pwd"]);
    // Enrolled again, then removed by an administrator.
    let enrolment = f.auth.enrol_totp(&who).await.unwrap();
    f.clock.advance(Duration::seconds(30));
    f.auth
        .confirm_totp(
            &who,
            &code(&f, &enrolment.secret, 0),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    challenge(&f).await;
    f.auth
        .remove_second_factor(&f.admin().await, user.id)
        .await
        .unwrap();
    f.login("alice").await;
    assert!(matches!(
        f.auth.remove_second_factor(&f.admin().await, user.id).await,
        Err(AuthError::NotFound(_))
    ));
    // Each change of the factor is in the audit log, the administrator's as theirs.
    let query = AuditQuery {
        user: Some(user.id),
        kinds: vec![AuditKind::MfaEnabled, AuditKind::MfaDisabled],
        ..AuditQuery::default()
    };
    let log = f.auth.audit_events(query).await.unwrap();
    let admin = f.admin().await.user_id;
    assert_eq!(
        log.iter()
            .rev()
            .map(|e| (e.kind, e.actor))
            .collect::<Vec<_>>(),
        [
            (AuditKind::MfaEnabled, Actor::User(user.id)),
            (AuditKind::MfaDisabled, Actor::User(user.id)),
            (AuditKind::MfaEnabled, Actor::User(user.id)),
            (AuditKind::MfaDisabled, Actor::User(admin)),
        ]
    );
}

#[tokio::test]
async fn a_password_reset_does_not_bypass_the_second_factor() {
    let f = fixture();
    let (user, _, _) = enrolled(&f).await;
    f.give_verified_email(user.id, "alice@example.com").await;
    f.auth
        .request_password_reset("alice@example.com", &ClientInfo::default())
        .await
        .unwrap();
    let token = f.mailed_reset_token("alice@example.com", None).await;
    f.auth
        .confirm_password_reset(&token, "N3w-passw0rd", &ClientInfo::default())
        .await
        .unwrap();
    assert!(matches!(
        f.auth
            .login("alice", "N3w-passw0rd", ClientInfo::default())
            .await,
        Err(AuthError::MfaRequired(_))
    ));
}

#[tokio::test]
async fn a_wrong_confirmation_code_leaves_the_enrolment_pending() {
    let f = fixture();
    let (_, pair) = f.user_and_login("alice").await;
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    assert!(matches!(
        f.auth
            .confirm_totp(&who, "123456", &ClientInfo::default())
            .await,
        Err(AuthError::Validation(_))
    ));
    f.reauth(&who).await;
    let enrolment = f.auth.enrol_totp(&who).await.unwrap();
    assert!(format!("{enrolment:?}").contains("redacted"));
    let wrong = if code(&f, &enrolment.secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert!(matches!(
        f.auth
            .confirm_totp(&who, wrong, &ClientInfo::default())
            .await,
        Err(AuthError::Validation(_))
    ));
    f.login("alice").await;
}
