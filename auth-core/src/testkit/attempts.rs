//! Conformance tests of [`AttemptStore`](crate::store::AttemptStore).

/// The tests of [`AttemptStore`](crate::store::AttemptStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_attempts {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// `max` attempts are granted, then the key refuses until the lock after the last
            /// one has passed; each attempt granted past the limit doubles the lock.
            async fn attempts_are_granted_up_to_the_limit_then_locked_with_doubling(store) {
                let t = now();
                let s = |n: i64| t + Duration::seconds(n);
                for i in 1..=3 {
                    assert_eq!(
                        reserve(&*store, "login:alice", 3, s(i64::from(i))).await,
                        Reservation::Granted { count: i }
                    );
                }
                // Locked for 30 s after the third attempt; a refusal changes nothing.
                assert_eq!(
                    reserve(&*store, "login:alice", 3, s(4)).await,
                    Reservation::Refused { until: s(33) }
                );
                assert_eq!(
                    reserve(&*store, "login:alice", 3, s(32)).await,
                    Reservation::Refused { until: s(33) }
                );
                // Other keys are independent.
                assert_eq!(
                    reserve(&*store, "login:bob", 3, s(5)).await,
                    Reservation::Granted { count: 1 }
                );
                assert_eq!(
                    reserve(&*store, "login:alice", 3, s(33)).await,
                    Reservation::Granted { count: 4 }
                );
                // Then 60 s, then 120 s.
                assert_eq!(
                    reserve(&*store, "login:alice", 3, s(34)).await,
                    Reservation::Refused { until: s(93) }
                );
                assert_eq!(
                    reserve(&*store, "login:alice", 3, s(93)).await,
                    Reservation::Granted { count: 5 }
                );
                assert_eq!(
                    reserve(&*store, "login:alice", 3, s(94)).await,
                    Reservation::Refused { until: s(213) }
                );
                // A lock never outlasts the window (which began at s(1)).
                for _ in 0..6 {
                    let at = match reserve(&*store, "login:alice", 3, s(213)).await {
                        Reservation::Granted { .. } => continue,
                        Reservation::Refused { until } => until,
                    };
                    assert!(at <= s(1) + Duration::minutes(15));
                }
            }

            /// A window that has passed restarts the count; a released attempt no longer
            /// counts; a cleared key starts afresh; purge drops counters idle since a time.
            async fn attempts_restart_after_the_window_and_can_be_released_or_cleared(store) {
                let t = now();
                for _ in 0..2 {
                    reserve(&*store, "ip:192.0.2.1", 2, t).await;
                }
                assert!(matches!(
                    reserve(&*store, "ip:192.0.2.1", 2, t).await,
                    Reservation::Refused { .. }
                ));
                // Given back, the attempt can be made again at once.
                store.release_attempt("ip:192.0.2.1").await.unwrap();
                assert_eq!(
                    reserve(&*store, "ip:192.0.2.1", 2, t).await,
                    Reservation::Granted { count: 2 }
                );
                store.clear_attempts("ip:192.0.2.1").await.unwrap();
                assert_eq!(
                    reserve(&*store, "ip:192.0.2.1", 2, t).await,
                    Reservation::Granted { count: 1 }
                );
                reserve(&*store, "ip:192.0.2.1", 2, t).await;
                // A fixed-window rate limit: locked until the window ends, then it restarts.
                let hour = AttemptLimit {
                    max: 1,
                    window: Duration::hours(1),
                    base_delay: Duration::hours(1),
                };
                let first = store.reserve_attempt("email:1", hour, t).await.unwrap();
                assert_eq!(first, Reservation::Granted { count: 1 });
                assert_eq!(
                    store
                        .reserve_attempt("email:1", hour, t + Duration::minutes(10))
                        .await
                        .unwrap(),
                    Reservation::Refused {
                        until: t + Duration::hours(1)
                    }
                );
                let later = t + Duration::hours(1);
                assert_eq!(
                    store.reserve_attempt("email:1", hour, later).await.unwrap(),
                    Reservation::Granted { count: 1 }
                );
                // Releasing a key that does not exist, or below zero, is harmless.
                store.release_attempt("nobody").await.unwrap();
                store.release_attempt("email:1").await.unwrap();
                store.release_attempt("email:1").await.unwrap();
                assert_eq!(
                    store.reserve_attempt("email:1", hour, later).await.unwrap(),
                    Reservation::Granted { count: 1 }
                );
                // Purge: "ip:192.0.2.1" was last used at t, "email:1" at `later`.
                assert_eq!(store.purge_attempts(t).await.unwrap(), 1);
                assert_eq!(
                    reserve(&*store, "ip:192.0.2.1", 2, t).await,
                    Reservation::Granted { count: 1 }
                );
                assert!(matches!(
                    store.reserve_attempt("email:1", hour, later).await.unwrap(),
                    Reservation::Refused { .. }
                ));
            }

            /// 100 concurrent reservations under a limit of 5 grant exactly 5.
            async fn concurrent_reservations_never_exceed_the_limit(store) {
                let t = now();
                let results = futures::future::join_all((0..100).map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.reserve_attempt("login:target", limit(5), t).await })
                }))
                .await;
                let mut granted: Vec<u32> = results
                    .into_iter()
                    .filter_map(|r| match r.expect("task").expect("reserve") {
                        Reservation::Granted { count } => Some(count),
                        Reservation::Refused { .. } => None,
                    })
                    .collect();
                granted.sort_unstable();
                assert_eq!(granted, [1, 2, 3, 4, 5]);
            }
        }
    };
}
