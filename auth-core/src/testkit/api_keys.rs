//! Conformance tests of [`ApiKeyStore`](crate::store::ApiKeyStore).

/// The tests of [`ApiKeyStore`](crate::store::ApiKeyStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_api_keys {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// Keys are stored as given (the digest, never more), listed oldest first,
            /// named uniquely per owner, revoked by their owner only, and go with a
            /// deleted owner.
            async fn api_keys_follow_their_lifecycle(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let bob = store.create_user(new_user("bob", None)).await.unwrap();
                let t = now();
                let first = StoredApiKey {
                    rate_limit: Some(10),
                    expires_at: Some(t + Duration::days(30)),
                    ..api_key(alice.id, "deploy", &["admin", "editor"], t)
                };
                let second = api_key(alice.id, "ci", &[], t + Duration::seconds(1));
                assert!(store.add_api_key(second.clone(), None).await.unwrap());
                assert!(store.add_api_key(first.clone(), None).await.unwrap());
                assert!(!store.add_api_key(api_key(alice.id, "deploy", &[], t), None).await.unwrap(), "one name per owner");
                assert!(store.add_api_key(api_key(bob.id, "deploy", &[], t), None).await.unwrap(), "another owner's name");
                assert!(matches!(store.add_api_key(api_key(Uuid::new_v4(), "x", &[], t), None).await, Err(StoreError::NotFound)));
                assert_eq!(store.api_keys(alice.id).await.unwrap(), vec![first.clone(), second.clone()]);
                let status = store.api_key_status(first.id).await.unwrap().expect("stored");
                assert_eq!(status.key, first);
                assert_eq!(status.user, store.user_by_id(alice.id).await.unwrap().unwrap());
                assert_eq!(store.api_key_status(Uuid::now_v7()).await.unwrap(), None);
                assert!(!store.revoke_api_key(bob.id, first.id, None).await.unwrap(), "not bob's");
                assert!(store.revoke_api_key(alice.id, first.id, None).await.unwrap());
                assert!(!store.revoke_api_key(alice.id, first.id, None).await.unwrap());
                assert_eq!(store.api_key_status(first.id).await.unwrap(), None);
                assert_eq!(store.api_keys(alice.id).await.unwrap(), vec![second.clone()]);
                assert!(store.add_api_key(api_key(alice.id, "deploy", &[], t), None).await.unwrap(), "free again");
                store.delete_user(alice.id, None).await.unwrap();
                assert_eq!(store.api_key_status(second.id).await.unwrap(), None);
                assert_eq!(store.api_keys(alice.id).await.unwrap(), vec![]);
            }

            /// A key's status is its owner as it is now: blocked, roles removed, as
            /// soon as the change is made (a caching store drops its copy).
            async fn an_api_keys_status_follows_its_owner(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let editor = role("editor");
                store.create_role(Role { name: editor.clone(), description: None }, None).await.unwrap();
                store.grant_role(alice.id, &editor, None).await.unwrap();
                let key = api_key(alice.id, "deploy", &["editor"], now());
                store.add_api_key(key.clone(), None).await.unwrap();
                let read = || async { store.api_key_status(key.id).await.unwrap().expect("stored") };
                assert_eq!(read().await.user.roles, vec![editor.clone()]);
                assert_eq!(read().await.user.roles, vec![editor.clone()], "read twice");
                store.revoke_role(alice.id, &editor, None).await.unwrap();
                assert_eq!(read().await.user.roles, Vec::<RoleName>::new(), "the owner's roles as they are now");
                store.set_user_status(alice.id, UserStatus::Blocked, None).await.unwrap();
                assert_eq!(read().await.user.status, UserStatus::Blocked);
                assert_eq!(read().await.key.roles, vec![editor], "the key keeps what it was given");
            }

            /// 30 concurrent adds of one name for one owner: exactly one is stored.
            async fn one_api_key_name_is_taken_once_under_a_burst(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                let adds = futures::future::join_all((0..30).map(|_| {
                    let store = store.clone();
                    let key = api_key(alice.id, "deploy", &[], t);
                    tokio::spawn(async move { store.add_api_key(key, None).await.unwrap() })
                }))
                .await;
                assert_eq!(adds.into_iter().filter(|r| *r.as_ref().unwrap()).count(), 1);
                assert_eq!(store.api_keys(alice.id).await.unwrap().len(), 1);
            }

            /// `last_used_at` moves at most once per interval, also under 30
            /// concurrent touches; a missing key is not touched.
            async fn an_api_keys_last_use_is_written_once_per_interval(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                let key = api_key(alice.id, "deploy", &[], t);
                store.add_api_key(key.clone(), None).await.unwrap();
                let every = Duration::minutes(1);
                let touches = futures::future::join_all((0..30).map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.touch_api_key(key.id, t, every).await.unwrap() })
                }))
                .await;
                assert_eq!(touches.into_iter().filter(|r| *r.as_ref().unwrap()).count(), 1);
                let last = || async { store.api_key_status(key.id).await.unwrap().unwrap().key.last_used_at };
                assert_eq!(last().await, Some(t));
                assert!(!store.touch_api_key(key.id, t + Duration::seconds(59), every).await.unwrap());
                assert_eq!(last().await, Some(t));
                assert!(store.touch_api_key(key.id, t + every, every).await.unwrap());
                assert_eq!(last().await, Some(t + every));
                assert!(!store.touch_api_key(Uuid::now_v7(), t, every).await.unwrap());
            }
        }
    };
}
