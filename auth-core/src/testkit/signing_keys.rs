//! Conformance tests of [`SigningKeyStore`](crate::store::SigningKeyStore).

/// The tests of [`SigningKeyStore`](crate::store::SigningKeyStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_signing_keys {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// The set is stored as given, replaced whole, only from the generation it
            /// was read at, and never with two current keys or a kid twice; the audit
            /// event is written with the change, and not without it.
            async fn signing_keys_are_replaced_by_generation(store) {
                let empty = store.signing_keys().await.unwrap();
                assert_eq!(empty, SigningKeys::default());
                let t = now();
                let first = vec![
                    signing_key("a", SigningKeyState::Current, t),
                    signing_key("b", SigningKeyState::Next, t),
                ];
                let event = |kind| AuditEvent { target: None, detail: Some("b".into()), ..audit_event(kind, Actor::System, Uuid::nil(), t) };
                assert_eq!(store.replace_signing_keys(0, first.clone(), None).await.unwrap(), Some(1));
                let read = store.signing_keys().await.unwrap();
                assert_eq!(read.generation, 1);
                assert_eq!(sorted(read.keys), first);
                let stale = vec![signing_key("c", SigningKeyState::Current, t)];
                assert_eq!(store.replace_signing_keys(0, stale, Some(event(AuditKind::SigningKeyRotated))).await.unwrap(), None, "read at an old generation");
                let second = vec![
                    StoredSigningKey { retire_after: Some(t + Duration::minutes(20)), ..signing_key("a", SigningKeyState::Retired, t) },
                    StoredSigningKey { activated_at: Some(t), ..signing_key("b", SigningKeyState::Current, t) },
                    signing_key("c", SigningKeyState::Next, t + Duration::seconds(1)),
                ];
                assert_eq!(store.replace_signing_keys(1, second.clone(), Some(event(AuditKind::SigningKeyRotated))).await.unwrap(), Some(2));
                let read = store.signing_keys().await.unwrap();
                assert_eq!((read.generation, sorted(read.keys.clone())), (2, second.clone()));
                assert_eq!(read.current().map(|k| k.kid.as_str()), Some("b"));
                let two_current = vec![signing_key("x", SigningKeyState::Current, t), signing_key("y", SigningKeyState::Current, t)];
                assert!(store.replace_signing_keys(2, two_current, None).await.is_err());
                let twice = vec![signing_key("x", SigningKeyState::Next, t), signing_key("x", SigningKeyState::Retired, t)];
                assert!(store.replace_signing_keys(2, twice, None).await.is_err());
                assert_eq!(store.signing_keys().await.unwrap().keys.len(), 3, "a refused set writes nothing");
                assert_eq!(store.replace_signing_keys(2, vec![], None).await.unwrap(), Some(3), "a set may be emptied");
                assert_eq!(store.signing_keys().await.unwrap(), SigningKeys { generation: 3, keys: vec![] });
                let log = store.audit_events(AuditQuery::default()).await.unwrap();
                assert_eq!(log.iter().filter(|e| e.kind == AuditKind::SigningKeyRotated).count(), 1, "the stale write wrote no event");
            }

            /// A store that gives a change receiver marks every write on it (the
            /// service then reads the keys at once, not at its next poll).
            async fn a_write_of_the_signing_keys_is_a_change(store) {
                let Some(mut changes) = store.signing_key_changes().await.unwrap() else {
                    return;
                };
                changes.borrow_and_update();
                store.replace_signing_keys(0, vec![signing_key("a", SigningKeyState::Current, now())], None).await.unwrap();
                tokio::time::timeout(std::time::Duration::from_secs(10), changes.changed())
                    .await
                    .expect("the write is marked within 10 s")
                    .expect("the store is alive");
            }

            /// 20 writers that read the same generation and each make their own key
            /// current: exactly one writes, and the set keeps one current key.
            async fn one_of_concurrent_rotations_writes(store) {
                let t = now();
                store.replace_signing_keys(0, vec![signing_key("old", SigningKeyState::Current, t)], None).await.unwrap();
                let start = Arc::new(tokio::sync::Barrier::new(20));
                let writes = futures::future::join_all((0..20).map(|i| {
                    let (store, start) = (store.clone(), start.clone());
                    tokio::spawn(async move {
                        let read = store.signing_keys().await.unwrap();
                        start.wait().await;
                        let mut keys: Vec<StoredSigningKey> = read.keys.into_iter().map(|k| StoredSigningKey { state: SigningKeyState::Retired, ..k }).collect();
                        keys.push(signing_key(&format!("k{i}"), SigningKeyState::Current, t));
                        store.replace_signing_keys(read.generation, keys, None).await.unwrap()
                    })
                }))
                .await;
                let written: Vec<i64> = writes.into_iter().filter_map(|w| w.unwrap()).collect();
                assert_eq!(written, vec![2]);
                let read = store.signing_keys().await.unwrap();
                assert_eq!(read.generation, 2);
                assert_eq!(read.keys.iter().filter(|k| k.state == SigningKeyState::Current).count(), 1);
                assert_eq!(read.keys.len(), 2);
            }
        }
    };
}
