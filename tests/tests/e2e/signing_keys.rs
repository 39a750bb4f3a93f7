//! Signing keys kept in the store over HTTP: the JWKS with the next key and its cache
//! lifetime, rotating now, revoking a key, and a second instance following.

use axum::http::Method;
use base64::Engine;
use serde_json::Value;
use tests::*;

fn rotating(c: &mut server_example::config::Config) {
    c.signing_key_rotation_secs = Some(3600);
    c.signing_key_poll_ms = 50;
    c.jwks_max_age_secs = 60;
}

fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice::<Value>(&header).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn keys(app: &TestApp, admin: &str) -> Vec<Value> {
    let reply = app.get("/admin/keys", Some(admin)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json.as_array().unwrap().clone()
}

fn kid_in(keys: &[Value], state: &str) -> String {
    let key = keys
        .iter()
        .find(|k| k["state"] == state)
        .unwrap_or_else(|| panic!("a {state} key in {keys:?}"));
    key["kid"].as_str().unwrap().to_owned()
}

async fn published(app: &TestApp) -> Vec<String> {
    let reply = app.get("/.well-known/jwks.json", None).await;
    reply.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

on_both_with! { rotating;
    async fn keys_rotate_now_and_a_revoked_keys_tokens_are_refused(app) {
        let admin = app.admin_token().await;
        let before = keys(&app, &admin).await;
        let (first, next) = (kid_in(&before, "current"), kid_in(&before, "next"));
        assert_eq!(kid_of(&admin), first);
        let jwks = app.get("/.well-known/jwks.json", None).await;
        assert_eq!(jwks.header("cache-control"), Some("public, max-age=60"));
        let published_kids = published(&app).await;
        assert!(published_kids.contains(&first) && published_kids.contains(&next), "{published_kids:?}");
        assert!(!jwks.text.contains("\"d\""), "no private half");

        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        let rotated = app.call(Method::POST, "/admin/keys/rotate", Some(&admin), None).await;
        assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
        let after = rotated.json.as_array().unwrap().clone();
        assert_eq!(kid_in(&after, "current"), next, "the published next key signs");
        assert_eq!(kid_in(&after, "retired"), first);
        assert!(after.iter().all(|k| !k.to_string().contains("sealed")), "{after:?}");
        assert_eq!(app.get("/users/me", Some(&admin)).await.status, StatusCode::OK, "a retired key's token verifies");
        let (_, alice, _) = app.signup("alice").await;
        assert_eq!(kid_of(&alice), next);

        let revoked = app.call(Method::DELETE, &format!("/admin/keys/{first}"), Some(&alice), None).await;
        revoked.assert_error(StatusCode::FORBIDDEN, "forbidden");
        let fresh_admin = app.admin_token().await;
        let revoked = app.call(Method::DELETE, &format!("/admin/keys/{first}"), Some(&fresh_admin), None).await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
        app.get("/users/me", Some(&admin)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        assert!(!published(&app).await.contains(&first));
        app.call(Method::DELETE, &format!("/admin/keys/{first}"), Some(&fresh_admin), None).await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        let events = app.get("/admin/audit?kind=signing_key_revoked", Some(&fresh_admin)).await;
        assert_eq!(events.json[0]["detail"].as_str(), Some(first.as_str()), "{}", events.text);
    }
}

on_both! {
    async fn without_rotation_the_key_routes_say_so(app) {
        let admin = app.admin_token().await;
        app.get("/admin/keys", Some(&admin)).await.assert_error(StatusCode::CONFLICT, "key_rotation_off");
        app.call(Method::POST, "/admin/keys/rotate", Some(&admin), None).await
            .assert_error(StatusCode::CONFLICT, "key_rotation_off");
        assert_eq!(app.get("/.well-known/jwks.json", None).await.header("cache-control"), Some("public, max-age=300"));
    }
}

/// Two instances on one database, each polling the keys only every minute: a
/// revocation on one reaches the other through the database's notice, which then
/// refuses the revoked key's tokens and signs with the key that took over, without a
/// restart.
#[tokio::test]
async fn another_instance_follows_a_revocation_through_the_databases_notice() {
    let app = TestApp::start_with(Backend::Postgres, |c| {
        rotating(c);
        c.signing_key_poll_ms = 60_000;
    })
    .await;
    let other = app.sibling().await;
    let admin = app.admin_token().await;
    let keys = keys(&app, &admin).await;
    let (current, next) = (kid_in(&keys, "current"), kid_in(&keys, "next"));
    let token = other.login(ADMIN_LOGIN, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kid_of(&token), current, "both sign with the stored key");
    assert_eq!(
        other.get("/users/me", Some(&token)).await.status,
        StatusCode::OK
    );
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/admin/keys/{current}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    other
        .until_status("/users/me", &token, StatusCode::UNAUTHORIZED)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    let fresh = other.login(ADMIN_LOGIN, ADMIN_PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kid_of(&fresh), next, "the next key took over there too");
    assert_eq!(
        app.get("/users/me", Some(&fresh)).await.status,
        StatusCode::OK
    );
}
