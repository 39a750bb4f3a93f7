//! Passkeys: registration after re-authentication, passwordless sign-in, and every
//! way an answer must be refused.

use auth_core::testkit::SoftAuthenticator;
use serde_json::Value;

use super::*;

const ORIGIN: &str = "http://localhost:8080";

fn passkeys(f: &Fixture) -> Arc<Passkeys> {
    Arc::new(Passkeys::new(f.auth.clone(), PasskeyConfig::default()).unwrap())
}

/// Alice, signed in and re-authenticated, with one passkey on `device`.
async fn with_passkey(f: &Fixture, pk: &Passkeys, device: &mut SoftAuthenticator) -> Principal {
    let (_, pair) = f.user_and_login("alice").await;
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    f.reauth(&who).await;
    let started = pk.start_registration(&who).await.unwrap();
    let answer = device.register(&started.options);
    pk.finish_registration(&who, started.ceremony_id, &answer, "laptop")
        .await
        .unwrap();
    who
}

async fn sign_in(pk: &Passkeys, device: &mut SoftAuthenticator) -> Result<TokenPair, AuthError> {
    let started = pk.start_sign_in(&ClientInfo::default()).await.unwrap();
    let answer = device.sign_in(&started.options).expect("a credential");
    pk.finish_sign_in(started.ceremony_id, &answer, ClientInfo::default())
        .await
}

/// Exactly one of parallel finishes got tokens; the others were refused because the
/// ceremony was taken, or because the failures before them reached the account's
/// limit (reserved before any check).
fn assert_one_succeeded(
    finishes: Vec<Result<Result<TokenPair, AuthError>, tokio::task::JoinError>>,
) {
    let ok = finishes
        .into_iter()
        .map(|r| r.unwrap())
        .filter(|r| match r {
            Ok(_) => true,
            Err(AuthError::InvalidPasskey | AuthError::Throttled { .. }) => false,
            Err(e) => panic!("{e:?}"),
        })
        .count();
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn a_registered_passkey_signs_in_without_a_password() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut device = SoftAuthenticator::new(ORIGIN);
    let who = with_passkey(&f, &pk, &mut device).await;
    let listed = pk.passkeys(who.user_id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "laptop");
    assert!(!listed[0].backup_eligible);
    let pair = sign_in(&pk, &mut device).await.unwrap();
    let signed_in = f.auth.authenticate(&pair.access_token).await.unwrap();
    assert_eq!(signed_in.user_id, who.user_id);
    assert_eq!(f.auth.verify(&pair.access_token).unwrap().amr, ["hwk"]);
    // The session refreshes as any other, naming the same method.
    let next = f
        .auth
        .refresh(&pair.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(f.auth.verify(&next.access_token).unwrap().amr, ["hwk"]);
    let used = &pk.passkeys(who.user_id).await.unwrap()[0];
    assert_eq!(used.last_used_at, Some(f.clock.now()));
    // The request options of a passwordless sign-in name no credential.
    let started = pk.start_sign_in(&ClientInfo::default()).await.unwrap();
    assert!(
        started.options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty)
    );
}

#[tokio::test]
async fn a_synced_passkey_is_a_software_key() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut phone = SoftAuthenticator::new(ORIGIN);
    phone.synced = true;
    phone.counts = false;
    let who = with_passkey(&f, &pk, &mut phone).await;
    assert!(pk.passkeys(who.user_id).await.unwrap()[0].backup_eligible);
    for _ in 0..2 {
        let pair = sign_in(&pk, &mut phone).await.unwrap();
        assert_eq!(f.auth.verify(&pair.access_token).unwrap().amr, ["swk"]);
    }
}

