use serde_json::json;
use tests::*;

on_both! {
    async fn me_needs_a_token_and_returns_the_user(app) {
        let r = app.get("/users/me", None).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "missing_token");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        let r = app.send(app.request(Method::GET, "/users/me").header("authorization", "Basic abc")).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        let (id, access, _) = app.signup("alice").await;
        let r = app.get("/users/me", Some(&access)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json["id"], id.as_str());
        assert_eq!(r.json["login"], "alice");
    }

    async fn the_profile_is_updated_and_validated(app) {
        let (_, access, _) = app.signup("alice").await;
        app.register("bob").await;
        let change = json!({"first_name": "Alice", "email": "Alice@Example.com"});
        app.call(Method::PATCH, "/users/me", Some(&access), Some(change.clone()))
            .await
            .assert_error(StatusCode::FORBIDDEN, "reauthentication_required");
        assert_eq!(app.get("/users/me", Some(&access)).await.json["first_name"], serde_json::Value::Null, "nothing changed");
        app.reauthenticate(&access).await;
        let r = app.call(Method::PATCH, "/users/me", Some(&access), Some(change)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["first_name"], "Alice");
        assert_eq!(r.json["email"], serde_json::Value::Null, "pending until confirmed");
        let code = app.mailer.last_email_change_code_for("alice@example.com").unwrap();
        app.post("/users/me/email/confirm", Some(&access), json!({"code": "12"}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_verification_code");
        let r = app.post("/users/me/email/confirm", Some(&access), json!({"code": code})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["email"], "alice@example.com");
        assert_eq!(r.json["email_verified"], true);
        assert_eq!(app.get("/users/me", Some(&access)).await.json["email"], "alice@example.com");
        app.call(Method::PATCH, "/users/me", Some(&access), Some(json!({"last_name": "X"})))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let bob = app.login("bob", PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        app.reauthenticate(&bob).await;
        app.call(Method::PATCH, "/users/me", Some(&bob), Some(json!({"email": "alice@example.com"})))
            .await
            .assert_error(StatusCode::CONFLICT, "email_taken");
        app.call(Method::PATCH, "/users/me", None, Some(json!({})))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "missing_token");
        app.post("/users/me/email/confirm", Some(&bob), json!({"code": code}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_verification_code");
    }

    async fn changing_the_password_revokes_every_other_session(app) {
        let (_, phone, _) = app.signup("alice").await;
        let laptop = app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        app.call(Method::PUT, "/users/me/password", Some(&phone), Some(json!({"current_password": "Wr0ng-pass", "new_password": "N3w-passw0rd"})))
            .await
            .assert_error(StatusCode::FORBIDDEN, "wrong_password");
        let weak = app
            .call(Method::PUT, "/users/me/password", Some(&phone), Some(json!({"current_password": PASSWORD, "new_password": "weak"})))
            .await;
        weak.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        assert!(weak.json["message"].as_str().unwrap().contains("8 to 128"));
        let ok = app
            .call(Method::PUT, "/users/me/password", Some(&phone), Some(json!({"current_password": PASSWORD, "new_password": "N3w-passw0rd"})))
            .await;
        assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
        assert_eq!(app.get("/users/me", Some(&phone)).await.status, StatusCode::OK);
        assert_eq!(app.get("/users/me", Some(&laptop)).await.status, StatusCode::UNAUTHORIZED);
        app.post("/auth/login", None, json!({"login": "alice", "password": PASSWORD}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
        app.login("alice", "N3w-passw0rd").await;
        app.call(Method::PUT, "/users/me/password", None, Some(json!({"current_password": "a", "new_password": "b"})))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "missing_token");
    }

    async fn login_history_is_newest_first_with_failures(app) {
        app.register("alice").await;
        app.post("/auth/login", None, json!({"login": "alice", "password": "Wr0ng-pass"})).await;
        let access = app
            .send(
                app.request(Method::POST, "/auth/login")
                    .header("user-agent", "e2e-agent/1")
                    .json(&json!({"login": "alice", "password": PASSWORD})),
            )
            .await
            .json["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = app.get("/users/me/logins", Some(&access)).await;
        assert_eq!(r.status, StatusCode::OK);
        let events = r.json.as_array().unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["success"], true);
        assert_eq!(events[0]["user_agent"], "e2e-agent/1");
        assert_eq!(events[0]["ip"], "127.0.0.1");
        assert_eq!(events[1]["success"], false);
        let mut keys: Vec<&str> = events[0].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["at", "ip", "success", "user_agent"]);
        let one = app.get("/users/me/logins?limit=1", Some(&access)).await;
        assert_eq!(one.json.as_array().unwrap().len(), 1);
        let before = events[0]["at"].as_str().unwrap().replace('+', "%2B");
        let older = app.get(&format!("/users/me/logins?before={before}"), Some(&access)).await;
        assert_eq!(older.status, StatusCode::OK, "{}", older.text);
        assert_eq!(older.json.as_array().unwrap().len(), 1);
        app.get("/users/me/logins?limit=abc", Some(&access))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(app.get("/users/me/logins", None).await.status, StatusCode::UNAUTHORIZED);
    }

    async fn sessions_are_listed_and_revoked_one_by_one(app) {
        let (_, phone, _) = app.signup("alice").await;
        let laptop = app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned();
        let r = app.get("/users/me/sessions", Some(&phone)).await;
        assert_eq!(r.status, StatusCode::OK);
        let list = r.json.as_array().unwrap();
        assert_eq!(list.len(), 2);
        let mut keys: Vec<&str> = list[0].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "current", "expires_at", "id", "ip", "last_refreshed_at", "user_agent"]);
        let current: Vec<bool> = list.iter().map(|s| s["current"].as_bool().unwrap()).collect();
        assert_eq!(current.iter().filter(|c| **c).count(), 1);
        let other = list.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
        let (_, bob, _) = app.signup("bob").await;
        app.call(Method::DELETE, &format!("/users/me/sessions/{other}"), Some(&bob), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        let del = app.call(Method::DELETE, &format!("/users/me/sessions/{other}"), Some(&phone), None).await;
        assert_eq!(del.status, StatusCode::NO_CONTENT);
        assert_eq!(app.get("/users/me", Some(&laptop)).await.status, StatusCode::UNAUTHORIZED);
        app.call(Method::DELETE, &format!("/users/me/sessions/{other}"), Some(&phone), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        app.call(Method::DELETE, "/users/me/sessions/not-a-uuid", Some(&phone), None)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_path");
        assert_eq!(app.get("/users/me/sessions", None).await.status, StatusCode::UNAUTHORIZED);
        app.call(Method::DELETE, &format!("/users/me/sessions/{other}"), None, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "missing_token");
    }
}

on_both! {
    async fn a_login_past_the_session_cap_revokes_the_oldest(app) {
        let app = TestApp::start_config({
            let mut c = app.config.clone();
            c.max_sessions_per_user = 3;
            c.database_url = app.database_url().map(str::to_owned);
            c
        })
        .await;
        app.register("alice").await;
        let mut tokens = Vec::new();
        for _ in 0..4 {
            tokens.push(app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned());
        }
        // The first session was the oldest: revoked by the fourth login.
        app.get("/users/me", Some(&tokens[0]))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        let listed = app.get("/users/me/sessions", Some(&tokens[3])).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        assert_eq!(listed.json.as_array().unwrap().len(), 3);
        assert_eq!(listed.json[0]["current"], true, "newest first");
    }

    async fn session_lists_are_paged(app) {
        app.register("alice").await;
        let mut tokens = Vec::new();
        for _ in 0..5 {
            tokens.push(app.login("alice", PASSWORD).await["access_token"].as_str().unwrap().to_owned());
        }
        let me = &tokens[4];
        let ids = |r: &Reply| -> Vec<String> {
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.json.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
        };
        let all = ids(&app.get("/users/me/sessions", Some(me)).await);
        assert_eq!(all.len(), 5);
        assert_eq!(ids(&app.get("/users/me/sessions?limit=2", Some(me)).await), all[..2]);
        assert_eq!(ids(&app.get("/users/me/sessions?limit=2&offset=2", Some(me)).await), all[2..4]);
        assert!(ids(&app.get("/users/me/sessions?offset=5", Some(me)).await).is_empty());
        app.get("/users/me/sessions?offset=99999999999999999999", Some(me))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
        app.get("/users/me/sessions?limit=-1", Some(me))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
        // The admin view pages the same way.
        let admin = app.admin_token().await;
        let alice_id = app.get("/users/me", Some(me)).await.json["id"].as_str().unwrap().to_owned();
        let path = format!("/admin/users/{alice_id}/sessions?limit=3&offset=1");
        assert_eq!(ids(&app.get(&path, Some(&admin)).await), all[1..4]);
    }
}
