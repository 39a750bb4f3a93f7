//! The audit log over HTTP: an administrator's action with who and from where, a
//! failed login without its password, API keys, queried by user, kind and time.

use axum::http::Method;
use serde_json::{Value, json};
use tests::*;

fn list(reply: Reply) -> Vec<Value> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json.as_array().unwrap().clone()
}

on_both! {
    async fn an_administrators_action_shows_with_the_admin_and_the_address(app) {
        let admin = app.admin_token().await;
        let admin_id = app.get("/users/me", Some(&admin)).await.json["id"].as_str().unwrap().to_owned();
        let (alice, _, _) = app.signup("alice").await;
        let blocked = app.call(Method::POST, &format!("/admin/users/{alice}/block"), Some(&admin), None).await;
        assert_eq!(blocked.status, StatusCode::NO_CONTENT);
        let events = list(app.get(&format!("/admin/audit?user={alice}&kind=user_blocked"), Some(&admin)).await);
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!((e["kind"].as_str(), e["actor"].as_str()), (Some("user_blocked"), Some("user")));
        assert_eq!(e["actor_user_id"].as_str(), Some(admin_id.as_str()));
        assert_eq!(e["target_user_id"].as_str(), Some(alice.as_str()));
        assert_eq!(e["ip"].as_str(), Some("127.0.0.1"));
        assert_eq!(e["success"], true);
        // Time window and kinds.
        let at = e["at"].as_str().unwrap();
        let encoded = at.replace('+', "%2B");
        assert!(list(app.get(&format!("/admin/audit?user={alice}&until={encoded}"), Some(&admin)).await)
            .iter()
            .all(|e| e["kind"] != "user_blocked"));
        assert_eq!(list(app.get(&format!("/admin/audit?user={alice}&from={encoded}&kind=user_blocked,user_unblocked"), Some(&admin)).await).len(), 1);
        app.get("/admin/audit?kind=nonsense", Some(&admin)).await.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let (_, token, _) = app.signup("bob").await;
        app.get("/admin/audit", Some(&token)).await.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }

    async fn an_administrators_profile_edit_and_role_changes_are_recorded(app) {
        let admin = app.admin_token().await;
        let (alice, _, _) = app.signup("alice").await;
        let edited = app.call(Method::PATCH, &format!("/admin/users/{alice}"), Some(&admin), Some(json!({"email": "alice@example.com", "email_verified": true}))).await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
        let events = list(app.get(&format!("/admin/audit?user={alice}&kind=user_updated"), Some(&admin)).await);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["detail"].as_str(), Some("email,email_verified"));
        assert!(!events[0].to_string().contains("alice@example.com"), "the fields, not their values");
        assert_eq!(app.post("/admin/roles", Some(&admin), json!({"name": "editor"})).await.status, StatusCode::CREATED);
        assert_eq!(app.call(Method::DELETE, "/admin/roles/editor", Some(&admin), None).await.status, StatusCode::NO_CONTENT);
        let roles = list(app.get("/admin/audit?kind=role_created,role_deleted", Some(&admin)).await);
        let seen: Vec<(&str, &str)> = roles.iter().map(|e| (e["kind"].as_str().unwrap(), e["detail"].as_str().unwrap())).collect();
        assert_eq!(seen, [("role_deleted", "editor"), ("role_created", "editor")]);
    }

    async fn a_failed_login_is_recorded_without_the_password(app) {
        let admin = app.admin_token().await;
        let (alice, _, _) = app.signup("alice").await;
        let wrong = "Wr0ng-guess-42!";
        let r = app.post("/auth/login", None, json!({"login": "alice", "password": wrong})).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
        let reply = app.get(&format!("/admin/audit?user={alice}&kind=login_failed"), Some(&admin)).await;
        assert!(!reply.text.contains(wrong), "the password is never recorded");
        let events = list(reply);
        assert_eq!(events.len(), 1);
        assert_eq!((events[0]["actor"].as_str(), events[0]["success"].as_bool()), (Some("anonymous"), Some(false)));
        // The login history is the same record.
        let logins = app.login("alice", PASSWORD).await;
        let history = list(app.get("/users/me/logins", logins["access_token"].as_str()).await);
        assert_eq!(history.iter().map(|e| e["success"].as_bool().unwrap()).collect::<Vec<_>>(), [true, false, true]);
    }

    async fn audit_pages_follow_the_before_cursor(app) {
        let admin = app.admin_token().await;
        let (alice, _, _) = app.signup("alice").await;
        for _ in 0..3 {
            app.post("/auth/login", None, json!({"login": "alice", "password": "Wr0ng-guess-42!"})).await;
        }
        let all = list(app.get(&format!("/admin/audit?user={alice}"), Some(&admin)).await);
        assert_eq!(all.len(), 4, "a sign-up's login and three failures");
        let first = list(app.get(&format!("/admin/audit?user={alice}&limit=2"), Some(&admin)).await);
        let cursor = first[1]["id"].as_str().unwrap();
        let next = list(app.get(&format!("/admin/audit?user={alice}&limit=2&before={cursor}"), Some(&admin)).await);
        let ids = |v: &[Value]| v.iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
        assert_eq!([ids(&first), ids(&next)].concat(), ids(&all));
    }
}
