use serde_json::json;
use tests::*;

async fn forgotten_password_through_mail_dir(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("mail-{}", uuid::Uuid::new_v4().simple()));
    let mail_dir = dir.clone();
    let app = TestApp::start_with(backend, move |c| {
        c.mail_dir = Some(mail_dir);
        c.require_email_verification = true;
    })
    .await;
    app.register_with_email("alice", "alice@example.com").await;
    let verify = mail_in_dir(&dir, "alice@example.com", "verify_email").await;
    assert!(verify["sent_at"].is_string() && verify.get("token").is_none());
    let v = app
        .post(
            "/auth/verify-email",
            None,
            json!({"login": "alice", "code": verify["code"]}),
        )
        .await;
    assert_eq!(v.status, StatusCode::NO_CONTENT, "{}", v.text);
    let old = app.login("alice", "Passw0rd!").await;
    let old_access = old["access_token"].as_str().unwrap().to_owned();

    // Unknown and known addresses answer alike; only the known one gets mail.
    let before = mails_in_dir(&dir);
    let unknown = app
        .post(
            "/auth/password-reset",
            None,
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    let known = app
        .post(
            "/auth/password-reset",
            None,
            json!({"email": "Alice@example.com"}),
        )
        .await;
    assert_eq!(
        (known.status, known.text.as_str()),
        (StatusCode::ACCEPTED, unknown.text.as_str())
    );
    let reset = mail_in_dir(&dir, "alice@example.com", "password_reset").await;
    let token = reset["token"].as_str().unwrap().to_owned();
    assert!(reset.get("code").is_none());
    assert_eq!(mails_in_dir(&dir), before + 1);

    let weak = app
        .post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": "weak"}),
        )
        .await;
    weak.assert_error(StatusCode::BAD_REQUEST, "validation_failed");
    let done = app
        .post(
            "/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": "N3w-passw0rd"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
    app.get("/users/me", Some(&old_access))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    let r = app
        .post(
            "/auth/refresh",
            None,
            json!({"refresh_token": old["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    app.post(
        "/auth/login",
        None,
        json!({"login": "alice", "password": "Passw0rd!"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let fresh = app.login("alice", "N3w-passw0rd").await;
    assert!(fresh["access_token"].is_string());
    app.post(
        "/auth/password-reset/confirm",
        None,
        json!({"token": token, "new_password": "An0ther-pass"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_reset_token");
    app.post(
        "/auth/password-reset",
        None,
        json!({"email": "not an address"}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_mail_on_memory() {
    forgotten_password_through_mail_dir(Backend::Memory).await;
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_mail_on_postgres() {
    forgotten_password_through_mail_dir(Backend::Postgres).await;
}

on_both! {
    async fn reset_requests_are_limited_per_address_known_or_not(app) {
        let mut last = None;
        for _ in 0..4 {
            last = Some(app.post("/auth/password-reset", None, json!({"email": "nobody@example.com"})).await);
        }
        let r = last.unwrap();
        r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert!(r.header("retry-after").is_some());
    }

    async fn the_discovery_document_points_at_the_jwks(app) {
        let d = app.get("/.well-known/openid-configuration", None).await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text);
        assert_eq!(d.json["issuer"], app.state.auth.keys().issuer());
        assert_eq!(d.json["id_token_signing_alg_values_supported"], json!(["EdDSA"]));
        let jwks_uri = d.json["jwks_uri"].as_str().unwrap();
        assert_eq!(jwks_uri, app.url("/.well-known/jwks.json"));
        let jwks = app.get("/.well-known/jwks.json", None).await;
        assert_eq!(jwks.status, StatusCode::OK);
        assert!(!jwks.json["keys"].as_array().unwrap().is_empty());
    }
}
