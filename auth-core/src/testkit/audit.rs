//! Conformance tests of [`AuditStore`](crate::store::AuditStore), and of the audit
//! events that changes write in their own transaction.

/// The tests of [`AuditStore`](crate::store::AuditStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_audit {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// Events come newest first, filtered by user (target or acting user), kind
            /// and time, paged with a cursor; the retention purge removes older ones.
            async fn the_audit_log_is_queried_by_user_kind_and_time(store) {
                let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
                let t = now();
                let at = |i: i64| t + Duration::seconds(i);
                let events = [
                    audit_event(AuditKind::LoginFailed, Actor::Anonymous, alice, at(0)),
                    audit_event(AuditKind::UserBlocked, Actor::User(bob), alice, at(1)),
                    audit_event(AuditKind::RoleGranted, Actor::System, bob, at(2)),
                    audit_event(AuditKind::ApiKeyCreated, Actor::ApiKey { user: bob, key: alice }, bob, at(3)),
                    audit_event(AuditKind::LoginSucceeded, Actor::Anonymous, alice, at(4)),
                ];
                for e in &events {
                    store.record_audit(e.clone()).await.unwrap();
                }
                let ids = |v: Vec<AuditEvent>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
                let q = |f: fn(&mut AuditQuery)| {
                    let mut q = AuditQuery::default();
                    f(&mut q);
                    q
                };
                let all = store.audit_events(AuditQuery::default()).await.unwrap();
                assert_eq!(all, events.iter().rev().cloned().collect::<Vec<_>>(), "stored whole, newest first");
                let mut by_alice = AuditQuery { user: Some(alice), ..AuditQuery::default() };
                assert_eq!(ids(store.audit_events(by_alice.clone()).await.unwrap()), [events[4].id, events[1].id, events[0].id]);
                by_alice.user = Some(bob);
                assert_eq!(
                    ids(store.audit_events(by_alice).await.unwrap()),
                    [events[3].id, events[2].id, events[1].id],
                    "bob acted on alice, and was the target of the others"
                );
                let logins = AuditQuery { kinds: vec![AuditKind::LoginFailed, AuditKind::LoginSucceeded], ..AuditQuery::default() };
                assert_eq!(ids(store.audit_events(logins).await.unwrap()), [events[4].id, events[0].id]);
                let window = AuditQuery { from: Some(at(1)), until: Some(at(3)), ..AuditQuery::default() };
                assert_eq!(ids(store.audit_events(window).await.unwrap()), [events[2].id, events[1].id]);
                let page = store.audit_events(q(|q| q.limit = 2)).await.unwrap();
                assert_eq!(ids(page.clone()), [events[4].id, events[3].id]);
                let next = AuditQuery { before: Some(page[1].id), limit: 2, ..AuditQuery::default() };
                assert_eq!(ids(store.audit_events(next).await.unwrap()), [events[2].id, events[1].id]);
                let unknown = AuditQuery { before: Some(Uuid::now_v7()), ..AuditQuery::default() };
                assert!(store.audit_events(unknown).await.unwrap().is_empty());
                assert_eq!(store.purge_audit(at(2)).await.unwrap(), 2);
                assert_eq!(ids(store.audit_events(AuditQuery::default()).await.unwrap()), [events[4].id, events[3].id, events[2].id]);
            }

            /// A change given an event writes it with the change, and a change that
            /// fails or does not happen writes none.
            async fn an_audit_event_is_written_with_its_change_and_only_then(store) {
                let admin = store.create_user(new_user("root", None)).await.unwrap();
                let alice = store.create_user(new_user("alice", None)).await.unwrap();
                let editor = role("editor");
                store.create_role(Role { name: editor.clone(), description: None }, None).await.unwrap();
                let ev = |kind| audit_event(kind, Actor::User(admin.id), alice.id, now());
                let missing = Uuid::now_v7();
                let count = || async {
                    store.audit_events(AuditQuery { user: Some(alice.id), ..AuditQuery::default() }).await.unwrap().len()
                };
                // Refused changes: nothing recorded.
                assert!(store.set_user_status(missing, UserStatus::Blocked, Some(audit_event(AuditKind::UserBlocked, Actor::User(admin.id), alice.id, now()))).await.is_err());
                assert!(store.grant_role(alice.id, &role("ghost"), Some(ev(AuditKind::RoleGranted))).await.is_err());
                assert!(store.revoke_role(alice.id, &role("ghost"), Some(ev(AuditKind::RoleRevoked))).await.is_err());
                assert!(store.delete_user(missing, Some(ev(AuditKind::UserDeleted))).await.is_err());
                let key = api_key(alice.id, "ci", &[], now());
                assert!(store.add_api_key(key.clone(), None).await.unwrap());
                assert!(!store.add_api_key(api_key(alice.id, "ci", &[], now()), Some(ev(AuditKind::ApiKeyCreated))).await.unwrap());
                assert!(!store.revoke_api_key(alice.id, Uuid::now_v7(), Some(ev(AuditKind::ApiKeyRevoked))).await.unwrap());
                assert!(store.set_password_hash(missing, "h", None, Some(ev(AuditKind::PasswordChanged))).await.is_err());
                assert!(!store.revoke_session(Uuid::new_v4(), Some(alice.id), Some(ev(AuditKind::Logout))).await.unwrap());
                assert!(!store.delete_passkey(alice.id, Uuid::new_v4(), None, Some(ev(AuditKind::PasskeyRemoved))).await.unwrap());
                assert!(!store.remove_totp(alice.id, None, Some(ev(AuditKind::MfaDisabled))).await.unwrap());
                assert!(store.update_user(missing, UserUpdate::default(), Some(ev(AuditKind::UserUpdated))).await.is_err());
                let taken = UserUpdate { email: Some(Email::parse("root@example.com").unwrap()), ..UserUpdate::default() };
                store.update_user(admin.id, taken.clone(), None).await.unwrap();
                assert!(store.update_user(alice.id, taken, Some(ev(AuditKind::UserUpdated))).await.is_err(), "email taken");
                assert!(store.create_role(Role { name: editor.clone(), description: None }, Some(ev(AuditKind::RoleCreated))).await.is_err());
                assert!(store.delete_role(&role("ghost"), Some(ev(AuditKind::RoleDeleted))).await.is_err());
                assert_eq!(count().await, 0, "no event for a change that did not happen");
                let session = new_session(alice.id, now());
                store.create_session(session.clone(), 0).await.unwrap();
                let pk = passkey(alice.id, &[9, 9], now());
                let early = [
                    ev(AuditKind::PasswordChanged),
                    ev(AuditKind::Logout),
                    ev(AuditKind::PasskeyAdded),
                    ev(AuditKind::PasskeyRemoved),
                ];
                store.set_password_hash(alice.id, "h", None, Some(early[0].clone())).await.unwrap();
                assert!(store.revoke_session(session.id, Some(alice.id), Some(early[1].clone())).await.unwrap());
                assert!(store.add_passkey(pk.clone(), None, Some(early[2].clone())).await.unwrap());
                assert!(!store.add_passkey(pk.clone(), None, Some(ev(AuditKind::PasskeyAdded))).await.unwrap(), "registered already");
                assert!(store.delete_passkey(alice.id, pk.id, None, Some(early[3].clone())).await.unwrap());
                // Changes made: each with its event.
                let made = [
                    ev(AuditKind::RoleGranted),
                    ev(AuditKind::RoleRevoked),
                    ev(AuditKind::UserBlocked),
                    ev(AuditKind::SessionsRevoked),
                    ev(AuditKind::ApiKeyRevoked),
                    ev(AuditKind::ApiKeyCreated),
                    ev(AuditKind::UserUpdated),
                    ev(AuditKind::RoleCreated),
                    ev(AuditKind::RoleDeleted),
                    ev(AuditKind::UserDeleted),
                ];
                store.grant_role(alice.id, &editor, Some(made[0].clone())).await.unwrap();
                store.revoke_role(alice.id, &editor, Some(made[1].clone())).await.unwrap();
                store.set_user_status(alice.id, UserStatus::Blocked, Some(made[2].clone())).await.unwrap();
                store.revoke_user_sessions(alice.id, None, Some(made[3].clone())).await.unwrap();
                assert!(store.revoke_api_key(alice.id, key.id, Some(made[4].clone())).await.unwrap());
                assert!(store.add_api_key(api_key(alice.id, "deploy", &[], now()), Some(made[5].clone())).await.unwrap());
                let names = UserUpdate { first_name: Some(PersonName::parse("first_name", "Alice").unwrap()), ..UserUpdate::default() };
                store.update_user(alice.id, names, Some(made[6].clone())).await.unwrap();
                store.create_role(Role { name: role("viewer"), description: None }, Some(made[7].clone())).await.unwrap();
                store.delete_role(&role("viewer"), Some(made[8].clone())).await.unwrap();
                store.delete_user(alice.id, Some(made[9].clone())).await.unwrap();
                let mut recorded = store.audit_events(AuditQuery { user: Some(alice.id), ..AuditQuery::default() }).await.unwrap();
                recorded.sort_by_key(|e| e.id);
                assert_eq!(recorded, [early.to_vec(), made.to_vec()].concat(), "every change's event, kept after the account is gone");
            }
        }
    };
}
