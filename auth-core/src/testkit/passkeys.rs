//! Conformance tests of [`PasskeyStore`](crate::store::PasskeyStore).

/// The tests of [`PasskeyStore`](crate::store::PasskeyStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_passkeys {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// Passkeys are stored per user with a credential id unique across users,
            /// listed oldest first, renamed and deleted by their owner only, and go
            /// with a deleted user.
            async fn passkeys_follow_their_lifecycle(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let bob = store.create_user(new_user("bob", None)).await.unwrap();
                let t = now();
                let first = passkey(alice.id, &[1, 1], t);
                let second = passkey(alice.id, &[2, 2], t + Duration::seconds(1));
                assert!(store.add_passkey(first.clone(), None, None).await.unwrap());
                assert!(store.add_passkey(second.clone(), None, None).await.unwrap());
                assert!(!store.add_passkey(passkey(bob.id, &[1, 1], t), None, None).await.unwrap(), "one credential, one account");
                assert!(matches!(store.add_passkey(passkey(Uuid::new_v4(), &[3], t), None, None).await, Err(StoreError::NotFound)));
                assert_eq!(store.passkeys(alice.id).await.unwrap(), vec![first.clone(), second.clone()]);
                assert_eq!(store.passkeys(bob.id).await.unwrap(), vec![]);
                assert_eq!(store.passkey_by_credential(&[2, 2]).await.unwrap(), Some(second.clone()));
                assert_eq!(store.passkey_by_credential(&[9]).await.unwrap(), None);
                assert!(!store.rename_passkey(bob.id, first.id, "stolen").await.unwrap());
                assert!(store.rename_passkey(alice.id, first.id, "phone").await.unwrap());
                assert_eq!(store.passkey_by_credential(&[1, 1]).await.unwrap().unwrap().name, "phone");
                assert!(!store.delete_passkey(bob.id, second.id, None, None).await.unwrap());
                assert!(store.delete_passkey(alice.id, second.id, None, None).await.unwrap());
                assert!(!store.delete_passkey(alice.id, second.id, None, None).await.unwrap());
                assert_eq!(store.passkey_by_credential(&[2, 2]).await.unwrap(), None);
                store.delete_user(alice.id, None).await.unwrap();
                assert_eq!(store.passkey_by_credential(&[1, 1]).await.unwrap(), None);
                // A new passkey, and a deleted one, revoke the user's other sessions.
                let (carol, kept) = user_with_session(&*store, "carol").await;
                let other = new_session(carol.id, now());
                store.create_session(other.clone(), 0).await.unwrap();
                assert!(store.add_passkey(passkey(carol.id, &[4], t), Some(kept.id), None).await.unwrap());
                assert!(!is_revoked(&*store, kept.id).await && is_revoked(&*store, other.id).await);
                let third = new_session(carol.id, now());
                store.create_session(third.clone(), 0).await.unwrap();
                assert!(!store.add_passkey(passkey(carol.id, &[4], t), Some(kept.id), None).await.unwrap());
                assert!(!is_revoked(&*store, third.id).await, "a refused passkey revokes nothing");
                let id = store.passkeys(carol.id).await.unwrap()[0].id;
                assert!(store.delete_passkey(carol.id, id, Some(kept.id), None).await.unwrap());
                assert!(!is_revoked(&*store, kept.id).await && is_revoked(&*store, third.id).await);
                assert!(store.add_passkey(passkey(bob.id, &[1, 1], t), None, None).await.unwrap(), "free again");
            }

            /// A use is accepted when the counter went up (or stays 0 on both sides),
            /// by the owner only, and updates what it carries; 30 concurrent uses
            /// with one counter value: exactly one is accepted.
            async fn a_passkey_counter_only_moves_forward_once(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                store.add_passkey(StoredPasskey { counter: 4, ..passkey(alice.id, &[7], t) }, None, None).await.unwrap();
                let use_at = |counter: u32| PasskeyUse {
                    credential_id: vec![7],
                    user_id: alice.id,
                    counter,
                    backup_state: true,
                    credential: Some(vec![42]),
                    at: t + Duration::seconds(5),
                };
                assert!(!store.use_passkey(use_at(4)).await.unwrap(), "same counter: a clone or a replay");
                assert!(!store.use_passkey(use_at(3)).await.unwrap());
                assert!(!store.use_passkey(PasskeyUse { user_id: Uuid::new_v4(), ..use_at(9) }).await.unwrap(), "not the owner");
                let uses = futures::future::join_all((0..30).map(|_| {
                    let store = store.clone();
                    let u = use_at(5);
                    tokio::spawn(async move { store.use_passkey(u).await.unwrap() })
                }))
                .await;
                assert_eq!(uses.into_iter().filter(|r| *r.as_ref().unwrap()).count(), 1);
                let stored = store.passkey_by_credential(&[7]).await.unwrap().unwrap();
                assert_eq!(
                    (stored.counter, stored.backup_state, stored.credential, stored.last_used_at),
                    (5, true, vec![42], Some(t + Duration::seconds(5)))
                );
                // An authenticator without a counter: 0 stays acceptable.
                store.add_passkey(passkey(alice.id, &[8], t), None, None).await.unwrap();
                let zero = PasskeyUse { credential_id: vec![8], credential: None, ..use_at(0) };
                assert!(store.use_passkey(zero.clone()).await.unwrap());
                assert!(store.use_passkey(zero).await.unwrap());
                assert_eq!(store.passkey_by_credential(&[8]).await.unwrap().unwrap().credential, vec![0xc0], "kept");
            }

            /// A ceremony is taken once, by its own kind, before it expires; 30
            /// concurrent takes: exactly one gets it.
            async fn a_ceremony_is_taken_once(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                let ceremony = |kind, ttl: i64| Ceremony {
                    id: Uuid::new_v4(),
                    kind,
                    user_id: Some(alice.id),
                    state: vec![1, 2, 3],
                    expires_at: t + Duration::seconds(ttl),
                };
                let reg = ceremony(CeremonyKind::Registration, 60);
                store.put_ceremony(reg.clone(), t).await.unwrap();
                assert_eq!(store.take_ceremony(reg.id, CeremonyKind::Passwordless, t).await.unwrap(), None, "another kind");
                assert_eq!(store.take_ceremony(reg.id, CeremonyKind::Registration, t).await.unwrap(), Some(reg.clone()));
                assert_eq!(store.take_ceremony(reg.id, CeremonyKind::Registration, t).await.unwrap(), None);
                let old = ceremony(CeremonyKind::SecondFactor, 60);
                store.put_ceremony(old.clone(), t).await.unwrap();
                assert_eq!(store.take_ceremony(old.id, CeremonyKind::SecondFactor, t + Duration::seconds(60)).await.unwrap(), None, "expired");
                let anonymous = Ceremony { user_id: None, ..ceremony(CeremonyKind::Passwordless, 60) };
                store.put_ceremony(anonymous.clone(), t).await.unwrap();
                assert!(matches!(
                    store.put_ceremony(Ceremony { user_id: Some(Uuid::new_v4()), ..ceremony(CeremonyKind::Registration, 60) }, t).await,
                    Err(StoreError::NotFound)
                ));
                let takes = futures::future::join_all((0..30).map(|_| {
                    let store = store.clone();
                    let id = anonymous.id;
                    tokio::spawn(async move { store.take_ceremony(id, CeremonyKind::Passwordless, t).await.unwrap() })
                }))
                .await;
                assert_eq!(takes.into_iter().filter(|r| r.as_ref().unwrap().is_some()).count(), 1);
                // A deleted user's ceremonies go with the user.
                let pending = ceremony(CeremonyKind::Registration, 60);
                store.put_ceremony(pending.clone(), t).await.unwrap();
                store.delete_user(alice.id, None).await.unwrap();
                assert_eq!(store.take_ceremony(pending.id, CeremonyKind::Registration, t).await.unwrap(), None);
            }

            /// A passkey completes an MFA challenge in one call with its use: a counter
            /// that did not go up uses up neither; a good one uses up both.
            async fn a_passkey_proof_and_its_challenge_are_used_together(store) {
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                store.add_passkey(StoredPasskey { counter: 3, ..passkey(alice.id, &[5], t) }, None, None).await.unwrap();
                store.put_mfa_challenge(alice.id, &[9; 32], t + Duration::minutes(5)).await.unwrap();
                let proof = |counter| FactorProof::Passkey(PasskeyUse {
                    credential_id: vec![5],
                    user_id: alice.id,
                    counter,
                    backup_state: false,
                    credential: None,
                    at: t,
                });
                assert_eq!(
                    store.complete_mfa_challenge(alice.id, &[9; 32], t, proof(3)).await.unwrap(),
                    ChallengeOutcome::WrongCode
                );
                assert_eq!(store.passkey_by_credential(&[5]).await.unwrap().unwrap().last_used_at, None);
                assert!(matches!(
                    store.complete_mfa_challenge(alice.id, &[9; 32], t, proof(4)).await.unwrap(),
                    ChallengeOutcome::Completed(u) if u.id == alice.id
                ));
                assert_eq!(store.passkey_by_credential(&[5]).await.unwrap().unwrap().counter, 4);
                assert_eq!(
                    store.complete_mfa_challenge(alice.id, &[9; 32], t, proof(5)).await.unwrap(),
                    ChallengeOutcome::Invalid
                );
                assert_eq!(store.passkey_by_credential(&[5]).await.unwrap().unwrap().counter, 4, "nothing used");
            }
        }
    };
}
