use auth_core::testkit::SoftAuthenticator;
use axum::http::Method;
use serde_json::{Value, json};
use tests::*;

/// The default `WEBAUTHN_ORIGIN` the test servers run with.
const ORIGIN: &str = "http://localhost:8080";

fn amr(app: &TestApp, access: &str) -> Vec<String> {
    app.state.auth.verify(access).unwrap().amr
}

/// Registers a passkey named `name` on `device` for the holder of `token` (who
/// re-authenticates first); the passkey as listed.
async fn add_passkey(
    app: &TestApp,
    token: &str,
    device: &mut SoftAuthenticator,
    name: &str,
) -> Value {
    app.reauthenticate(token).await;
    let started = app
        .post("/users/me/passkeys/register/start", Some(token), json!({}))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let credential = device.register(&started.json["options"]);
    let done = app
        .post(
            "/users/me/passkeys/register/finish",
            Some(token),
            json!({"ceremony_id": started.json["ceremony_id"], "credential": credential, "name": name}),
        )
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.text);
    done.json
}

/// A passwordless sign-in with `device`: the finish reply.
async fn passkey_sign_in(app: &TestApp, device: &mut SoftAuthenticator) -> Reply {
    let started = app
        .post("/auth/passkeys/login/start", None, json!({}))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let credential = device
        .sign_in(&started.json["options"])
        .expect("a credential");
    app.post(
        "/auth/passkeys/login/finish",
        None,
        json!({"ceremony_id": started.json["ceremony_id"], "credential": credential}),
    )
    .await
}

