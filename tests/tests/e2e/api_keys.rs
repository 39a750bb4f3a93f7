//! API keys over HTTP: created with fresh proof, accepted as Bearer credentials, refused
//! at once when revoked, expired or their owner is blocked.

use axum::http::Method;
use serde_json::{Value, json};
use tests::*;

/// A key for the holder of `token` (a user with [`PASSWORD`], re-authenticated first)
/// from `body`: the reply.
async fn create_key(app: &TestApp, token: &str, body: Value) -> Value {
    app.reauthenticate(token).await;
    created_key(app, token, body).await
}

/// A key for the holder of `token`, a session that re-authenticated, from `body`.
async fn created_key(app: &TestApp, token: &str, body: Value) -> Value {
    let created = app.post("/users/me/api-keys", Some(token), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.json
}

fn key_of(created: &Value) -> String {
    created["key"].as_str().unwrap().to_owned()
}

on_both! {
    async fn a_key_calls_protected_routes_as_its_owner_until_revoked(app) {
        let (id, token, _) = app.signup("alice").await;
        app.post("/users/me/api-keys", Some(&token), json!({"name": "ci"}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "reauthentication_required");
        let created = create_key(&app, &token, json!({"name": "ci"})).await;
        let key = key_of(&created);
        assert!(key.starts_with("ak_"), "{key}");
        assert_eq!((created["name"].as_str(), created["roles"].as_array().map(Vec::len)), (Some("ci"), Some(0)));
        let me = app.get("/users/me", Some(&key)).await;
        assert_eq!((me.status, me.json["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
        let listed = app.get("/users/me/api-keys", Some(&key)).await;
        assert_eq!(listed.status, StatusCode::OK);
        let listed = listed.json.as_array().unwrap().clone();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].get("key").is_none() && !listed[0].to_string().contains(&key[36..]), "no secret listed");
        assert!(listed[0]["last_used_at"].is_string(), "the use was recorded");
        // What only a signed-in session may do.
        app.post("/auth/logout", Some(&key), json!({})).await.assert_error(StatusCode::FORBIDDEN, "session_required");
        app.post("/auth/reauthenticate", Some(&key), json!({"password": PASSWORD}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "session_required");
        app.post("/users/me/api-keys", Some(&key), json!({"name": "more"}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "session_required");
        app.call(Method::PUT, "/users/me/password", Some(&key), Some(json!({"current_password": PASSWORD, "new_password": "An0ther-pass!"})))
            .await
            .assert_error(StatusCode::FORBIDDEN, "session_required");
        // A changed character is no key.
        let mut forged = key.clone().into_bytes();
        let last = forged.len() - 3;
        forged[last] = if forged[last] == b'a' { b'b' } else { b'a' };
        let forged = String::from_utf8(forged).unwrap();
        let refused = app.get("/users/me", Some(&forged)).await;
        refused.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        assert!(refused.header("www-authenticate").is_some_and(|h| h.contains("invalid_token")));
        // Bad input loses nothing and says what is wrong.
        app.post("/users/me/api-keys", Some(&token), json!({"name": "ci"}))
            .await
            .assert_error(StatusCode::CONFLICT, "api_key_exists");
        for bad in [
            json!({"name": "x", "roles": ["admin"]}),
            json!({"name": ""}),
            json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
            json!({"name": "x", "rate_limit_per_minute": 0}),
        ] {
            app.post("/users/me/api-keys", Some(&token), bad).await.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        }
        for malformed in [json!({"name": "x", "expires_at": "tomorrow"}), json!({"name": "x", "rate_limit_per_minute": -1}), json!({})] {
            assert_eq!(app.post("/users/me/api-keys", Some(&token), malformed).await.status, StatusCode::BAD_REQUEST);
        }
        assert_eq!(app.get("/users/me/api-keys", Some(&token)).await.json.as_array().unwrap().len(), 1);
        let path = format!("/users/me/api-keys/{}", created["id"].as_str().unwrap());
        assert_eq!(app.call(Method::DELETE, &path, Some(&token), None).await.status, StatusCode::NO_CONTENT);
        app.get("/users/me", Some(&key)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        app.call(Method::DELETE, &path, Some(&token), None).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    }

    async fn an_expired_key_or_one_whose_owner_is_blocked_is_refused_at_once(app) {
        let (id, token, _) = app.signup("alice").await;
        let soon = auth_core::time::OffsetDateTime::now_utc() + auth_core::time::Duration::seconds(2);
        let soon = soon.format(&auth_core::time::format_description::well_known::Rfc3339).unwrap();
        let expiring = key_of(&create_key(&app, &token, json!({"name": "soon", "expires_at": soon})).await);
        let kept = key_of(&create_key(&app, &token, json!({"name": "kept"})).await);
        assert_eq!(app.get("/users/me", Some(&expiring)).await.status, StatusCode::OK);
        app.until_status("/users/me", &expiring, StatusCode::UNAUTHORIZED).await;
        assert_eq!(app.get("/users/me", Some(&kept)).await.status, StatusCode::OK);
        let admin = app.admin_token().await;
        let blocked = app.call(Method::POST, &format!("/admin/users/{id}/block"), Some(&admin), None).await;
        assert_eq!(blocked.status, StatusCode::NO_CONTENT);
        app.get("/users/me", Some(&kept)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    }

    async fn a_keys_roles_are_its_owners_and_administrators_manage_a_users_keys(app) {
        let admin = app.admin_token().await;
        let (alice, alice_token, _) = app.signup("alice").await;
        // An administrator's key with the admin role administers; one without does not.
        let mine = key_of(&created_key(&app, &admin_session(&app).await, json!({"name": "ops", "roles": ["admin"]})).await);
        assert_eq!(app.get("/admin/users", Some(&mine)).await.status, StatusCode::OK);
        let plain = key_of(&create_key(&app, &alice_token, json!({"name": "plain"})).await);
        app.get("/admin/users", Some(&plain)).await.assert_error(StatusCode::FORBIDDEN, "forbidden");
        // For alice, by an administrator who re-authenticated: alice's roles count.
        let path = format!("/admin/users/{alice}/api-keys");
        app.post(&path, Some(&admin), json!({"name": "sync"}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "reauthentication_required");
        let fresh = admin_session(&app).await;
        app.post(&path, Some(&fresh), json!({"name": "sync", "roles": ["admin"]}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let created = app.post(&path, Some(&fresh), json!({"name": "sync"})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let me = app.get("/users/me", Some(created.json["key"].as_str().unwrap())).await;
        assert_eq!(me.json["id"].as_str(), Some(alice.as_str()));
        let listed = app.get(&path, Some(&mine)).await;
        assert_eq!(listed.json.as_array().map(Vec::len), Some(2), "{}", listed.text);
        let one = format!("{path}/{}", created.json["id"].as_str().unwrap());
        assert_eq!(app.call(Method::DELETE, &one, Some(&mine), None).await.status, StatusCode::NO_CONTENT);
        app.get("/users/me", Some(created.json["key"].as_str().unwrap()))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        let unknown = format!("/admin/users/{}/api-keys", uuid::Uuid::now_v7());
        app.get(&unknown, Some(&mine)).await.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

/// A session of the administrator, re-authenticated.
async fn admin_session(app: &TestApp) -> String {
    let token = app.admin_token().await;
    let r = app
        .post(
            "/auth/reauthenticate",
            Some(&token),
            json!({ "password": ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    token
}

/// A key revoked on one instance is refused on the other (its cache told by the
/// database's notice), without a restart.
#[tokio::test]
async fn a_key_revoked_on_one_instance_is_refused_on_the_other() {
    let a = TestApp::start(Backend::Postgres).await;
    let b = a.sibling().await;
    let (_, token, _) = a.signup("alice").await;
    let created = create_key(&a, &token, json!({"name": "ci"})).await;
    let key = key_of(&created);
    for _ in 0..3 {
        assert_eq!(b.get("/users/me", Some(&key)).await.status, StatusCode::OK);
    }
    let path = format!("/users/me/api-keys/{}", created["id"].as_str().unwrap());
    assert_eq!(
        a.call(Method::DELETE, &path, Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    b.until_status("/users/me", &key, StatusCode::UNAUTHORIZED)
        .await;
}
