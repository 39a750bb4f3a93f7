//! Conformance tests of [`RoleStore`](crate::store::RoleStore).

/// The tests of [`RoleStore`](crate::store::RoleStore) for a harness type.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_conformance_roles {
    ($harness:ty) => {
        $crate::__auth_conformance_tests! {
            $harness;

            /// Roles: the built-in admin, conflicts, grants shown on users, cascading delete.
            async fn roles_are_created_granted_revoked_and_deleted(store) {
                let names = |v: Vec<Role>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();
                assert_eq!(names(store.list_roles().await.unwrap()), ["admin"]);
                let editor = Role {
                    name: role("editor"),
                    description: Some("edits".into()),
                };
                assert_eq!(store.create_role(editor.clone(), None).await.unwrap(), editor);
                assert!(matches!(
                    store.create_role(editor.clone(), None).await,
                    Err(StoreError::RoleExists)
                ));
                assert_eq!(
                    names(store.list_roles().await.unwrap()),
                    ["admin", "editor"]
                );
                let user = store.create_user(new_user("alice", None)).await.unwrap();
                store.grant_role(user.id, &role("editor"), None).await.unwrap();
                store.grant_role(user.id, &role("editor"), None).await.unwrap();
                store.grant_role(user.id, &role("admin"), None).await.unwrap();
                assert_eq!(
                    store.user_by_id(user.id).await.unwrap().unwrap().roles,
                    ["admin", "editor"]
                );
                assert!(matches!(
                    store.grant_role(user.id, &role("nope"), None).await,
                    Err(StoreError::NotFound)
                ));
                assert!(matches!(
                    store.grant_role(Uuid::new_v4(), &role("editor"), None).await,
                    Err(StoreError::NotFound)
                ));
                store.revoke_role(user.id, &role("admin"), None).await.unwrap();
                store.revoke_role(user.id, &role("admin"), None).await.unwrap();
                assert_eq!(
                    store.user_by_id(user.id).await.unwrap().unwrap().roles,
                    ["editor"]
                );
                store.delete_role(&role("editor"), None).await.unwrap();
                assert!(
                    store
                        .user_by_id(user.id)
                        .await
                        .unwrap()
                        .unwrap()
                        .roles
                        .is_empty()
                );
                assert!(matches!(
                    store.delete_role(&role("editor"), None).await,
                    Err(StoreError::NotFound)
                ));
            }
        }
    };
}