#[tokio::test]
async fn registering_needs_a_recent_reauthentication_and_options_for_a_discoverable_key() {
    let f = fixture();
    let pk = passkeys(&f);
    let (_, pair) = f.user_and_login("alice").await;
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    assert!(matches!(
        pk.start_registration(&who).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    f.reauth(&who).await;
    let started = pk.start_registration(&who).await.unwrap();
    let o = &started.options["publicKey"];
    assert_eq!(o["rp"]["id"], "localhost");
    assert_eq!(o["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(o["attestation"], "none");
    // A ceremony is its starter's: another session of another user cannot finish it.
    let (_, bob) = f.user_and_login("bob").await;
    let bob = f.auth.authenticate(&bob.access_token).await.unwrap();
    f.reauth(&bob).await;
    let answer = SoftAuthenticator::new(ORIGIN).register(&started.options);
    assert!(matches!(
        pk.finish_registration(&bob, started.ceremony_id, &answer, "mine")
            .await,
        Err(AuthError::InvalidPasskey)
    ));
    assert!(pk.passkeys(bob.user_id).await.unwrap().is_empty());
    // And it was used up by that attempt.
    assert!(matches!(
        pk.finish_registration(&who, started.ceremony_id, &answer, "mine")
            .await,
        Err(AuthError::InvalidPasskey)
    ));
}

#[tokio::test]
async fn answers_for_another_origin_or_rp_id_are_refused() {
    let f = fixture();
    let pk = passkeys(&f);
    let (_, pair) = f.user_and_login("alice").await;
    let who = f.auth.authenticate(&pair.access_token).await.unwrap();
    f.reauth(&who).await;
    let mut phishing = SoftAuthenticator::new("https://login.example.net");
    let mut wrong_rp = SoftAuthenticator::new(ORIGIN);
    wrong_rp.rp_id_override = Some("example.net".into());
    for device in [&mut phishing, &mut wrong_rp] {
        let started = pk.start_registration(&who).await.unwrap();
        let answer = device.register(&started.options);
        assert!(matches!(
            pk.finish_registration(&who, started.ceremony_id, &answer, "x")
                .await,
            Err(AuthError::InvalidPasskey)
        ));
    }
    assert!(pk.passkeys(who.user_id).await.unwrap().is_empty());
    // Sign-in answers too: a good device's credential, answered through the phishing
    // origin or for another RP id.
    let mut device = SoftAuthenticator::new(ORIGIN);
    let started = pk.start_registration(&who).await.unwrap();
    let answer = device.register(&started.options);
    pk.finish_registration(&who, started.ceremony_id, &answer, "k")
        .await
        .unwrap();
    device.origin = "https://login.example.net".into();
    assert!(matches!(
        sign_in(&pk, &mut device).await,
        Err(AuthError::InvalidPasskey)
    ));
    device.origin = ORIGIN.into();
    device.rp_id_override = Some("example.net".into());
    assert!(matches!(
        sign_in(&pk, &mut device).await,
        Err(AuthError::InvalidPasskey)
    ));
    device.rp_id_override = None;
    sign_in(&pk, &mut device).await.unwrap();
}

#[tokio::test]
async fn a_replayed_answer_and_a_cloned_authenticator_are_refused() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut device = SoftAuthenticator::new(ORIGIN);
    with_passkey(&f, &pk, &mut device).await;
    let started = pk.start_sign_in(&ClientInfo::default()).await.unwrap();
    let answer = device.sign_in(&started.options).unwrap();
    pk.finish_sign_in(started.ceremony_id, &answer, ClientInfo::default())
        .await
        .unwrap();
    // The same answer again: its ceremony is used.
    assert!(matches!(
        pk.finish_sign_in(started.ceremony_id, &answer, ClientInfo::default())
            .await,
        Err(AuthError::InvalidPasskey)
    ));
    // Sent to a new ceremony: the challenge differs.
    let fresh = pk.start_sign_in(&ClientInfo::default()).await.unwrap();
    assert!(matches!(
        pk.finish_sign_in(fresh.ceremony_id, &answer, ClientInfo::default())
            .await,
        Err(AuthError::InvalidPasskey)
    ));
    // A copy of the key whose counter fell behind the one the server saw: a clone.
    // The passkey is removed and every session of its user ends, since a copy of the
    // key is in other hands.
    let live = f
        .auth
        .authenticate(&f.login("alice").await.access_token)
        .await
        .unwrap();
    device.set_counter(0);
    assert!(matches!(
        sign_in(&pk, &mut device).await,
        Err(AuthError::InvalidPasskey)
    ));
    assert!(pk.passkeys(live.user_id).await.unwrap().is_empty());
    let query = AuditQuery {
        user: Some(live.user_id),
        kinds: vec![AuditKind::PasskeyRemoved],
        ..AuditQuery::default()
    };
    let removed = f.auth.audit_events(query).await.unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].actor, Actor::System, "the service removed it");
    assert!(removed[0].detail.as_deref().unwrap().ends_with("cloned"));
    // The password still signs in.
    f.auth
        .authenticate(&f.login("alice").await.access_token)
        .await
        .unwrap();
    assert!(
        f.store
            .session(live.session_id().unwrap())
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    device.set_counter(100);
    assert!(matches!(
        sign_in(&pk, &mut device).await,
        Err(AuthError::InvalidPasskey)
    ));
}

#[tokio::test]
async fn thirty_parallel_finishes_of_one_ceremony_give_one_session() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut device = SoftAuthenticator::new(ORIGIN);
    with_passkey(&f, &pk, &mut device).await;
    let started = pk.start_sign_in(&ClientInfo::default()).await.unwrap();
    let answer: Value = device.sign_in(&started.options).unwrap();
    let finishes = futures::future::join_all((0..30).map(|_| {
        let pk = pk.clone();
        let answer = answer.clone();
        tokio::spawn(async move {
            pk.finish_sign_in(started.ceremony_id, &answer, ClientInfo::default())
                .await
        })
    }))
    .await;
    assert_one_succeeded(finishes);
}

#[tokio::test]
async fn a_deleted_passkey_or_a_blocked_user_signs_in_no_more() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut device = SoftAuthenticator::new(ORIGIN);
    let who = with_passkey(&f, &pk, &mut device).await;
    let id = pk.passkeys(who.user_id).await.unwrap()[0].id;
    pk.rename(who.user_id, id, " work key ").await.unwrap();
    assert_eq!(pk.passkeys(who.user_id).await.unwrap()[0].name, "work key");
    f.auth
        .block_user(&f.admin().await, who.user_id)
        .await
        .unwrap();
    assert!(matches!(
        sign_in(&pk, &mut device).await,
        Err(AuthError::Blocked)
    ));
    f.auth
        .unblock_user(&f.admin().await, who.user_id)
        .await
        .unwrap();
    let pair = sign_in(&pk, &mut device).await.unwrap();
    // Deleting is a change of factor: it needs a recent re-authentication.
    let fresh = f.auth.authenticate(&pair.access_token).await.unwrap();
    assert!(matches!(
        pk.delete(&fresh, id).await,
        Err(AuthError::ReauthenticationRequired)
    ));
    f.reauth(&fresh).await;
    pk.delete(&fresh, id).await.unwrap();
    assert!(matches!(
        pk.delete(&fresh, id).await,
        Err(AuthError::NotFound("passkey"))
    ));
    let query = AuditQuery {
        user: Some(who.user_id),
        kinds: vec![AuditKind::PasskeyAdded, AuditKind::PasskeyRemoved],
        ..AuditQuery::default()
    };
    let log = f.auth.audit_events(query).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [AuditKind::PasskeyRemoved, AuditKind::PasskeyAdded],
        "the registration and the deletion, once each"
    );
    assert_eq!(log[0].detail, Some(id.to_string()));
    assert!(matches!(
        sign_in(&pk, &mut device).await,
        Err(AuthError::InvalidPasskey)
    ));
}

