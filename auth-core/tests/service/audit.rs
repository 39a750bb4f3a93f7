//! The audit log: administrators' actions and API keys recorded with who acted, on
//! whom and from where; login attempts recorded without the password; retention.

use super::*;

fn client(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.parse().unwrap()),
        user_agent: Some("audit-test/1.0".into()),
    }
}

async fn events(f: &Fixture, user: uuid::Uuid) -> Vec<AuditEvent> {
    let query = AuditQuery {
        user: Some(user),
        ..AuditQuery::default()
    };
    f.auth.audit_events(query).await.unwrap()
}

#[tokio::test]
async fn administrators_actions_are_recorded_with_the_admin_and_the_address() {
    let f = fixture();
    let (alice, _) = f.user_and_login("alice").await;
    f.auth
        .create_role(&f.admin().await, "editor", None)
        .await
        .unwrap();
    let admin = f.admin().await.from_client(client("198.51.100.7"));
    f.auth.grant_role(&admin, alice.id, "editor").await.unwrap();
    f.auth
        .revoke_role(&admin, alice.id, "editor")
        .await
        .unwrap();
    f.auth.block_user(&admin, alice.id).await.unwrap();
    f.auth.unblock_user(&admin, alice.id).await.unwrap();
    f.auth.revoke_user_sessions(&admin, alice.id).await.unwrap();
    // Refused actions record nothing.
    assert!(f.auth.grant_role(&admin, alice.id, "ghost").await.is_err());
    assert!(f.auth.block_user(&admin, admin.user_id).await.is_err());
    f.auth.delete_user(&admin, alice.id).await.unwrap();
    let log = events(&f, alice.id).await;
    let kinds: Vec<AuditKind> = log.iter().rev().map(|e| e.kind).collect();
    assert_eq!(
        &kinds[kinds.len() - 6..],
        [
            AuditKind::RoleGranted,
            AuditKind::RoleRevoked,
            AuditKind::UserBlocked,
            AuditKind::UserUnblocked,
            AuditKind::SessionsRevoked,
            AuditKind::UserDeleted,
        ]
    );
    for e in &log[..6] {
        assert_eq!(e.actor, Actor::User(admin.user_id));
        assert_eq!(e.target, Some(alice.id));
        assert_eq!(e.ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(e.user_agent.as_deref(), Some("audit-test/1.0"));
        assert!(e.success);
    }
    assert_eq!(log[5].detail.as_deref(), Some("editor"), "the role granted");
    let by_admin = events(&f, admin.user_id).await;
    assert!(
        by_admin.iter().any(|e| e.kind == AuditKind::UserDeleted),
        "found by the actor too"
    );
}

#[tokio::test]
async fn login_attempts_are_the_login_history_and_hold_no_password() {
    let f = fixture();
    let (alice, _) = f.user_and_login("alice").await;
    let wrong = "Wr0ng-password!";
    assert!(
        f.auth
            .login("alice", wrong, client("203.0.113.9"))
            .await
            .is_err()
    );
    let log = events(&f, alice.id).await;
    assert_eq!(
        (log[0].kind, log[0].actor, log[0].success),
        (AuditKind::LoginFailed, Actor::Anonymous, false)
    );
    assert_eq!(log[0].ip, Some("203.0.113.9".parse().unwrap()));
    assert_eq!(log[1].kind, AuditKind::LoginSucceeded);
    assert!(!format!("{log:?}").contains(wrong) && !format!("{log:?}").contains(PASSWORD));
    let history = f.auth.login_history(alice.id, 10, None).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.success).collect::<Vec<_>>(),
        [false, true],
        "the history is the log's login events"
    );
    // A blocked account's right password is recorded as right but not let in.
    let admin = f.admin().await;
    f.auth.block_user(&admin, alice.id).await.unwrap();
    assert!(
        f.auth
            .login("alice", PASSWORD, ClientInfo::default())
            .await
            .is_err()
    );
    let last = &events(&f, alice.id).await[0];
    assert_eq!(
        (last.kind, last.success),
        (AuditKind::LoginSucceeded, false)
    );
}

