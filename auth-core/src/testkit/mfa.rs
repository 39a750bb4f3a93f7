//! Conformance tests of [`MfaStore`](crate::store::MfaStore).

/// The tests of [`MfaStore`](crate::store::MfaStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_mfa {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// Enrolment is pending until activated, restartable until then and not
            /// after; steps are accepted in increasing order only; recovery codes are
            /// single use; removal clears everything.
            async fn totp_factors_follow_their_lifecycle(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                assert_eq!(store.totp_factor(alice.id).await.unwrap(), None);
                assert!(matches!(store.start_totp(Uuid::new_v4(), &[1]).await, Err(StoreError::NotFound)));
                assert!(store.start_totp(alice.id, &[1, 1]).await.unwrap());
                assert!(store.start_totp(alice.id, &[2, 2]).await.unwrap());
                let pending = store.totp_factor(alice.id).await.unwrap().unwrap();
                assert_eq!((pending.secret.as_slice(), pending.active), (&[2u8, 2][..], false));
                assert!(!store.use_totp_step(alice.id, 100).await.unwrap(), "pending factors accept nothing");
                assert!(store.activate_totp(alice.id, 100, vec![vec![7; 32], vec![8; 32]]).await.unwrap());
                assert!(!store.activate_totp(alice.id, 101, vec![]).await.unwrap());
                assert!(!store.start_totp(alice.id, &[3]).await.unwrap(), "an active factor stays");
                let active = store.totp_factor(alice.id).await.unwrap().unwrap();
                assert_eq!((active.secret.as_slice(), active.active, active.last_step), (&[2u8, 2][..], true, 100));
                assert!(!store.use_totp_step(alice.id, 100).await.unwrap(), "the enrolment step is used");
                assert!(!store.use_totp_step(alice.id, 99).await.unwrap());
                assert!(store.use_totp_step(alice.id, 101).await.unwrap());
                assert!(!store.use_totp_step(alice.id, 101).await.unwrap());
                assert_eq!(store.recovery_codes_left(alice.id).await.unwrap(), 2);
                assert!(store.use_recovery_code(alice.id, &[7; 32]).await.unwrap());
                assert!(!store.use_recovery_code(alice.id, &[7; 32]).await.unwrap());
                assert!(!store.use_recovery_code(alice.id, &[9; 32]).await.unwrap());
                assert_eq!(store.recovery_codes_left(alice.id).await.unwrap(), 1);
                assert!(store.remove_totp(alice.id).await.unwrap());
                assert!(!store.remove_totp(alice.id).await.unwrap());
                assert_eq!(store.totp_factor(alice.id).await.unwrap(), None);
                assert_eq!(store.recovery_codes_left(alice.id).await.unwrap(), 0);
                assert!(!store.use_recovery_code(alice.id, &[8; 32]).await.unwrap());
                // A deleted user's factor goes with the user.
                assert!(store.start_totp(alice.id, &[4]).await.unwrap());
                store.delete_user(alice.id).await.unwrap();
                assert_eq!(store.totp_factor(alice.id).await.unwrap(), None);
            }

            /// 50 concurrent uses of one step, and of one recovery code: exactly one
            /// of each succeeds.
            async fn a_totp_step_and_a_recovery_code_are_used_once_under_concurrency(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                store.start_totp(alice.id, &[1]).await.unwrap();
                store.activate_totp(alice.id, 10, vec![vec![5; 32]]).await.unwrap();
                let steps = futures::future::join_all((0..50).map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.use_totp_step(alice.id, 11).await.unwrap() })
                }))
                .await;
                assert_eq!(steps.into_iter().filter(|r| *r.as_ref().unwrap()).count(), 1);
                let codes = futures::future::join_all((0..50).map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.use_recovery_code(alice.id, &[5; 32]).await.unwrap() })
                }))
                .await;
                assert_eq!(codes.into_iter().filter(|r| *r.as_ref().unwrap()).count(), 1);
            }
        }
    };
}
