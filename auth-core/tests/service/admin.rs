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
    f.auth
        .grant_role(&f.admin().await, user.id, "admin")
        .await
        .unwrap();
    assert!(
        f.auth
            .authenticate(&p.access_token)
            .await
            .unwrap()
            .has_role("admin")
    );
    f.auth
        .revoke_role(&f.admin().await, user.id, "admin")
        .await
        .unwrap();
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
        .create_role(&f.admin().await, "editor", Some("Edits".into()))
        .await
        .unwrap();
    assert!(matches!(
        f.auth.create_role(&f.admin().await, "editor", None).await,
        Err(AuthError::RoleExists)
    ));
    assert!(matches!(
        f.auth.create_role(&f.admin().await, "Bad Name", None).await,
        Err(AuthError::Validation(_))
    ));
    assert!(matches!(
        f.auth.delete_role(&f.admin().await, "admin").await,
        Err(AuthError::ProtectedRole)
    ));
    f.auth
        .delete_role(&f.admin().await, "editor")
        .await
        .unwrap();
    assert!(matches!(
        f.auth.delete_role(&f.admin().await, "editor").await,
        Err(AuthError::NotFound(_))
    ));
    let (user, _) = f.user_and_login("alice").await;
    assert!(matches!(
        f.auth.grant_role(&f.admin().await, user.id, "editor").await,
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
            &f.admin().await,
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
    assert_eq!(
        f.auth
            .revoke_user_sessions(&f.admin().await, user.id)
            .await
            .unwrap(),
        1
    );
    assert!(f.auth.authenticate(&p.access_token).await.is_err());
    f.auth.delete_user(&f.admin().await, user.id).await.unwrap();
    assert!(matches!(
        f.auth.user(user.id).await,
        Err(AuthError::NotFound("user"))
    ));
    assert!(matches!(
        f.auth.delete_user(&f.admin().await, user.id).await,
        Err(AuthError::NotFound(_))
    ));
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out_and_others_cannot_act() {
    let f = fixture();
    let me = f.admin().await;
    for result in [
        f.auth.block_user(&me, me.user_id).await,
        f.auth.delete_user(&me, me.user_id).await,
        f.auth.revoke_role(&me, me.user_id, "admin").await,
    ] {
        assert!(matches!(result, Err(AuthError::OwnAccount)), "{result:?}");
    }
    // The account is untouched, and another administrator can act on it.
    assert!(
        f.auth
            .user(me.user_id)
            .await
            .unwrap()
            .roles
            .contains(&auth_core::RoleName::admin())
    );
    let (other, pair) = f.user_and_login("other").await;
    f.auth
        .grant_role(&f.admin().await, other.id, "admin")
        .await
        .unwrap();
    let other_admin = f.auth.authenticate(&pair.access_token).await.unwrap();
    f.auth
        .revoke_role(&other_admin, me.user_id, "admin")
        .await
        .unwrap();
    // Without the admin role, nothing goes through.
    let (victim, _) = f.user_and_login("victim").await;
    let plain = f
        .auth
        .authenticate(&f.login("victim").await.access_token)
        .await
        .unwrap();
    for result in [
        f.auth.block_user(&plain, other.id).await,
        f.auth.delete_user(&plain, other.id).await,
        f.auth.revoke_role(&plain, other.id, "admin").await,
    ] {
        assert!(matches!(result, Err(AuthError::Forbidden)), "{result:?}");
    }
    // Removing a role other than admin from oneself is fine.
    f.auth
        .create_role(&f.admin().await, "editor", None)
        .await
        .unwrap();
    f.auth
        .grant_role(&f.admin().await, other.id, "editor")
        .await
        .unwrap();
    f.auth
        .revoke_role(&other_admin, other.id, "editor")
        .await
        .unwrap();
    assert!(f.auth.user(victim.id).await.is_ok());
}