#[tokio::test]
async fn api_keys_are_recorded_with_the_credential_that_acted() {
    let f = fixture();
    let (_, pair) = f.user_and_login("alice").await;
    let who = f
        .auth
        .authenticate(&pair.access_token)
        .await
        .unwrap()
        .from_client(client("192.0.2.1"));
    f.reauth(&who).await;
    let new = NewApiKey {
        name: "deploy".into(),
        ..NewApiKey::default()
    };
    let created = f.auth.create_api_key(&who, new.clone()).await.unwrap();
    assert!(
        f.auth.create_api_key(&who, new).await.is_err(),
        "a taken name"
    );
    let key = f.auth.authenticate(created.key.expose()).await.unwrap();
    f.auth
        .revoke_api_key(&key, who.user_id, created.info.id)
        .await
        .unwrap();
    let log = events(&f, who.user_id).await;
    assert_eq!(log[0].kind, AuditKind::ApiKeyRevoked);
    assert_eq!(
        log[0].actor,
        Actor::ApiKey {
            user: who.user_id,
            key: created.info.id
        },
        "revoked with itself"
    );
    assert_eq!(log[1].kind, AuditKind::ApiKeyCreated);
    assert_eq!(log[1].ip, Some("192.0.2.1".parse().unwrap()));
    assert!(log[1].detail.as_deref().unwrap().contains("deploy"));
    assert!(
        !format!("{log:?}").contains(&created.key.expose()[36..]),
        "no secret"
    );
    assert_eq!(
        log.iter()
            .filter(|e| e.kind == AuditKind::ApiKeyCreated)
            .count(),
        1
    );
}

#[tokio::test]
async fn the_retention_purges_older_events() {
    let f = fixture();
    let (alice, _) = f.user_and_login("alice").await;
    assert_eq!(events(&f, alice.id).await.len(), 1);
    f.clock.advance(Duration::days(366));
    f.auth.purge_expired().await.unwrap();
    assert!(
        events(&f, alice.id).await.is_empty(),
        "past the default 365 days"
    );
}

#[tokio::test]
async fn a_users_own_changes_are_recorded_as_theirs() {
    let f = fixture();
    let (alice, phone) = f.user_and_login("alice").await;
    let laptop = f.login("alice").await;
    let tablet = f.login("alice").await;
    let who = f
        .auth
        .authenticate(&phone.access_token)
        .await
        .unwrap()
        .from_client(client("192.0.2.44"));
    let laptop_sid = f.auth.verify(&laptop.access_token).unwrap().sid;
    f.auth.revoke_session(&who, laptop_sid).await.unwrap();
    f.auth
        .change_password(&who, PASSWORD, "N3w-passw0rd!")
        .await
        .unwrap();
    assert!(f.auth.authenticate(&tablet.access_token).await.is_err());
    f.auth.logout(&who, LogoutScope::Local).await.unwrap();
    let log = events(&f, alice.id).await;
    let newest: Vec<(AuditKind, Option<&str>)> = log[..3]
        .iter()
        .map(|e| (e.kind, e.detail.as_deref()))
        .collect();
    let laptop_sid = laptop_sid.to_string();
    assert_eq!(
        newest,
        [
            (AuditKind::Logout, Some("local")),
            (AuditKind::PasswordChanged, None),
            (AuditKind::Logout, Some(laptop_sid.as_str())),
        ]
    );
    for e in &log[..3] {
        assert_eq!(e.actor, Actor::User(alice.id));
        assert_eq!(e.ip, Some("192.0.2.44".parse().unwrap()));
    }
    assert!(!format!("{log:?}").contains("N3w-passw0rd!"));
}

