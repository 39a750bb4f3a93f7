//! Conformance tests of [`EmailChangeStore`](crate::store::EmailChangeStore).

/// The tests of [`EmailChangeStore`](crate::store::EmailChangeStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_email_change {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// A change is pending (the account keeps its address) until its code
            /// completes it: then the address is the account's, verified, the pending
            /// change is gone and the reset token mailed to the old address is dead.
            async fn email_changes_wait_for_their_code(store) {
                let t = now();
                let later = t + Duration::minutes(15);
                let alice = store.create_user(verified_user("alice", "alice@example.com")).await.unwrap();
                store.create_user(new_user("bob", Some("bob@example.com"))).await.unwrap();
                let change = |user_id: Uuid, email: &str, code: u8, expires_at| EmailChange {
                    user_id,
                    email: email.to_owned(),
                    code_hash: vec![code; 32],
                    expires_at,
                };
                assert!(matches!(store.put_email_change(change(Uuid::new_v4(), "x@example.com", 1, later)).await, Err(StoreError::NotFound)));
                assert!(matches!(store.put_email_change(change(alice.id, "bob@example.com", 1, later)).await, Err(StoreError::EmailTaken)));
                assert_eq!(store.email_change(alice.id).await.unwrap(), None);
                store.put_email_change(change(alice.id, "alice@example.org", 1, later)).await.unwrap();
                store.put_email_change(change(alice.id, "alice@example.net", 2, later)).await.unwrap();
                assert_eq!(store.email_change(alice.id).await.unwrap(), Some(change(alice.id, "alice@example.net", 2, later)));
                let user = store.user_by_id(alice.id).await.unwrap().unwrap();
                assert_eq!((user.email.as_deref(), user.email_verified), (Some("alice@example.com"), true));
                store.put_reset_token("alice@example.com", &[7; 32], later).await.unwrap().unwrap();
                assert_eq!(store.complete_email_change(alice.id, &[1; 32], t, None).await.unwrap(), None, "replaced code");
                assert_eq!(store.complete_email_change(alice.id, &[2; 32], later, None).await.unwrap(), None, "expired");
                assert_eq!(store.reset_token_user(&[7; 32], t).await.unwrap(), Some(alice.id));
                let user = store.complete_email_change(alice.id, &[2; 32], t, None).await.unwrap().unwrap();
                assert_eq!((user.email.as_deref(), user.email_verified), (Some("alice@example.net"), true));
                assert_eq!(store.user_by_id(alice.id).await.unwrap().unwrap(), user);
                assert_eq!(store.email_change(alice.id).await.unwrap(), None);
                assert_eq!(store.complete_email_change(alice.id, &[2; 32], t, None).await.unwrap(), None, "used");
                assert_eq!(store.reset_token_user(&[7; 32], t).await.unwrap(), None, "the old address's token dies");
                assert_eq!(store.put_reset_token("alice@example.com", &[8; 32], later).await.unwrap(), None);
            }

            /// An address taken between request and confirmation is refused then;
            /// purge removes expired changes only; a deleted user's goes with it.
            async fn email_changes_are_refused_when_taken_and_purged_when_expired(store) {
                let t = now();
                let alice = store.create_user(new_user("alice", Some("alice@example.com"))).await.unwrap();
                let bob = store.create_user(new_user("bob", None)).await.unwrap();
                let carol = store.create_user(new_user("carol", None)).await.unwrap();
                let change = |user_id: Uuid, email: &str, expires_at| EmailChange {
                    user_id,
                    email: email.to_owned(),
                    code_hash: vec![1; 32],
                    expires_at,
                };
                store.put_email_change(change(alice.id, "shared@example.com", t + Duration::minutes(5))).await.unwrap();
                store.put_email_change(change(bob.id, "shared@example.com", t)).await.unwrap();
                store.put_email_change(change(carol.id, "carol@example.com", t + Duration::minutes(5))).await.unwrap();
                store.update_user(bob.id, UserUpdate { email: Some(Email::parse("shared@example.com").unwrap()), ..Default::default() }, None).await.unwrap();
                assert!(matches!(store.complete_email_change(alice.id, &[1; 32], t, None).await, Err(StoreError::EmailTaken)));
                assert_eq!(store.user_by_id(alice.id).await.unwrap().unwrap().email.as_deref(), Some("alice@example.com"));
                store.delete_user(carol.id, None).await.unwrap();
                assert_eq!(store.email_change(carol.id).await.unwrap(), None);
                assert_eq!(store.purge_email_changes(t).await.unwrap(), 1);
                assert_eq!(store.email_change(bob.id).await.unwrap(), None);
                assert!(store.email_change(alice.id).await.unwrap().is_some());
            }

            /// 20 concurrent completions of one change: exactly one succeeds.
            async fn an_email_change_completes_once_under_concurrency(store) {
                let t = now();
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                store.put_email_change(EmailChange {
                    user_id: alice.id,
                    email: "alice@example.com".into(),
                    code_hash: vec![3; 32],
                    expires_at: t + Duration::minutes(5),
                }).await.unwrap();
                let results = futures::future::join_all((0..20).map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.complete_email_change(alice.id, &[3; 32], t, None).await.unwrap() })
                }))
                .await;
                assert_eq!(results.into_iter().filter(|r| r.as_ref().unwrap().is_some()).count(), 1);
            }
        }
    };
}
