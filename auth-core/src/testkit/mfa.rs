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
                assert!(!store.activate_totp(alice.id, &[1, 1], 100, vec![], None, None).await.unwrap(), "replaced secret");
                assert!(store.activate_totp(alice.id, &[2, 2], 100, vec![vec![7; 32], vec![8; 32]], None, None).await.unwrap());
                assert!(!store.activate_totp(alice.id, &[2, 2], 101, vec![], None, None).await.unwrap());
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
                assert!(store.remove_totp(alice.id, None, None).await.unwrap());
                assert!(!store.remove_totp(alice.id, None, None).await.unwrap());
                assert_eq!(store.totp_factor(alice.id).await.unwrap(), None);
                assert_eq!(store.recovery_codes_left(alice.id).await.unwrap(), 0);
                assert!(!store.use_recovery_code(alice.id, &[8; 32]).await.unwrap());
                // A deleted user's factor goes with the user.
                assert!(store.start_totp(alice.id, &[4]).await.unwrap());
                store.delete_user(alice.id, None).await.unwrap();
                assert_eq!(store.totp_factor(alice.id).await.unwrap(), None);
            }

            /// 50 concurrent uses of one step, and of one recovery code: exactly one
            /// of each succeeds.
            async fn a_totp_step_and_a_recovery_code_are_used_once_under_concurrency(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                store.start_totp(alice.id, &[1]).await.unwrap();
                store.activate_totp(alice.id, &[1], 10, vec![vec![5; 32]], None, None).await.unwrap();
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

            /// Activation and removal revoke every other session of the user; the one
            /// kept and other users' sessions stay.
            async fn activating_or_removing_a_factor_revokes_the_other_sessions(store) {
                let (alice, keep) = user_with_session(&*store, "alice").await;
                let other = new_session(alice.id, now());
                store.create_session(other.clone(), 0).await.unwrap();
                let (_, bobs) = user_with_session(&*store, "bob").await;
                store.start_totp(alice.id, &[1]).await.unwrap();
                assert!(!is_revoked(&*store, other.id).await, "starting revokes nothing");
                assert!(store.activate_totp(alice.id, &[1], 10, vec![], Some(keep.id), None).await.unwrap());
                assert!(is_revoked(&*store, other.id).await);
                assert!(!is_revoked(&*store, keep.id).await);
                assert!(!is_revoked(&*store, bobs.id).await);
                let third = new_session(alice.id, now());
                store.create_session(third.clone(), 0).await.unwrap();
                assert!(store.remove_totp(alice.id, Some(keep.id), None).await.unwrap());
                assert!(is_revoked(&*store, third.id).await);
                assert!(!is_revoked(&*store, keep.id).await);
                store.start_totp(alice.id, &[2]).await.unwrap();
                store.activate_totp(alice.id, &[2], 10, vec![], Some(keep.id), None).await.unwrap();
                assert!(store.remove_totp(alice.id, None, None).await.unwrap());
                assert!(is_revoked(&*store, keep.id).await, "no session kept");
            }

            /// A challenge completes once; its checks run in order (challenge, status,
            /// code) and a refused completion uses up nothing.
            async fn mfa_challenges_complete_once_and_refusals_use_up_nothing(store) {
                let t = now();
                let later = t + Duration::minutes(5);
                let (alice, _) = user_with_session(&*store, "alice").await;
                let bob = store.create_user(new_user("bob", None)).await.unwrap();
                store.start_totp(alice.id, &[1]).await.unwrap();
                store.activate_totp(alice.id, &[1], 10, vec![vec![5; 32], vec![6; 32]], None, None).await.unwrap();
                assert!(matches!(store.put_mfa_challenge(Uuid::new_v4(), &[1; 32], later).await, Err(StoreError::NotFound)));
                store.put_mfa_challenge(alice.id, &[1; 32], later).await.unwrap();
                let recovery = |b: u8| FactorProof::Recovery { code_hash: vec![b; 32] };
                let totp = |secret: &[u8], step: i64| FactorProof::Totp { secret: secret.to_vec(), step };
                assert_eq!(store.complete_mfa_challenge(bob.id, &[1; 32], t, recovery(5)).await.unwrap(), ChallengeOutcome::Invalid, "another user's");
                assert_eq!(store.complete_mfa_challenge(alice.id, &[2; 32], t, recovery(5)).await.unwrap(), ChallengeOutcome::Invalid, "never issued");
                assert_eq!(store.complete_mfa_challenge(alice.id, &[1; 32], later, recovery(5)).await.unwrap(), ChallengeOutcome::Invalid, "expired");
                assert_eq!(store.complete_mfa_challenge(alice.id, &[1; 32], t, recovery(9)).await.unwrap(), ChallengeOutcome::WrongCode);
                assert_eq!(store.complete_mfa_challenge(alice.id, &[1; 32], t, totp(&[2], 11)).await.unwrap(), ChallengeOutcome::WrongCode, "another secret");
                assert_eq!(store.complete_mfa_challenge(alice.id, &[1; 32], t, totp(&[1], 10)).await.unwrap(), ChallengeOutcome::WrongCode, "a used step");
                match store.complete_mfa_challenge(alice.id, &[1; 32], t, totp(&[1], 11)).await.unwrap() {
                    ChallengeOutcome::Completed(user) => assert_eq!(user.id, alice.id),
                    other => panic!("{other:?}"),
                }
                assert_eq!(store.complete_mfa_challenge(alice.id, &[1; 32], t, totp(&[1], 12)).await.unwrap(), ChallengeOutcome::Invalid, "used");
                assert_eq!(store.totp_factor(alice.id).await.unwrap().unwrap().last_step, 11);
                // Blocked: refused before the code, which stays unused.
                store.put_mfa_challenge(alice.id, &[3; 32], later).await.unwrap();
                store.set_user_status(alice.id, UserStatus::Blocked, None).await.unwrap();
                store.put_mfa_challenge(alice.id, &[4; 32], later).await.unwrap();
                assert_eq!(store.complete_mfa_challenge(alice.id, &[4; 32], t, recovery(5)).await.unwrap(), ChallengeOutcome::Blocked);
                assert_eq!(store.recovery_codes_left(alice.id).await.unwrap(), 2);
                store.set_user_status(alice.id, UserStatus::Active, None).await.unwrap();
                for hash in [3, 4] {
                    assert_eq!(store.complete_mfa_challenge(alice.id, &[hash; 32], t, recovery(5)).await.unwrap(), ChallengeOutcome::Invalid, "a block or an unblock kills challenges");
                }
                assert_eq!(store.recovery_codes_left(alice.id).await.unwrap(), 2);
                // Password, email and factor changes kill them too; purge takes expired ones.
                let changes: [&str; 3] = ["password", "email", "factor"];
                for (i, change) in changes.into_iter().enumerate() {
                    let hash = [10 + i as u8; 32];
                    store.put_mfa_challenge(alice.id, &hash, later).await.unwrap();
                    match change {
                        "password" => { store.set_password_hash(alice.id, "$argon2id$other", None, None).await.unwrap(); }
                        "email" => { store.update_user(alice.id, UserUpdate { email: Some(Email::parse("alice@example.com").unwrap()), ..Default::default() }, None).await.unwrap(); }
                        _ => { store.remove_totp(alice.id, None, None).await.unwrap(); }
                    }
                    assert_eq!(store.complete_mfa_challenge(alice.id, &hash, t, recovery(5)).await.unwrap(), ChallengeOutcome::Invalid, "{change}");
                }
                store.put_mfa_challenge(alice.id, &[20; 32], t).await.unwrap();
                store.put_mfa_challenge(alice.id, &[21; 32], later).await.unwrap();
                assert_eq!(store.purge_mfa_challenges(t).await.unwrap(), 1);
                assert_eq!(store.purge_mfa_challenges(t).await.unwrap(), 0);
            }

            /// 30 concurrent completions of one challenge, each with its own recovery
            /// code: exactly one completes and the others use up no code.
            async fn a_challenge_completes_once_under_concurrency(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                store.start_totp(alice.id, &[1]).await.unwrap();
                let codes: Vec<Vec<u8>> = (0..30u8).map(|i| vec![i; 32]).collect();
                store.activate_totp(alice.id, &[1], 10, codes.clone(), None, None).await.unwrap();
                let t = now();
                store.put_mfa_challenge(alice.id, &[99; 32], t + Duration::minutes(5)).await.unwrap();
                let outcomes = futures::future::join_all(codes.into_iter().map(|code_hash| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store.complete_mfa_challenge(alice.id, &[99; 32], t, FactorProof::Recovery { code_hash }).await.unwrap()
                    })
                }))
                .await;
                let completed = outcomes.iter().filter(|o| matches!(o.as_ref().unwrap(), ChallengeOutcome::Completed(_))).count();
                assert_eq!(completed, 1);
                assert_eq!(store.recovery_codes_left(alice.id).await.unwrap(), 29);
            }

            /// Enrolment racing confirmation: each confirmation either activates the
            /// secret it was checked against or changes nothing, never another one.
            async fn enrolment_racing_confirmation_never_activates_another_secret(store) {
                for round in 0..20u8 {
                    let user = store.create_user(new_user(&format!("user{round}"), None)).await.unwrap();
                    store.start_totp(user.id, &[round, 0]).await.unwrap();
                    let (a, b) = (store.clone(), store.clone());
                    let confirm = tokio::spawn(async move { a.activate_totp(user.id, &[round, 0], 10, vec![], None, None).await.unwrap() });
                    let restart = tokio::spawn(async move { b.start_totp(user.id, &[round, 1]).await.unwrap() });
                    let (confirmed, restarted) = (confirm.await.unwrap(), restart.await.unwrap());
                    let factor = store.totp_factor(user.id).await.unwrap().unwrap();
                    if confirmed {
                        assert!(factor.active && factor.secret == [round, 0], "round {round}");
                        assert!(!restarted, "an active factor is not restarted");
                    } else {
                        assert!(!factor.active && factor.secret == [round, 1], "round {round}");
                    }
                }
            }
        }
    };
}
