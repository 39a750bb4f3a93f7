//! Conformance tests of [`AccountStore`](crate::store::AccountStore).

/// The tests of [`AccountStore`](crate::store::AccountStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_accounts {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// Created users are found by id and by login in any case, with their hash.
            async fn users_are_created_and_found_ignoring_case(store) {
                let mut nu = new_user("Alice", Some("Alice@Example.com"));
                nu.first_name = Some(PersonName::parse("first_name", "Alice").unwrap());
                let created = store.create_user(nu.clone()).await.unwrap();
                assert_eq!(created.login, "Alice");
                assert_eq!(created.email.as_deref(), Some("alice@example.com"));
                assert_eq!(created.first_name.as_deref(), Some("Alice"));
                assert_eq!(created.status, UserStatus::Active);
                assert!(created.roles.is_empty());
                assert_eq!(created.created_at, nu.created_at);
                assert_eq!(
                    store.user_by_id(created.id).await.unwrap(),
                    Some(created.clone())
                );
                let creds = store.credentials_by_login(&login("aLICE")).await.unwrap().unwrap();
                assert_eq!(creds.user, created);
                assert_eq!(creds.password_hash, nu.password_hash);
                assert_eq!(
                    store.password_hash(created.id).await.unwrap(),
                    Some(nu.password_hash)
                );
                assert!(store.user_by_id(Uuid::new_v4()).await.unwrap().is_none());
                assert!(store.credentials_by_login(&login("bob")).await.unwrap().is_none());
            }

            /// A second user with the same login or email, in any case, is a conflict.
            async fn logins_and_emails_are_unique_ignoring_case(store) {
                store
                    .create_user(new_user("alice", Some("a@example.com")))
                    .await
                    .unwrap();
                let login = store.create_user(new_user("ALICE", None)).await;
                assert!(matches!(login, Err(StoreError::LoginTaken)), "{login:?}");
                let email = store
                    .create_user(new_user("bob", Some("A@EXAMPLE.COM")))
                    .await;
                assert!(matches!(email, Err(StoreError::EmailTaken)), "{email:?}");
                assert_eq!(store.list_users(None, 10, 0).await.unwrap().len(), 1);
            }

            /// Creation with an unknown role fails as a whole.
            async fn a_user_with_an_unknown_role_is_not_created(store) {
                let mut nu = new_user("alice", None);
                nu.roles = vec![role("nosuchrole")];
                assert!(matches!(
                    store.create_user(nu).await,
                    Err(StoreError::NotFound)
                ));
                assert!(store.credentials_by_login(&login("alice")).await.unwrap().is_none());
                let mut admin = new_user("root", None);
                admin.roles = vec![role("admin")];
                assert_eq!(store.create_user(admin).await.unwrap().roles, vec!["admin"]);
            }

            /// Updates change only the given fields; a taken email is a conflict.
            async fn updates_change_fields_and_keep_emails_unique(store) {
                let a = store
                    .create_user(new_user("alice", Some("a@example.com")))
                    .await
                    .unwrap();
                store
                    .create_user(new_user("bob", Some("b@example.com")))
                    .await
                    .unwrap();
                let updated = store
                    .update_user(
                        a.id,
                        UserUpdate {
                            first_name: Some(PersonName::parse("first_name", "Alicia").unwrap()),
                            email_verified: Some(true),
                            ..Default::default()
                        }, None,
                    )
                    .await
                    .unwrap();
                assert_eq!(updated.first_name.as_deref(), Some("Alicia"));
                assert_eq!(updated.email.as_deref(), Some("a@example.com"));
                assert!(updated.email_verified);
                let taken = store
                    .update_user(
                        a.id,
                        UserUpdate {
                            email: Some(Email::parse("B@example.com").unwrap()),
                            ..Default::default()
                        }, None,
                    )
                    .await;
                assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
                let moved = store
                    .update_user(
                        a.id,
                        UserUpdate {
                            email: Some(Email::parse("new@example.com").unwrap()),
                            ..Default::default()
                        }, None,
                    )
                    .await
                    .unwrap();
                assert_eq!(moved.email.as_deref(), Some("new@example.com"));
                // The old address is free again.
                store
                    .create_user(new_user("carol", Some("a@example.com")))
                    .await
                    .unwrap();
                assert!(matches!(
                    store
                        .update_user(Uuid::new_v4(), UserUpdate::default(), None)
                        .await,
                    Err(StoreError::NotFound)
                ));
            }

            /// Deleting a user removes its sessions and frees its login; its audit
            /// events stay (until the retention purges them).
            async fn deleting_a_user_deletes_its_data(store) {
                let (user, session) = user_with_session(&*store, "alice").await;
                let login = audit_event(AuditKind::LoginSucceeded, Actor::Anonymous, user.id, now());
                store.record_audit(login.clone()).await.unwrap();
                store.delete_user(user.id, None).await.unwrap();
                assert!(store.user_by_id(user.id).await.unwrap().is_none());
                assert!(store.session(session.id).await.unwrap().is_none());
                assert!(store.session_status(session.id).await.unwrap().is_none());
                let kept = AuditQuery { user: Some(user.id), ..AuditQuery::default() };
                assert_eq!(store.audit_events(kept).await.unwrap(), vec![login]);
                assert!(matches!(
                    store.delete_user(user.id, None).await,
                    Err(StoreError::NotFound)
                ));
                store.create_user(new_user("alice", None)).await.unwrap();
            }

            /// Listing filters on login, email and names ignoring case, ordered by creation.
            async fn users_are_listed_filtered_and_paginated(store) {
                let base = now();
                for (i, (login, email)) in [
                    ("alice", "alice@example.com"),
                    ("bob", "bob@corp.example"),
                    ("carol", "carol@example.com"),
                ]
                .into_iter()
                .enumerate()
                {
                    let mut nu = new_user(login, Some(email));
                    nu.created_at = base + Duration::seconds(i as i64);
                    if login == "bob" {
                        nu.last_name = Some(PersonName::parse("last_name", "Smith").unwrap());
                    }
                    store.create_user(nu).await.unwrap();
                }
                let logins = |v: Vec<User>| v.into_iter().map(|u| u.login).collect::<Vec<_>>();
                assert_eq!(
                    logins(store.list_users(None, 10, 0).await.unwrap()),
                    ["alice", "bob", "carol"]
                );
                assert_eq!(logins(store.list_users(None, 1, 1).await.unwrap()), ["bob"]);
                assert_eq!(
                    logins(
                        store
                            .list_users(Some("EXAMPLE.COM".into()), 10, 0)
                            .await
                            .unwrap()
                    ),
                    ["alice", "carol"]
                );
                assert_eq!(
                    logins(store.list_users(Some("smi".into()), 10, 0).await.unwrap()),
                    ["bob"]
                );
                assert!(
                    store
                        .list_users(Some("%".into()), 10, 0)
                        .await
                        .unwrap()
                        .is_empty()
                );
                assert!(store.list_users(None, 10, 5).await.unwrap().is_empty());
            }

            /// Blocking revokes every session in the same call; unblocking revokes nothing.
            async fn blocking_revokes_every_session_of_the_user(store) {
                let (user, s1) = user_with_session(&*store, "alice").await;
                let s2 = new_session(user.id, now());
                store.create_session(s2.clone(), 0).await.unwrap();
                let (_, other) = user_with_session(&*store, "bob").await;
                assert_eq!(
                    store
                        .set_user_status(user.id, UserStatus::Blocked, None)
                        .await
                        .unwrap(),
                    2
                );
                assert!(is_revoked(&*store, s1.id).await && is_revoked(&*store, s2.id).await);
                assert!(!is_revoked(&*store, other.id).await);
                assert_eq!(
                    store.user_by_id(user.id).await.unwrap().unwrap().status,
                    UserStatus::Blocked
                );
                assert_eq!(
                    store
                        .set_user_status(user.id, UserStatus::Active, None)
                        .await
                        .unwrap(),
                    0
                );
                assert!(matches!(
                    store
                        .set_user_status(Uuid::new_v4(), UserStatus::Blocked, None)
                        .await,
                    Err(StoreError::NotFound)
                ));
            }

            /// 50 concurrent registrations of one login: one succeeds, 49 conflict.
            async fn concurrent_registrations_of_one_login_succeed_once(store) {
                let results = futures::future::join_all((0..50).map(|i| {
                    let store = store.clone();
                    let login = if i % 2 == 0 { "alice" } else { "ALICE" };
                    tokio::spawn(async move { store.create_user(new_user(login, None)).await })
                }))
                .await;
                let mut ok = 0;
                let mut taken = 0;
                for r in results {
                    match r.expect("task") {
                        Ok(_) => ok += 1,
                        Err(StoreError::LoginTaken) => taken += 1,
                        Err(e) => panic!("unexpected error {e:?}"),
                    }
                }
                assert_eq!((ok, taken), (1, 49));
                assert_eq!(store.list_users(None, 100, 0).await.unwrap().len(), 1);
            }

            /// A new password hash can revoke every other session in the same call.
            async fn changing_the_password_hash_can_revoke_other_sessions(store) {
                let (user, keep) = user_with_session(&*store, "alice").await;
                let other = new_session(user.id, now());
                store.create_session(other.clone(), 0).await.unwrap();
                assert_eq!(
                    store
                        .set_password_hash(user.id, "$new$", None, None)
                        .await
                        .unwrap(),
                    0
                );
                assert!(!is_revoked(&*store, other.id).await);
                assert_eq!(
                    store
                        .set_password_hash(user.id, "$newer$", Some(keep.id), None)
                        .await
                        .unwrap(),
                    1
                );
                assert!(is_revoked(&*store, other.id).await && !is_revoked(&*store, keep.id).await);
                assert_eq!(
                    store.password_hash(user.id).await.unwrap().as_deref(),
                    Some("$newer$")
                );
                assert!(matches!(
                    store.set_password_hash(Uuid::new_v4(), "x", None, None).await,
                    Err(StoreError::NotFound)
                ));
            }

            /// Logins a configured policy allows (dots, dashes, underscores, `@`) are
            /// stored and found like any other, ignoring case.
            async fn punctuated_logins_are_stored_and_found(store) {
                let policy = LoginPolicy::new(2, 64, "._-@").unwrap();
                let user = NewUser {
                    login: Login::parse_with("John.Doe_1-x@example", &policy).unwrap(),
                    ..new_user("placeholder", None)
                };
                store.create_user(user).await.unwrap();
                let found = store
                    .credentials_by_login(&Login::parse_with("john.doe_1-X@EXAMPLE", &policy).unwrap())
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(found.user.login, "John.Doe_1-x@example");
            }
        }
    };
}
