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
