//! Conformance tests of [`LoginHistoryStore`](crate::store::LoginHistoryStore).

/// The tests of [`LoginHistoryStore`](crate::store::LoginHistoryStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_history {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// History is newest first, bounded by `limit`, with a `before` cursor.
            async fn login_history_is_newest_first_with_cursor_and_limit(store) {
                let user = store.create_user(new_user("alice", None)).await.unwrap();
                let t = now();
                for i in 0..5 {
                    store
                        .record_login(LoginEvent {
                            user_id: user.id,
                            at: t + Duration::seconds(i),
                            ip: Some("2001:db8::1".parse().unwrap()),
                            user_agent: Some(format!("agent {i}")),
                            success: i % 2 == 0,
                        })
                        .await
                        .unwrap();
                }
                store
                    .record_login(LoginEvent {
                        user_id: Uuid::new_v4(),
                        at: t,
                        ip: None,
                        user_agent: None,
                        success: false,
                    })
                    .await
                    .unwrap();
                let all = store.login_history(user.id, 10, None).await.unwrap();
                let agents: Vec<_> = all.iter().map(|e| e.user_agent.clone().unwrap()).collect();
                assert_eq!(
                    agents,
                    ["agent 4", "agent 3", "agent 2", "agent 1", "agent 0"]
                );
                assert_eq!(all[0].ip, Some("2001:db8::1".parse().unwrap()));
                assert!(all[0].success && !all[1].success);
                let page = store
                    .login_history(user.id, 2, Some(t + Duration::seconds(3)))
                    .await
                    .unwrap();
                assert_eq!(
                    page.iter().map(|e| e.at).collect::<Vec<_>>(),
                    [t + Duration::seconds(2), t + Duration::seconds(1)]
                );
            }
        }
    };
}