on_both! {
    async fn a_passkey_registers_signs_in_alone_and_is_managed_by_its_owner(app) {
        let (id, token, _) = app.signup("alice").await;
        app.post("/users/me/passkeys/register/start", Some(&token), json!({}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "reauthentication_required");
        let mut device = SoftAuthenticator::new(ORIGIN);
        let key = add_passkey(&app, &token, &mut device, "laptop").await;
        assert_eq!(key["name"], "laptop");
        assert_eq!(key["backup_eligible"], false);
        // A second authenticator of the same user.
        let mut twin = SoftAuthenticator::new(ORIGIN);
        add_passkey(&app, &token, &mut twin, "second").await;
        let list = app.get("/users/me/passkeys", Some(&token)).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.json.as_array().unwrap().len(), 2);

        let signed_in = passkey_sign_in(&app, &mut device).await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
        let access = signed_in.json["access_token"].as_str().unwrap();
        assert_eq!(amr(&app, access), ["hwk"]);
        let me = app.get("/users/me", Some(access)).await;
        assert_eq!((me.status, me.json["id"].as_str()), (StatusCode::OK, Some(id.as_str())));

        let key_id = key["id"].as_str().unwrap();
        let path = format!("/users/me/passkeys/{key_id}");
        let renamed = app.call(Method::PATCH, &path, Some(&token), Some(json!({"name": "work"}))).await;
        assert_eq!(renamed.status, StatusCode::NO_CONTENT, "{}", renamed.text);
        app.call(Method::PATCH, &path, Some(&token), Some(json!({"name": " "})))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        // Another user cannot touch it.
        let (_, bob, _) = app.signup("bob").await;
        app.call(Method::PATCH, &path, Some(&bob), Some(json!({"name": "mine"})))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        // Deleting needs fresh proof; then the passkey signs in no more.
        app.call(Method::DELETE, &path, Some(access), None)
            .await
            .assert_error(StatusCode::FORBIDDEN, "reauthentication_required");
        app.reauthenticate(access).await;
        let gone = app.call(Method::DELETE, &path, Some(access), None).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
        passkey_sign_in(&app, &mut device)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_passkey");
        let list = app.get("/users/me/passkeys", Some(access)).await;
        assert_eq!(list.json.as_array().unwrap().len(), 1);
        assert_eq!(list.json[0]["name"], "second");
        // Deleting a passkey revoked the caller's other sessions.
        app.get("/users/me", Some(&token))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    }

    async fn a_passkey_is_the_second_factor_of_an_account_with_one(app) {
        let (_, token, _) = app.signup("alice").await;
        let mut device = SoftAuthenticator::new(ORIGIN);
        add_passkey(&app, &token, &mut device, "key").await;
        let e = app.post("/users/me/mfa/totp", Some(&token), json!({})).await;
        let secret = e.json["secret"].as_str().unwrap().to_owned();
        let now = auth_core::time::OffsetDateTime::now_utc().unix_timestamp();
        let confirmed = app
            .post("/users/me/mfa/totp/confirm", Some(&token), json!({"code": auth_core::testkit::totp_code(&secret, now)}))
            .await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
        let login = app.post("/auth/login", None, json!({"login": "alice", "password": PASSWORD})).await;
        let mfa_token = login.json["mfa_token"].as_str().unwrap().to_owned();
        let started = app.post("/auth/passkeys/mfa/start", None, json!({"mfa_token": mfa_token})).await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        let credential = device.sign_in(&started.json["options"]).unwrap();
        let finish = json!({"mfa_token": mfa_token, "ceremony_id": started.json["ceremony_id"], "credential": credential});
        let pair = app.post("/auth/passkeys/mfa/finish", None, finish.clone()).await;
        assert_eq!(pair.status, StatusCode::OK, "{}", pair.text);
        assert_eq!(amr(&app, pair.json["access_token"].as_str().unwrap()), ["pwd", "hwk"]);
        // Replayed: the ceremony is used.
        app.post("/auth/passkeys/mfa/finish", None, finish)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_passkey");
        app.post("/auth/passkeys/mfa/start", None, json!({"mfa_token": "forged.token"}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_token");
    }

    async fn thirty_parallel_finishes_of_one_sign_in_give_one_session(app) {
        let (_, token, _) = app.signup("alice").await;
        let mut device = SoftAuthenticator::new(ORIGIN);
        add_passkey(&app, &token, &mut device, "key").await;
        let started = app.post("/auth/passkeys/login/start", None, json!({})).await;
        let credential = device.sign_in(&started.json["options"]).unwrap();
        let body = json!({"ceremony_id": started.json["ceremony_id"], "credential": credential});
        let replies = futures::future::join_all(
            (0..30).map(|_| app.post("/auth/passkeys/login/finish", None, body.clone())),
        )
        .await;
        let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
        assert_eq!(ok, 1, "{:?}", replies.iter().map(|r| &r.text).collect::<Vec<_>>());
        for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
            assert!(
                [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&r.status),
                "{}",
                r.text
            );
        }
    }

    async fn bad_passkey_answers_get_json_errors_and_the_page_is_served(app) {
        let (_, token, _) = app.signup("alice").await;
        // A phishing origin and another RP id are refused at registration.
        app.reauthenticate(&token).await;
        for device in [SoftAuthenticator::new("https://login.example.net"), {
            let mut d = SoftAuthenticator::new(ORIGIN);
            d.rp_id_override = Some("example.net".into());
            d
        }] {
            let mut device = device;
            let started = app.post("/users/me/passkeys/register/start", Some(&token), json!({})).await;
            let credential = device.register(&started.json["options"]);
            app.post(
                "/users/me/passkeys/register/finish",
                Some(&token),
                json!({"ceremony_id": started.json["ceremony_id"], "credential": credential}),
            )
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_passkey");
        }
        // A good passkey answering through a phishing origin, or for another RP id.
        let mut device = SoftAuthenticator::new(ORIGIN);
        add_passkey(&app, &token, &mut device, "good").await;
        device.origin = "https://login.example.net".into();
        passkey_sign_in(&app, &mut device)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_passkey");
        device.origin = ORIGIN.into();
        device.rp_id_override = Some("example.net".into());
        passkey_sign_in(&app, &mut device)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_passkey");
        device.rp_id_override = None;
        let ok = passkey_sign_in(&app, &mut device).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
        // Not a credential at all, and an unknown ceremony.
        let started = app.post("/auth/passkeys/login/start", None, json!({})).await;
        app.post(
            "/auth/passkeys/login/finish",
            None,
            json!({"ceremony_id": started.json["ceremony_id"], "credential": {"id": 1}}),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_passkey");
        app.post(
            "/auth/passkeys/login/finish",
            None,
            json!({"ceremony_id": uuid::Uuid::new_v4(), "credential": {}}),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_passkey");
        app.post("/auth/passkeys/login/finish", None, json!({"ceremony_id": "x"}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid_body");
        let page = app.get("/passkeys", None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(page.text.contains("navigator.credentials.create"));
        assert!(!page.text.contains("<script src") && !page.text.contains("<link"), "no external assets");
    }
}

on_both_with! {
    |c| c.passkey_sign_in_limit_per_minute = 5;

    async fn twenty_parallel_sign_in_starts_from_one_address_get_five_challenges(app) {
        let replies = futures::future::join_all(
            (0..20).map(|_| app.post("/auth/passkeys/login/start", None, json!({}))),
        )
        .await;
        let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
        assert_eq!(ok, 5);
        for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
            r.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
            assert!(r.headers.contains_key("retry-after"));
        }
    }
}
