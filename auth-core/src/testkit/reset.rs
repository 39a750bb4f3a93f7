//! Conformance tests of [`ResetStore`](crate::store::ResetStore).

/// The tests of [`ResetStore`](crate::store::ResetStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_reset {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// A token is found by the address ignoring case, replaced by a new request,
            /// and used once: the password changes and every session is revoked.
            async fn reset_tokens_are_replaced_and_used_once(store) {
                let t = now();
                let alice = store.create_user(verified_user("alice", "alice@example.com")).await.unwrap();
                let bob = store.create_user(verified_user("bob", "bob@example.com")).await.unwrap();
                for user in [&alice, &alice, &bob] {
                    store.create_session(new_session(user.id, t), 0).await.unwrap();
                }
                assert_eq!(store.put_reset_token("nobody@example.com", &[1; 32], t + Duration::minutes(30)).await.unwrap(), None);
                let target = store.put_reset_token("Alice@Example.com", &[1; 32], t + Duration::minutes(30)).await.unwrap().unwrap();
                assert_eq!(target, ResetTarget { user_id: alice.id, login: "alice".into(), email: "alice@example.com".into() });
                assert_eq!(store.reset_token_user(&[1; 32], t).await.unwrap(), Some(alice.id));
                // A new request replaces the token.
                store.put_reset_token("alice@example.com", &[2; 32], t + Duration::minutes(30)).await.unwrap().unwrap();
                assert_eq!(store.reset_token_user(&[1; 32], t).await.unwrap(), None);
                assert_eq!(store.consume_reset_token(&[1; 32], t, "$argon2id$old", None).await.unwrap(), None);
                assert_eq!(store.consume_reset_token(&[2; 32], t, "$argon2id$new", None).await.unwrap(), Some((alice.id, 2)));
                assert_eq!(store.password_hash(alice.id).await.unwrap().as_deref(), Some("$argon2id$new"));
                assert_eq!(store.consume_reset_token(&[2; 32], t, "$argon2id$again", None).await.unwrap(), None);
                assert_eq!(store.reset_token_user(&[2; 32], t).await.unwrap(), None);
                let sessions = |user: Uuid| {
                    let store = store.clone();
                    async move { store.list_sessions(user, t, Duration::days(7), 100, 0).await.unwrap().len() }
                };
                assert_eq!(sessions(alice.id).await, 0);
                assert_eq!(sessions(bob.id).await, 1, "another user's sessions stay");
            }

            /// An expired token is refused; purge removes expired tokens only, and a
            /// deleted user's token goes with the user.
            async fn expired_reset_tokens_are_refused_and_purged(store) {
                let t = now();
                let alice = store.create_user(verified_user("alice", "a@example.com")).await.unwrap();
                let bob = store.create_user(verified_user("bob", "b@example.com")).await.unwrap();
                let carol = store.create_user(verified_user("carol", "c@example.com")).await.unwrap();
                store.put_reset_token("a@example.com", &[1; 32], t).await.unwrap();
                store.put_reset_token("b@example.com", &[2; 32], t + Duration::minutes(5)).await.unwrap();
                store.put_reset_token("c@example.com", &[3; 32], t + Duration::minutes(5)).await.unwrap();
                assert_eq!(store.reset_token_user(&[1; 32], t).await.unwrap(), None);
                assert_eq!(store.consume_reset_token(&[1; 32], t, "x", None).await.unwrap(), None);
                assert_eq!(store.reset_token_user(&[2; 32], t + Duration::minutes(5)).await.unwrap(), None);
                store.delete_user(carol.id, None).await.unwrap();
                assert_eq!(store.reset_token_user(&[3; 32], t).await.unwrap(), None);
                assert_eq!(store.purge_reset_tokens(t).await.unwrap(), 1);
                assert_eq!(store.reset_token_user(&[2; 32], t).await.unwrap(), Some(bob.id));
                assert_eq!(store.purge_reset_tokens(t).await.unwrap(), 0);
                let _ = alice;
            }

            /// Only a verified address gets a token, and a token dies with any change
            /// of its account's email, password or status (a re-hash to the same
            /// hash is no change).
            async fn reset_tokens_need_a_verified_address_and_die_with_account_changes(store) {
                let t = now();
                let later = t + Duration::minutes(30);
                store.create_user(new_user("una", Some("una@example.com"))).await.unwrap();
                assert_eq!(store.put_reset_token("una@example.com", &[1; 32], later).await.unwrap(), None);
                let alice = store.create_user(verified_user("alice", "alice@example.com")).await.unwrap();
                let alive = |hash: u8| {
                    let store = store.clone();
                    async move { store.reset_token_user(&[hash; 32], t).await.unwrap().is_some() }
                };
                store.put_reset_token("alice@example.com", &[2; 32], later).await.unwrap().unwrap();
                let same = store.password_hash(alice.id).await.unwrap().unwrap();
                store.set_password_hash(alice.id, &same, None, None).await.unwrap();
                store.update_user(alice.id, UserUpdate { first_name: Some(PersonName::parse("first_name", "Alice").unwrap()), ..Default::default() }, None).await.unwrap();
                assert!(alive(2).await, "no change of credentials");
                store.set_password_hash(alice.id, "$argon2id$changed", None, None).await.unwrap();
                assert!(!alive(2).await, "password change");
                store.put_reset_token("alice@example.com", &[3; 32], later).await.unwrap().unwrap();
                store.update_user(alice.id, UserUpdate { email: Some(Email::parse("alice@example.org").unwrap()), ..Default::default() }, None).await.unwrap();
                assert!(!alive(3).await, "email change");
                store.update_user(alice.id, UserUpdate { email_verified: Some(true), ..Default::default() }, None).await.unwrap();
                store.put_reset_token("alice@example.org", &[4; 32], later).await.unwrap().unwrap();
                store.set_user_status(alice.id, UserStatus::Blocked, None).await.unwrap();
                assert!(!alive(4).await, "block");
                store.set_user_status(alice.id, UserStatus::Active, None).await.unwrap();
                store.put_reset_token("alice@example.org", &[5; 32], later).await.unwrap().unwrap();
                store.start_totp(alice.id, &[1]).await.unwrap();
                assert!(!alive(5).await, "second factor change");
            }

            /// 50 concurrent uses of one token: exactly one succeeds.
            async fn a_reset_token_is_used_once_under_concurrency(store) {
                let t = now();
                let alice = store.create_user(verified_user("alice", "a@example.com")).await.unwrap();
                store.put_reset_token("a@example.com", &[5; 32], t + Duration::minutes(30)).await.unwrap();
                let results = futures::future::join_all((0..50).map(|i| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store.consume_reset_token(&[5; 32], t, &format!("$argon2id${i}"), None).await.unwrap()
                    })
                }))
                .await;
                let winners: Vec<_> = results.into_iter().filter_map(|r| r.unwrap()).collect();
                assert_eq!(winners.len(), 1, "{winners:?}");
                assert_eq!(winners[0].0, alice.id);
            }
        }
    };
}
