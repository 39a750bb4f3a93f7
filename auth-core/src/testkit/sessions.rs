//! Conformance tests of [`SessionStore`](crate::store::SessionStore).

/// The tests of [`SessionStore`](crate::store::SessionStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_sessions {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// The current counter rotates; the previous one within the grace window is a retry.
            async fn refresh_rotates_then_retries_within_the_grace_window(store) {
                let (user, s) = user_with_session(&*store, "alice").await;
                let t1 = s.created_at + Duration::seconds(60);
                let RefreshOutcome::Rotated { session, roles } = store
                    .refresh_session(refresh_req(s.id, 0, t1))
                    .await
                    .unwrap()
                else {
                    panic!("expected rotation");
                };
                assert_eq!(session.counter, 1);
                assert_eq!(session.last_refreshed_at, t1);
                assert_eq!(session.user_id, user.id);
                assert!(roles.is_empty());
                let retry = store
                    .refresh_session(refresh_req(s.id, 0, t1 + Duration::seconds(10)))
                    .await
                    .unwrap();
                let RefreshOutcome::Retried { session, .. } = retry else {
                    panic!("expected retry, got {retry:?}");
                };
                assert_eq!(session.counter, 1);
                let stored = store.session(s.id).await.unwrap().unwrap();
                assert_eq!((stored.counter, stored.last_refreshed_at), (1, t1));
                assert!(matches!(
                    store
                        .refresh_session(refresh_req(s.id, 1, t1 + Duration::seconds(11)))
                        .await
                        .unwrap(),
                    RefreshOutcome::Rotated { .. }
                ));
            }

            /// Reuse after the grace window revokes all the user's sessions, and it sticks.
            async fn reuse_outside_the_grace_window_revokes_every_session_of_the_user(store) {
                let (user, s) = user_with_session(&*store, "alice").await;
                let sibling = new_session(user.id, now());
                store.create_session(sibling.clone(), 0).await.unwrap();
                let (_, stranger) = user_with_session(&*store, "bob").await;
                let t1 = s.created_at + Duration::seconds(1);
                store
                    .refresh_session(refresh_req(s.id, 0, t1))
                    .await
                    .unwrap();
                let late = t1 + Duration::seconds(10) + Duration::microseconds(1);
                let out = store
                    .refresh_session(refresh_req(s.id, 0, late))
                    .await
                    .unwrap();
                assert_eq!(
                    out,
                    RefreshOutcome::Reused {
                        user_id: user.id,
                        revoked: 2
                    }
                );
                assert!(is_revoked(&*store, s.id).await);
                assert!(is_revoked(&*store, sibling.id).await);
                assert!(!is_revoked(&*store, stranger.id).await);
                // The legitimate holder of counter 1 is now locked out too.
                assert_eq!(
                    store
                        .refresh_session(refresh_req(s.id, 1, late))
                        .await
                        .unwrap(),
                    RefreshOutcome::Rejected
                );
            }

            /// With `RevokeSession`, reuse revokes the session but spares the user's others.
            async fn reuse_with_the_session_policy_revokes_only_that_session(store) {
                let (user, s) = user_with_session(&*store, "alice").await;
                let sibling = new_session(user.id, now());
                store.create_session(sibling.clone(), 0).await.unwrap();
                let t = s.created_at;
                for c in 0..3 {
                    store
                        .refresh_session(refresh_req(s.id, c, t))
                        .await
                        .unwrap();
                }
                // Two behind is reuse even inside the grace window.
                let req = RefreshRequest {
                    reuse_policy: ReusePolicy::RevokeSession,
                    ..refresh_req(s.id, 1, t)
                };
                assert_eq!(
                    store.refresh_session(req).await.unwrap(),
                    RefreshOutcome::Reused {
                        user_id: user.id,
                        revoked: 1
                    }
                );
                assert!(is_revoked(&*store, s.id).await);
                assert!(!is_revoked(&*store, sibling.id).await);
            }

            /// Unknown, revoked, expired and idle sessions, blocked users and counters ahead are
            /// all rejected without changing anything.
            async fn refresh_rejects_dead_sessions_blocked_users_and_future_counters(store) {
                let (user, s) = user_with_session(&*store, "alice").await;
                let t = s.created_at;
                let rejected = |o: RefreshOutcome| assert_eq!(o, RefreshOutcome::Rejected);
                rejected(
                    store
                        .refresh_session(refresh_req(Uuid::new_v4(), 0, t))
                        .await
                        .unwrap(),
                );
                rejected(
                    store
                        .refresh_session(refresh_req(s.id, 1, t))
                        .await
                        .unwrap(),
                );
                rejected(
                    store
                        .refresh_session(refresh_req(s.id, u64::MAX, t))
                        .await
                        .unwrap(),
                );
                rejected(
                    store
                        .refresh_session(refresh_req(s.id, 0, s.expires_at))
                        .await
                        .unwrap(),
                );
                rejected(
                    store
                        .refresh_session(refresh_req(s.id, 0, t + Duration::days(7)))
                        .await
                        .unwrap(),
                );
                assert_eq!(store.session(s.id).await.unwrap().unwrap().counter, 0);
                store
                    .set_user_status(user.id, UserStatus::Blocked, None)
                    .await
                    .unwrap();
                store
                    .set_user_status(user.id, UserStatus::Active, None)
                    .await
                    .unwrap();
                // Blocking revoked it; unblocking does not bring it back.
                rejected(
                    store
                        .refresh_session(refresh_req(s.id, 0, t))
                        .await
                        .unwrap(),
                );
                let fresh = new_session(user.id, t);
                store.create_session(fresh.clone(), 0).await.unwrap();
                store.revoke_session(fresh.id, None, None).await.unwrap();
                rejected(
                    store
                        .refresh_session(refresh_req(fresh.id, 0, t))
                        .await
                        .unwrap(),
                );
            }

            /// 100 concurrent refreshes with the same token: one rotation, 99 retries.
            async fn concurrent_refreshes_of_one_token_rotate_exactly_once(store) {
                let (_, s) = user_with_session(&*store, "alice").await;
                let t = s.created_at + Duration::seconds(1);
                let outcomes = futures::future::join_all((0..100).map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.refresh_session(refresh_req(s.id, 0, t)).await })
                }))
                .await;
                let mut rotated = 0;
                let mut retried = 0;
                for o in outcomes {
                    match o.expect("task").expect("store call") {
                        RefreshOutcome::Rotated { session, .. } => {
                            assert_eq!(session.counter, 1);
                            rotated += 1;
                        }
                        RefreshOutcome::Retried { session, .. } => {
                            assert_eq!(session.counter, 1);
                            retried += 1;
                        }
                        other => panic!("unexpected outcome {other:?}"),
                    }
                }
                assert_eq!((rotated, retried), (1, 99));
                assert_eq!(store.session(s.id).await.unwrap().unwrap().counter, 1);
            }

            /// A refresh with a limit reserves first: every call counts (a rejected one too),
            /// and a refused call changes nothing and says until when.
            async fn refresh_counts_under_its_limit_and_a_refused_one_changes_nothing(store) {
                let (_, s) = user_with_session(&*store, "alice").await;
                let t = s.created_at + Duration::seconds(1);
                let limit = AttemptLimit {
                    max: 2,
                    window: Duration::seconds(60),
                    base_delay: Duration::seconds(60),
                };
                let limited = |session_id, counter, at| RefreshRequest {
                    limit: Some(AttemptKey { key: "refresh:ip:192.0.2.1".into(), limit }),
                    ..refresh_req(session_id, counter, at)
                };
                assert_eq!(
                    store.refresh_session(limited(uuid::Uuid::new_v4(), 0, t)).await.unwrap(),
                    RefreshOutcome::Rejected
                );
                assert!(matches!(
                    store.refresh_session(limited(s.id, 0, t)).await.unwrap(),
                    RefreshOutcome::Rotated { .. }
                ));
                assert_eq!(
                    store.refresh_session(limited(s.id, 1, t)).await.unwrap(),
                    RefreshOutcome::Limited { until: t + Duration::seconds(60) }
                );
                assert_eq!(store.session(s.id).await.unwrap().unwrap().counter, 1);
                // The same key through `reserve_attempt`: one counter.
                assert!(matches!(
                    store.reserve_attempt("refresh:ip:192.0.2.1", limit, t).await.unwrap(),
                    Reservation::Refused { .. }
                ));
                // Another key and no key are not held back.
                let other = RefreshRequest {
                    limit: Some(AttemptKey { key: "refresh:ip:192.0.2.2".into(), limit }),
                    ..refresh_req(s.id, 1, t)
                };
                assert!(matches!(
                    store.refresh_session(other).await.unwrap(),
                    RefreshOutcome::Rotated { .. }
                ));
                assert!(matches!(
                    store.refresh_session(refresh_req(s.id, 2, t)).await.unwrap(),
                    RefreshOutcome::Rotated { .. }
                ));
                // A new window grants again.
                assert!(matches!(
                    store
                        .refresh_session(limited(s.id, 3, t + Duration::seconds(60)))
                        .await
                        .unwrap(),
                    RefreshOutcome::Rotated { .. }
                ));
            }

            /// Of a burst of refreshes of different sessions under one limit, exactly the
            /// limit's number go ahead.
            async fn a_burst_of_limited_refreshes_gets_exactly_the_limit(store) {
                let (user, _) = user_with_session(&*store, "alice").await;
                let t = now();
                let mut sessions = Vec::new();
                for _ in 0..40 {
                    let s = new_session(user.id, t);
                    store.create_session(s.clone(), 0).await.unwrap();
                    sessions.push(s.id);
                }
                let limit = AttemptLimit {
                    max: 7,
                    window: Duration::seconds(60),
                    base_delay: Duration::seconds(60),
                };
                let outcomes = futures::future::join_all(sessions.into_iter().map(|id| {
                    let store = store.clone();
                    let req = RefreshRequest {
                        limit: Some(AttemptKey { key: "refresh:ip:192.0.2.9".into(), limit }),
                        ..refresh_req(id, 0, t + Duration::seconds(1))
                    };
                    tokio::spawn(async move { store.refresh_session(req).await })
                }))
                .await;
                let (mut rotated, mut limited) = (0, 0);
                for o in outcomes {
                    match o.expect("task").expect("store call") {
                        RefreshOutcome::Rotated { .. } => rotated += 1,
                        RefreshOutcome::Limited { .. } => limited += 1,
                        other => panic!("unexpected outcome {other:?}"),
                    }
                }
                assert_eq!((rotated, limited), (7, 33));
            }

            /// `session_status` shows revocation, expiry, the owner's status and current roles.
            async fn session_status_reflects_revocation_and_blocking(store) {
                let (user, s) = user_with_session(&*store, "alice").await;
                let st = store.session_status(s.id).await.unwrap().unwrap();
                assert_eq!(
                    st,
                    SessionStatus {
                        revoked: false,
                        expires_at: s.expires_at,
                        last_refreshed_at: s.last_refreshed_at,
                        user: store.user_by_id(user.id).await.unwrap().unwrap(),
                    }
                );
                store.grant_role(user.id, &role("admin"), None).await.unwrap();
                assert_eq!(
                    store.session_status(s.id).await.unwrap().unwrap().user.roles,
                    ["admin"]
                );
                store
                    .set_user_status(user.id, UserStatus::Blocked, None)
                    .await
                    .unwrap();
                let st = store.session_status(s.id).await.unwrap().unwrap();
                assert!(st.revoked);
                assert_eq!(st.user.status, UserStatus::Blocked);
                assert!(
                    store
                        .session_status(Uuid::new_v4())
                        .await
                        .unwrap()
                        .is_none()
                );
            }

            /// A session is revoked once, and only by its owner when an owner is given.
            async fn sessions_are_revoked_one_by_one_only_by_their_owner(store) {
                let (user, s) = user_with_session(&*store, "alice").await;
                let (other, _) = user_with_session(&*store, "bob").await;
                assert!(!store.revoke_session(s.id, Some(other.id), None).await.unwrap());
                assert!(!is_revoked(&*store, s.id).await);
                assert!(store.revoke_session(s.id, Some(user.id), None).await.unwrap());
                assert!(is_revoked(&*store, s.id).await);
                assert!(!store.revoke_session(s.id, Some(user.id), None).await.unwrap());
                assert!(!store.revoke_session(Uuid::new_v4(), None, None).await.unwrap());
            }

            /// Revoking a user's sessions can keep the caller's own.
            async fn revoking_user_sessions_can_spare_one(store) {
                let (user, keep) = user_with_session(&*store, "alice").await;
                let a = new_session(user.id, now());
                let b = new_session(user.id, now());
                store.create_session(a.clone(), 0).await.unwrap();
                store.create_session(b.clone(), 0).await.unwrap();
                assert_eq!(
                    store
                        .revoke_user_sessions(user.id, Some(keep.id), None)
                        .await
                        .unwrap(),
                    2
                );
                assert!(!is_revoked(&*store, keep.id).await);
                assert!(is_revoked(&*store, a.id).await && is_revoked(&*store, b.id).await);
                assert_eq!(store.revoke_user_sessions(user.id, None, None).await.unwrap(), 1);
                assert!(is_revoked(&*store, keep.id).await);
            }

            /// Listing shows live sessions only, newest first.
            async fn sessions_are_listed_newest_first_without_dead_ones(store) {
                let user = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                let old = new_session(user.id, t - Duration::hours(2));
                let new = new_session(user.id, t - Duration::hours(1));
                let revoked = new_session(user.id, t);
                let mut expired = new_session(user.id, t - Duration::days(40));
                expired.expires_at = t - Duration::days(10);
                for s in [&old, &new, &revoked, &expired] {
                    store.create_session(s.clone(), 0).await.unwrap();
                }
                store.revoke_session(revoked.id, None, None).await.unwrap();
                let ids: Vec<Uuid> = store
                    .list_sessions(user.id, t, Duration::days(7), 100, 0)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| s.id)
                    .collect();
                assert_eq!(ids, [new.id, old.id]);
                let listed = store
                    .list_sessions(user.id, t, Duration::days(7), 100, 0)
                    .await
                    .unwrap();
                assert_eq!(listed[0], new);
                // An idle session is not live either.
                let ids: Vec<Uuid> = store
                    .list_sessions(user.id, t, Duration::minutes(90), 100, 0)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| s.id)
                    .collect();
                assert_eq!(ids, [new.id]);
                assert!(matches!(
                    store
                        .create_session(new_session(Uuid::new_v4(), t), 0)
                        .await,
                    Err(StoreError::NotFound)
                ));
            }

            /// Purge removes revoked, expired and idle sessions only.
            async fn purge_deletes_dead_sessions(store) {
                let user = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                let live = new_session(user.id, t);
                let revoked = new_session(user.id, t);
                let idle = new_session(user.id, t - Duration::days(8));
                let mut expired = new_session(user.id, t - Duration::days(1));
                expired.expires_at = t - Duration::seconds(1);
                for s in [&live, &revoked, &idle, &expired] {
                    store.create_session(s.clone(), 0).await.unwrap();
                }
                store.revoke_session(revoked.id, None, None).await.unwrap();
                assert_eq!(store.purge_sessions(t, Duration::days(7)).await.unwrap(), 3);
                assert!(store.session(live.id).await.unwrap().is_some());
                for dead in [revoked.id, idle.id, expired.id] {
                    assert!(store.session(dead).await.unwrap().is_none());
                }
                assert_eq!(store.purge_sessions(t, Duration::days(7)).await.unwrap(), 0);
            }

            /// A session past the cap revokes the oldest live ones; dead ones do not count.
            async fn sessions_past_the_cap_revoke_the_oldest(store) {
                let user = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                let mut expired = new_session(user.id, t - Duration::days(40));
                expired.expires_at = t - Duration::days(10);
                store.create_session(expired.clone(), 0).await.unwrap();
                let sessions: Vec<Session> = (0..4)
                    .map(|i| new_session(user.id, t + Duration::seconds(i)))
                    .collect();
                for s in &sessions[..3] {
                    assert_eq!(store.create_session(s.clone(), 3).await.unwrap(), 0);
                }
                assert_eq!(
                    store.create_session(sessions[3].clone(), 3).await.unwrap(),
                    1
                );
                assert!(is_revoked(&*store, sessions[0].id).await);
                for s in &sessions[1..] {
                    assert!(!is_revoked(&*store, s.id).await);
                }
                assert!(!is_revoked(&*store, expired.id).await);
                // A lower cap revokes as many as it takes.
                let last = new_session(user.id, t + Duration::seconds(9));
                assert_eq!(store.create_session(last.clone(), 1).await.unwrap(), 3);
                let live = store
                    .list_sessions(user.id, t + Duration::seconds(9), Duration::days(7), 100, 0)
                    .await
                    .unwrap();
                assert_eq!(live.iter().map(|s| s.id).collect::<Vec<_>>(), [last.id]);
            }

            /// 30 concurrent session inserts under a cap of 5 leave exactly 5 live.
            async fn concurrent_logins_never_exceed_the_session_cap(store) {
                let user = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                let results = futures::future::join_all((0..30).map(|i| {
                    let store = store.clone();
                    let s = new_session(user.id, t + Duration::milliseconds(i));
                    tokio::spawn(async move { store.create_session(s, 5).await })
                }))
                .await;
                let revoked: u64 = results
                    .into_iter()
                    .map(|r| r.expect("task").expect("insert"))
                    .sum();
                assert_eq!(revoked, 25);
                let live = store
                    .list_sessions(user.id, t + Duration::seconds(1), Duration::days(7), 100, 0)
                    .await
                    .unwrap();
                assert_eq!(live.len(), 5);
            }

            /// Session lists page with `limit` and `offset`, newest first.
            async fn sessions_are_paged(store) {
                let user = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                let mut ids = Vec::new();
                for i in 0..5 {
                    let s = new_session(user.id, t + Duration::seconds(i));
                    ids.push(s.id);
                    store.create_session(s, 0).await.unwrap();
                }
                ids.reverse();
                let page = |limit, offset| {
                    let store = store.clone();
                    async move {
                        store
                            .list_sessions(
                                user.id,
                                t + Duration::seconds(5),
                                Duration::days(7),
                                limit,
                                offset,
                            )
                            .await
                            .unwrap()
                            .into_iter()
                            .map(|s| s.id)
                            .collect::<Vec<_>>()
                    }
                };
                assert_eq!(page(2, 0).await, ids[..2]);
                assert_eq!(page(2, 2).await, ids[2..4]);
                assert_eq!(page(2, 4).await, ids[4..]);
                assert!(page(2, 5).await.is_empty());
                assert!(page(2, u64::MAX).await.is_empty());
            }

            /// A live session of its own user records its re-authentication; a
            /// revoked, expired or another user's session records nothing.
            async fn reauthentication_is_recorded_on_live_sessions_only(store) {
                let (alice, session) = user_with_session(&*store, "alice").await;
                let (bob, _) = user_with_session(&*store, "bob").await;
                let t = now();
                assert_eq!(store.session(session.id).await.unwrap().unwrap().reauthenticated_at, None);
                assert!(!store.mark_reauthenticated(session.id, bob.id, t).await.unwrap());
                assert!(!store.mark_reauthenticated(Uuid::new_v4(), alice.id, t).await.unwrap());
                assert!(!store.mark_reauthenticated(session.id, alice.id, session.expires_at).await.unwrap());
                assert_eq!(store.session(session.id).await.unwrap().unwrap().reauthenticated_at, None);
                assert!(store.mark_reauthenticated(session.id, alice.id, t).await.unwrap());
                assert_eq!(store.session(session.id).await.unwrap().unwrap().reauthenticated_at, Some(t));
                store.revoke_session(session.id, None, None).await.unwrap();
                assert!(!store.mark_reauthenticated(session.id, alice.id, t + Duration::seconds(1)).await.unwrap());
                assert_eq!(store.session(session.id).await.unwrap().unwrap().reauthenticated_at, Some(t));
            }
        }
    };
}
