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
    f.auth.block_user(&f.admin().await, user.id).await.unwrap();
    assert!(matches!(
        f.auth.authenticate(&p.access_token).await,
        Err(AuthError::InvalidToken)
    ));
    // The stateless check alone cannot see it: that is what authenticate is for.
    f.auth.verify(&p.access_token).unwrap();
    f.auth
        .unblock_user(&f.admin().await, user.id)
        .await
        .unwrap();
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
    let Err(AuthError::Validation(e)) = f.auth.change_password(&who, PASSWORD, "weak").await else {
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
    let (_, bob) = f.user_and_login("bob").await;
    let bob = f.auth.authenticate(&bob.access_token).await.unwrap();
    let who = f.auth.authenticate(&phone.access_token).await.unwrap();
    let list = f
        .auth
        .sessions(user.id, Some(who.session_id().unwrap()), 100, 0)
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert!(!list[0].current && list[1].current);
    let laptop_sid = f.auth.verify(&laptop.access_token).unwrap().sid;
    assert_eq!(list[0].id, laptop_sid);
    assert!(matches!(
        f.auth.revoke_session(&bob, laptop_sid).await,
        Err(AuthError::NotFound(_))
    ));
    f.auth.revoke_session(&who, laptop_sid).await.unwrap();
    assert!(f.auth.authenticate(&laptop.access_token).await.is_err());
    assert_eq!(
        f.auth.sessions(user.id, None, 100, 0).await.unwrap().len(),
        1
    );
}