#[tokio::test]
async fn failed_answers_count_against_the_login_limits() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut device = SoftAuthenticator::new(ORIGIN);
    with_passkey(&f, &pk, &mut device).await;
    let limit = f.auth.config().throttle.max_failures_per_login;
    device.origin = "https://login.example.net".into();
    for _ in 0..limit {
        assert!(matches!(
            sign_in(&pk, &mut device).await,
            Err(AuthError::InvalidPasskey)
        ));
    }
    device.origin = ORIGIN.into();
    assert!(matches!(
        sign_in(&pk, &mut device).await,
        Err(AuthError::Throttled { .. })
    ));
}

#[tokio::test]
async fn stored_credentials_carry_their_format_version() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut device = SoftAuthenticator::new(ORIGIN);
    let who = with_passkey(&f, &pk, &mut device).await;
    let stored = f.store.passkeys(who.user_id).await.unwrap().remove(0);
    let v: Value = serde_json::from_slice(&stored.credential).unwrap();
    assert_eq!(v["v"], PASSKEY_FORMAT);
    assert!(v["passkey"]["cred"]["cred_id"].is_string());
    // A format this version does not know is an error, never a silent refusal.
    f.store
        .delete_passkey(who.user_id, stored.id, None, None)
        .await
        .unwrap();
    let unknown = StoredPasskey {
        credential: br#"{"v":99,"passkey":{}}"#.to_vec(),
        ..stored
    };
    f.store.add_passkey(unknown, None, None).await.unwrap();
    assert!(matches!(
        sign_in(&pk, &mut device).await,
        Err(AuthError::Internal(_))
    ));
}

