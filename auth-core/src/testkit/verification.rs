//! Conformance tests of [`VerificationStore`](crate::store::VerificationStore).

/// The tests of [`VerificationStore`](crate::store::VerificationStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_verification {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// A code is read back as stored, replaced by a new one, and completion marks the
            /// email verified and removes it.
            async fn verification_codes_are_replaced_and_completed(store) {
                let user = store
                    .create_user(new_user("alice", Some("a@example.com")))
                    .await
                    .unwrap();
                assert!(store.verification_code(user.id).await.unwrap().is_none());
                let code = VerificationCode {
                    user_id: user.id,
                    code_hash: vec![9; 32],
                    expires_at: now() + Duration::minutes(15),
                };
                store.put_verification_code(code.clone()).await.unwrap();
                assert_eq!(
                    store.verification_code(user.id).await.unwrap(),
                    Some(code.clone())
                );
                let replacement = VerificationCode {
                    code_hash: vec![7; 32],
                    expires_at: code.expires_at + Duration::minutes(1),
                    ..code.clone()
                };
                store
                    .put_verification_code(replacement.clone())
                    .await
                    .unwrap();
                assert_eq!(
                    store.verification_code(user.id).await.unwrap(),
                    Some(replacement)
                );
                store.complete_verification(user.id).await.unwrap();
                assert!(
                    store
                        .user_by_id(user.id)
                        .await
                        .unwrap()
                        .unwrap()
                        .email_verified
                );
                assert!(store.verification_code(user.id).await.unwrap().is_none());
                assert!(matches!(
                    store
                        .put_verification_code(VerificationCode {
                            user_id: Uuid::new_v4(),
                            ..code
                        })
                        .await,
                    Err(StoreError::NotFound)
                ));
            }

            /// Purge removes expired codes only.
            async fn purge_deletes_expired_codes(store) {
                let t = now();
                let alice = store.create_user(new_user("alice", Some("a@example.com"))).await.unwrap();
                let bob = store.create_user(new_user("bob", Some("b@example.com"))).await.unwrap();
                for (user, expires_at) in [(&alice, t - Duration::seconds(1)), (&bob, t + Duration::minutes(5))] {
                    store
                        .put_verification_code(VerificationCode {
                            user_id: user.id,
                            code_hash: vec![1, 2, 3],
                            expires_at,
                        })
                        .await
                        .unwrap();
                }
                assert_eq!(store.purge_codes(t).await.unwrap(), 1);
                assert!(store.verification_code(alice.id).await.unwrap().is_none());
                assert!(store.verification_code(bob.id).await.unwrap().is_some());
                assert_eq!(store.purge_codes(t).await.unwrap(), 0);
            }
        }
    };
}