#[tokio::test]
async fn a_reused_refresh_token_and_a_password_reset_name_their_account() {
    let f = fixture();
    let (alice, p0) = f.user_and_login("alice").await;
    f.auth
        .refresh(&p0.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(11));
    let thief = client("203.0.113.66");
    assert!(matches!(
        f.auth.refresh(&p0.refresh_token, &thief).await,
        Err(AuthError::RefreshTokenReused)
    ));
    let sid = f.auth.verify(&p0.access_token).unwrap().sid;
    let reuse = &events(&f, alice.id).await[0];
    assert_eq!(
        (reuse.kind, reuse.actor, reuse.target),
        (AuditKind::RefreshReused, Actor::Anonymous, Some(alice.id))
    );
    assert_eq!(reuse.ip, thief.ip);
    assert_eq!(reuse.detail, Some(format!("{sid} user")));
    // A refresh that rotates records nothing.
    let fresh = f.login("alice").await;
    let before = events(&f, alice.id).await.len();
    f.auth
        .refresh(&fresh.refresh_token, &ClientInfo::default())
        .await
        .unwrap();
    assert_eq!(events(&f, alice.id).await.len(), before);

    f.give_verified_email(alice.id, "alice@example.com").await;
    f.auth
        .request_password_reset("alice@example.com", &ClientInfo::default())
        .await
        .unwrap();
    let token = f.mailed_reset_token("alice@example.com", None).await;
    let holder = client("198.51.100.23");
    assert!(
        f.auth
            .confirm_password_reset("x".repeat(43).as_str(), "N3w-passw0rd!", &holder)
            .await
            .is_err()
    );
    f.auth
        .confirm_password_reset(&token, "N3w-passw0rd!", &holder)
        .await
        .unwrap();
    let log = events(&f, alice.id).await;
    let resets: Vec<&AuditEvent> = log
        .iter()
        .filter(|e| e.kind == AuditKind::PasswordReset)
        .collect();
    assert_eq!(resets.len(), 1, "the refused token recorded nothing");
    assert_eq!(
        (resets[0].target, resets[0].ip),
        (Some(alice.id), holder.ip)
    );
    assert!(!format!("{log:?}").contains(&token));
}

#[tokio::test]
async fn an_administrators_profile_edits_and_the_role_catalogue_are_recorded() {
    let f = fixture();
    let (alice, _) = f.user_and_login("alice").await;
    let admin = f.admin().await.from_client(client("198.51.100.7"));
    let update = ProfileUpdate {
        email: Some("alice@example.com".into()),
        email_verified: Some(true),
        ..Default::default()
    };
    f.auth
        .admin_update_user(&admin, alice.id, update)
        .await
        .unwrap();
    let log = events(&f, alice.id).await;
    assert_eq!(log[0].kind, AuditKind::UserUpdated);
    assert_eq!(log[0].actor, Actor::User(admin.user_id));
    assert_eq!(
        log[0].detail.as_deref(),
        Some("email,email_verified"),
        "the fields set, not their values"
    );
    assert_eq!(log[0].ip, Some("198.51.100.7".parse().unwrap()));
    // The user's own edit of their names is not an administrator's action.
    let own = f
        .auth
        .authenticate(&f.login("alice").await.access_token)
        .await
        .unwrap();
    let names = ProfileUpdate {
        first_name: Some("Alice".into()),
        ..Default::default()
    };
    f.auth.update_profile(&own, names).await.unwrap();
    assert!(
        events(&f, alice.id)
            .await
            .iter()
            .all(|e| e.kind != AuditKind::UserUpdated || e.actor == Actor::User(admin.user_id))
    );

    f.auth.create_role(&admin, "editor", None).await.unwrap();
    assert!(f.auth.create_role(&admin, "editor", None).await.is_err());
    f.auth.delete_role(&admin, "editor").await.unwrap();
    let catalogue: Vec<(AuditKind, Option<String>, Option<uuid::Uuid>)> = events(&f, admin.user_id)
        .await
        .into_iter()
        .filter(|e| matches!(e.kind, AuditKind::RoleCreated | AuditKind::RoleDeleted))
        .map(|e| (e.kind, e.detail, e.target))
        .collect();
    assert_eq!(
        catalogue,
        [
            (AuditKind::RoleDeleted, Some("editor".into()), None),
            (AuditKind::RoleCreated, Some("editor".into()), None),
        ],
        "one event each, the refused creation none"
    );
}