/// Alice with a passkey on `device` and then an active TOTP factor.
async fn with_passkey_and_totp(f: &Fixture, pk: &Passkeys, device: &mut SoftAuthenticator) {
    let who = with_passkey(f, pk, device).await;
    let enrolment = f.auth.enrol_totp(&who).await.unwrap();
    f.auth
        .confirm_totp(
            &who,
            &crate::mfa::code(f, &enrolment.secret, 0),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_passkey_completes_a_login_that_needs_a_second_factor() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut device = SoftAuthenticator::new(ORIGIN);
    // Without an active second factor a passkey changes nothing for password logins.
    let who = with_passkey(&f, &pk, &mut device).await;
    assert_eq!(
        f.auth
            .verify(&f.login("alice").await.access_token)
            .unwrap()
            .amr,
        ["pwd"]
    );
    assert!(matches!(
        pk.start_second_factor("not.a-token").await,
        Err(AuthError::InvalidMfaToken)
    ));
    let enrolment = f.auth.enrol_totp(&who).await.unwrap();
    f.auth
        .confirm_totp(
            &who,
            &crate::mfa::code(&f, &enrolment.secret, 0),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    let c = crate::mfa::challenge(&f).await;
    let started = pk.start_second_factor(&c.mfa_token).await.unwrap();
    assert_eq!(
        started.options["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the account's passkeys"
    );
    let answer = device.sign_in(&started.options).unwrap();
    let pair = pk
        .finish_second_factor(
            &c.mfa_token,
            started.ceremony_id,
            &answer,
            ClientInfo::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        f.auth.verify(&pair.access_token).unwrap().amr,
        ["pwd", "hwk"]
    );
    // The challenge is used: a second passkey answer gets nothing.
    let again = pk.start_second_factor(&c.mfa_token).await.unwrap();
    let answer = device.sign_in(&again.options).unwrap();
    assert!(matches!(
        pk.finish_second_factor(
            &c.mfa_token,
            again.ceremony_id,
            &answer,
            ClientInfo::default()
        )
        .await,
        Err(AuthError::InvalidMfaToken)
    ));
    // A TOTP code still completes a challenge of the same account.
    let c = crate::mfa::challenge(&f).await;
    f.auth
        .verify_mfa(
            &c.mfa_token,
            &crate::mfa::code(&f, &enrolment.secret, 1),
            ClientInfo::default(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_second_factor_ceremony_is_its_own_challenges_and_finishes_once() {
    let f = fixture();
    let pk = passkeys(&f);
    let mut device = SoftAuthenticator::new(ORIGIN);
    with_passkey_and_totp(&f, &pk, &mut device).await;
    let c = crate::mfa::challenge(&f).await;
    // A passwordless ceremony cannot stand in for a second-factor one.
    let other = pk.start_sign_in(&ClientInfo::default()).await.unwrap();
    let answer = device.sign_in(&other.options).unwrap();
    assert!(matches!(
        pk.finish_second_factor(
            &c.mfa_token,
            other.ceremony_id,
            &answer,
            ClientInfo::default()
        )
        .await,
        Err(AuthError::InvalidPasskey)
    ));
    let started = pk.start_second_factor(&c.mfa_token).await.unwrap();
    let answer = device.sign_in(&started.options).unwrap();
    let finishes = futures::future::join_all((0..30).map(|_| {
        let pk = pk.clone();
        let (token, answer) = (c.mfa_token.clone(), answer.clone());
        tokio::spawn(async move {
            pk.finish_second_factor(&token, started.ceremony_id, &answer, ClientInfo::default())
                .await
        })
    }))
    .await;
    assert_one_succeeded(finishes);
}

/// A passkey as this version stores it (format 1), with a sign-in ceremony's stored
/// state and the authenticator's answer, recorded once (`fixtures/passkey_v1.json`):
/// whatever WebAuthn library a later version uses, these bytes must still sign in.
#[tokio::test]
async fn a_passkey_stored_in_format_1_still_signs_in() {
    let recorded: Value = serde_json::from_str(include_str!("fixtures/passkey_v1.json")).unwrap();
    let text = |k: &str| recorded[k].as_str().unwrap().to_owned();
    let f = fixture();
    let pk = passkeys(&f);
    let user_id: uuid::Uuid = text("user_id").parse().unwrap();
    f.store
        .create_user(NewUser {
            id: user_id,
            ..auth_core::testkit::prelude::new_user("alice", None)
        })
        .await
        .unwrap();
    let now = f.clock.now();
    f.store
        .add_passkey(
            StoredPasskey {
                id: uuid::Uuid::new_v4(),
                user_id,
                credential_id: B64.decode(text("credential_id")).unwrap(),
                name: "old".into(),
                credential: text("stored").into_bytes(),
                counter: 0,
                backup_eligible: false,
                backup_state: false,
                created_at: now,
                last_used_at: None,
            },
            None,
            None,
        )
        .await
        .unwrap();
    let ceremony = uuid::Uuid::new_v4();
    f.store
        .put_ceremony(
            Ceremony {
                id: ceremony,
                kind: CeremonyKind::Passwordless,
                user_id: None,
                state: text("ceremony_state").into_bytes(),
                expires_at: now + Duration::minutes(5),
            },
            now,
        )
        .await
        .unwrap();
    let pair = pk
        .finish_sign_in(ceremony, &recorded["answer"], ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(
        f.auth
            .authenticate(&pair.access_token)
            .await
            .unwrap()
            .user_id,
        user_id
    );
}
