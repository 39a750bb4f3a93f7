use serde_json::json;
use tests::*;

on_both! {
    async fn admin_routes_are_forbidden_without_the_admin_role(app) {
        let (id, access, _) = app.signup("alice").await;
        for (method, path) in [
            (Method::GET, "/admin/users".to_owned()),
            (Method::GET, format!("/admin/users/{id}")),
            (Method::POST, format!("/admin/users/{id}/block")),
            (Method::GET, "/admin/roles".to_owned()),
            (Method::DELETE, format!("/admin/users/{id}/sessions")),
        ] {
            app.call(method.clone(), &path, Some(&access), None)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
            app.call(method, &path, None, None)
                .await
                .assert_error(StatusCode::UNAUTHORIZED, "missing_token");
        }
    }

    async fn admins_list_search_get_update_and_delete_users(app) {
        let admin = app.admin_token().await;
        let (alice, alice_token, _) = app.signup("alice").await;
        app.register("bob").await;
        let all = app.get("/admin/users", Some(&admin)).await;
        assert_eq!(all.status, StatusCode::OK);
        assert_eq!(all.json.as_array().unwrap().len(), 3);
        let found = app.get("/admin/users?query=ALI", Some(&admin)).await;
        let logins: Vec<&str> = found.json.as_array().unwrap().iter().map(|u| u["login"].as_str().unwrap()).collect();
        assert_eq!(logins, ["alice"]);
        let page = app.get("/admin/users?limit=1&offset=1", Some(&admin)).await;
        assert_eq!(page.json.as_array().unwrap().len(), 1);
        let one = app.get(&format!("/admin/users/{alice}"), Some(&admin)).await;
        assert_eq!(one.json["login"], "alice");
        let patched = app
            .call(Method::PATCH, &format!("/admin/users/{alice}"), Some(&admin), Some(json!({"email": "a@example.com", "email_verified": true})))
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.json["email_verified"], true);
        let bob = all.json.as_array().unwrap().iter().find(|u| u["login"] == "bob").unwrap()["id"].as_str().unwrap().to_owned();
        app.call(Method::PATCH, &format!("/admin/users/{bob}"), Some(&admin), Some(json!({"email": "A@example.com"})))
            .await
            .assert_error(StatusCode::CONFLICT, "email_taken");
        let ghost = uuid::Uuid::new_v4();
        app.get(&format!("/admin/users/{ghost}"), Some(&admin)).await.assert_error(StatusCode::NOT_FOUND, "not_found");
        app.get("/admin/users/xyz", Some(&admin)).await.assert_error(StatusCode::BAD_REQUEST, "invalid_path");
        let del = app.call(Method::DELETE, &format!("/admin/users/{alice}"), Some(&admin), None).await;
        assert_eq!(del.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/users/me", Some(&alice_token)).await.status, StatusCode::UNAUTHORIZED);
        app.call(Method::DELETE, &format!("/admin/users/{alice}"), Some(&admin), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }

    async fn a_blocked_user_is_rejected_at_once(app) {
        let admin = app.admin_token().await;
        let (alice, token, refresh) = app.signup("alice").await;
        let r = app.call(Method::POST, &format!("/admin/users/{alice}/block"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        app.get("/users/me", Some(&token)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        app.post("/auth/refresh", None, json!({"refresh_token": refresh}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        app.post("/auth/login", None, json!({"login": "alice", "password": PASSWORD}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "account_blocked");
        let u = app.get(&format!("/admin/users/{alice}"), Some(&admin)).await;
        assert_eq!(u.json["status"], "blocked");
        let r = app.call(Method::POST, &format!("/admin/users/{alice}/unblock"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        app.login("alice", PASSWORD).await;
        let ghost = uuid::Uuid::new_v4();
        app.call(Method::POST, &format!("/admin/users/{ghost}/block"), Some(&admin), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }

    async fn admins_list_and_revoke_a_users_sessions(app) {
        let admin = app.admin_token().await;
        let (alice, token, _) = app.signup("alice").await;
        let list = app.get(&format!("/admin/users/{alice}/sessions"), Some(&admin)).await;
        assert_eq!(list.json.as_array().unwrap().len(), 1);
        assert_eq!(list.json[0]["current"], false);
        let r = app.call(Method::DELETE, &format!("/admin/users/{alice}/sessions"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/users/me", Some(&token)).await.status, StatusCode::UNAUTHORIZED);
        let ghost = uuid::Uuid::new_v4();
        app.get(&format!("/admin/users/{ghost}/sessions"), Some(&admin))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }

    async fn roles_are_created_granted_revoked_and_deleted(app) {
        let admin = app.admin_token().await;
        let roles = app.get("/admin/roles", Some(&admin)).await;
        assert_eq!(roles.json[0]["name"], "admin");
        let created = app.post("/admin/roles", Some(&admin), json!({"name": "editor", "description": "Edits"})).await;
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(created.json, json!({"name": "editor", "description": "Edits"}));
        app.post("/admin/roles", Some(&admin), json!({"name": "editor"}))
            .await
            .assert_error(StatusCode::CONFLICT, "role_exists");
        app.post("/admin/roles", Some(&admin), json!({"name": "Bad Name"}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        app.call(Method::DELETE, "/admin/roles/admin", Some(&admin), None)
            .await
            .assert_error(StatusCode::CONFLICT, "protected_role");
        let (alice, token, _) = app.signup("alice").await;
        let grant = app.call(Method::PUT, &format!("/admin/users/{alice}/roles/admin"), Some(&admin), None).await;
        assert_eq!(grant.status, StatusCode::NO_CONTENT);
        // Takes effect on the next request, with the same token.
        assert_eq!(app.get("/admin/roles", Some(&token)).await.status, StatusCode::OK);
        let revoke = app.call(Method::DELETE, &format!("/admin/users/{alice}/roles/admin"), Some(&admin), None).await;
        assert_eq!(revoke.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/admin/roles", Some(&token)).await.status, StatusCode::FORBIDDEN);
        app.call(Method::PUT, &format!("/admin/users/{alice}/roles/nope"), Some(&admin), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        app.call(Method::PUT, &format!("/admin/users/{alice}/roles/editor"), Some(&admin), None).await;
        let del = app.call(Method::DELETE, "/admin/roles/editor", Some(&admin), None).await;
        assert_eq!(del.status, StatusCode::NO_CONTENT);
        let u = app.get(&format!("/admin/users/{alice}"), Some(&admin)).await;
        assert_eq!(u.json["roles"], json!([]));
        app.call(Method::DELETE, "/admin/roles/editor", Some(&admin), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }

    async fn admins_cannot_lock_themselves_out_but_another_admin_can(app) {
        let admin = app.admin_token().await;
        let me = app.get("/users/me", Some(&admin)).await.json["id"].as_str().unwrap().to_owned();
        for (method, path) in [
            (Method::POST, format!("/admin/users/{me}/block")),
            (Method::DELETE, format!("/admin/users/{me}")),
            (Method::DELETE, format!("/admin/users/{me}/roles/admin")),
        ] {
            app.call(method, &path, Some(&admin), None)
                .await
                .assert_error(StatusCode::CONFLICT, "own_account");
        }
        // Nothing changed: still an active admin.
        let still = app.get("/admin/roles", Some(&admin)).await;
        assert_eq!(still.status, StatusCode::OK);
        // Other roles of one's own may go, and a second admin may do what the first may not.
        app.post("/admin/roles", Some(&admin), json!({"name": "editor"})).await;
        app.call(Method::PUT, &format!("/admin/users/{me}/roles/editor"), Some(&admin), None).await;
        let dropped = app.call(Method::DELETE, &format!("/admin/users/{me}/roles/editor"), Some(&admin), None).await;
        assert_eq!(dropped.status, StatusCode::NO_CONTENT);
        let (bob, _, _) = app.signup("bob").await;
        app.call(Method::PUT, &format!("/admin/users/{bob}/roles/admin"), Some(&admin), None).await;
        let bob_token = app.login("bob", tests::PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        let blocked = app.call(Method::POST, &format!("/admin/users/{me}/block"), Some(&bob_token), None).await;
        assert_eq!(blocked.status, StatusCode::NO_CONTENT);
        app.get("/users/me", Some(&admin)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    }

    // Every operation documented as admin-only answers 403 to a signed-in non-admin,
    // before it reads its body; read from the OpenAPI document so new routes are covered.
    async fn every_operation_documented_admin_only_refuses_a_non_admin(app) {
        let (alice, token, _) = app.signup("alice").await;
        let doc = app.get("/openapi.json", None).await.json;
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op["responses"]["403"]["description"] != "Not an admin" {
                    continue;
                }
                let concrete = path
                    .replace("{id}", &alice.to_string())
                    .replace("{key_id}", &alice.to_string())
                    .replace("{name}", "admin")
                    .replace("{code}", "EUR")
                    .replace("{pair}", "USDEUR")
                    .replace("{kid}", "some-kid");
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                app.call(method.clone(), &concrete, Some(&token), Some(json!({})))
                    .await
                    .assert_error(StatusCode::FORBIDDEN, "forbidden");
                checked += 1;
            }
        }
        // 23 admin operations (the rate import, the feed status, the audit log, the
        // three of a user's API keys and the three of the signing keys among them) plus
        // the two exchange deletes.
        assert_eq!(checked, 25);
    }
}
