//! What one stolen access token or one replayed message can reach: sensitive changes
//! need fresh proof, one-time things stay one-time, on memory and on Postgres.

use serde_json::{Value, json};
use tests::*;

/// Throttles wide enough that every request of a burst reaches the store.
fn unthrottled(c: &mut server_example::Config) {
    c.login_max_failures = 1000;
    c.login_max_failures_per_ip = 1000;
}

fn code(secret: &str, offset: i64) -> String {
    let now = auth_core::time::OffsetDateTime::now_utc().unix_timestamp();
    auth_core::testkit::totp_code(secret, now + offset * 30)
}

/// Enrols a second factor for the session of `access` (re-authenticating it first);
/// returns the secret and the recovery codes.
async fn enrol(app: &TestApp, access: &str) -> (String, Vec<String>) {
    app.reauthenticate(access).await;
    let e = app
        .post("/users/me/mfa/totp", Some(access), json!({}))
        .await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.text);
    let secret = e.json["secret"].as_str().unwrap().to_owned();
    let c = app
        .post(
            "/users/me/mfa/totp/confirm",
            Some(access),
            json!({"code": code(&secret, 0)}),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    (
        secret,
        serde_json::from_value(c.json["recovery_codes"].clone()).unwrap(),
    )
}

/// A password login's MFA challenge token.
async fn challenge(app: &TestApp, login: &str) -> String {
    let r = app
        .post(
            "/auth/login",
            None,
            json!({"login": login, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.json["mfa_required"], true, "{}", r.text);
    r.json["mfa_token"].as_str().unwrap().to_owned()
}

async fn complete(app: &TestApp, challenge: &str, code: &str) -> Reply {
    app.post(
        "/auth/mfa/verify",
        None,
        json!({"mfa_token": challenge, "code": code}),
    )
    .await
}

async fn recovery_codes_left(app: &TestApp, id: &str) -> u32 {
    app.state
        .auth
        .store()
        .recovery_codes_left(id.parse().unwrap())
        .await
        .unwrap()
}

/// Whether a mail of `kind` reached `to` within a moment (the reset is sent in the
/// background).
async fn mailed(app: &TestApp, to: &str, kind: &str) -> bool {
    for _ in 0..50 {
        if app
            .mailer
            .sent()
            .iter()
            .any(|m| m.to == to && m.kind.name() == kind)
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

on_both! {
    async fn a_stolen_access_token_cannot_take_the_account(app) {
        let (_, stolen, _) = app.signup_verified("alice", "alice@example.com").await;
        let thief = json!({"email": "thief@example.com"});
        app.call(Method::PATCH, "/users/me", Some(&stolen), Some(thief.clone()))
            .await
            .assert_error(StatusCode::FORBIDDEN, "reauthentication_required");
        app.post("/auth/reauthenticate", Some(&stolen), json!({"password": "Wr0ng-pass"}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
        app.post("/auth/reauthenticate", Some(&stolen), json!({}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let me = app.get("/users/me", Some(&stolen)).await;
        assert_eq!((me.json["email"].clone(), me.json["email_verified"].clone()), (json!("alice@example.com"), json!(true)));
        let reset = app.post("/auth/password-reset", None, json!({"email": "thief@example.com"})).await;
        assert_eq!(reset.status, StatusCode::ACCEPTED);
        assert_eq!(reset.header("content-type"), Some("application/json"));
        assert!(reset.json["message"].is_string(), "{}", reset.text);
        // With proof the change is only pending: the account keeps its verified address,
        // which is told, and a reset still goes there and nowhere else.
        app.reauthenticate(&stolen).await;
        let r = app.call(Method::PATCH, "/users/me", Some(&stolen), Some(thief)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["email"], "alice@example.com");
        assert!(mailed(&app, "alice@example.com", "email_change_notice").await);
        let notice = app.mailer.sent().into_iter().find(|m| m.kind.name() == "email_change_notice").unwrap();
        assert!(!format!("{notice:?}").contains("thief"), "the notice names no address");
        app.post("/auth/password-reset", None, json!({"email": "thief@example.com"})).await;
        app.post("/auth/password-reset", None, json!({"email": "alice@example.com"})).await;
        assert!(mailed(&app, "alice@example.com", "password_reset").await);
        assert!(!mailed(&app, "thief@example.com", "password_reset").await);
        app.login("alice", PASSWORD).await;
    }

    async fn a_reset_is_not_mailed_to_an_unverified_address(app) {
        app.register_with_email("bob", "bob@example.com").await;
        let r = app.post("/auth/password-reset", None, json!({"email": "bob@example.com"})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        assert!(mailed(&app, "bob@example.com", "verify_email").await);
        assert!(!mailed(&app, "bob@example.com", "password_reset").await);
    }

    async fn a_challenge_from_before_a_reset_a_block_or_a_factor_change_is_refused(app) {
        let (id, access, _) = app.signup_verified("alice", "alice@example.com").await;
        let (_, recovery) = enrol(&app, &access).await;
        // A password reset.
        let old = challenge(&app, "alice").await;
        app.post("/auth/password-reset", None, json!({"email": "alice@example.com"})).await;
        assert!(mailed(&app, "alice@example.com", "password_reset").await);
        let token = app.mailer.last_reset_token_for("alice@example.com").unwrap();
        let done = app.post("/auth/password-reset/confirm", None, json!({"token": token, "new_password": PASSWORD})).await;
        assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
        complete(&app, &old, &recovery[0]).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_token");
        // A block and an unblock.
        let old = challenge(&app, "alice").await;
        let admin = app.admin_token().await;
        for action in ["block", "unblock"] {
            let r = app.post(&format!("/admin/users/{id}/{action}"), Some(&admin), json!({})).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        }
        complete(&app, &old, &recovery[0]).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_token");
        // The factor removed by an administrator.
        let old = challenge(&app, "alice").await;
        let r = app.call(Method::DELETE, &format!("/admin/users/{id}/mfa"), Some(&admin), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
        complete(&app, &old, &recovery[0]).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_token");
    }

    async fn a_blocked_login_uses_up_no_recovery_code(app) {
        let (id, access, _) = app.signup("alice").await;
        let (_, recovery) = enrol(&app, &access).await;
        let old = challenge(&app, "alice").await;
        let admin = app.admin_token().await;
        app.post(&format!("/admin/users/{id}/block"), Some(&admin), json!({})).await;
        assert_eq!(complete(&app, &old, &recovery[0]).await.status.as_u16() / 100, 4);
        app.post("/auth/login", None, json!({"login": "alice", "password": PASSWORD}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "account_blocked");
        assert_eq!(recovery_codes_left(&app, &id).await, 10);
        app.post(&format!("/admin/users/{id}/unblock"), Some(&admin), json!({})).await;
        let pair = complete(&app, &challenge(&app, "alice").await, &recovery[0]).await;
        assert_eq!(pair.status, StatusCode::OK, "{}", pair.text);
    }

    async fn enrolment_leaves_only_the_current_session(app) {
        let (_, access, _) = app.signup("alice").await;
        let other = app.login("alice", PASSWORD).await;
        enrol(&app, &access).await;
        let other_access = other["access_token"].as_str().unwrap();
        app.get("/users/me", Some(other_access)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
        app.post("/auth/refresh", None, json!({"refresh_token": other["refresh_token"]}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        assert_eq!(app.get("/users/me", Some(&access)).await.status, StatusCode::OK);
        let sessions = app.get("/users/me/sessions", Some(&access)).await;
        assert_eq!(sessions.json.as_array().unwrap().len(), 1, "{}", sessions.text);
    }
}

on_both_with! {
    super::unthrottled;

    async fn parallel_completions_of_one_challenge_open_one_session(app) {
        let (id, access, _) = app.signup("alice").await;
        let (_, recovery) = enrol(&app, &access).await;
        let c = challenge(&app, "alice").await;
        let replies = futures::future::join_all((0..30).map(|i| {
            let (app, c, code) = (&app, c.clone(), recovery[i % recovery.len()].clone());
            async move { complete(app, &c, &code).await }
        }))
        .await;
        let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
        assert_eq!(ok, 1, "{:?}", replies.iter().map(|r| &r.text).collect::<Vec<_>>());
        for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        }
        assert_eq!(recovery_codes_left(&app, &id).await, 9, "only the winner's code is used");
        let sessions = app.get("/users/me/sessions", Some(&access)).await;
        assert_eq!(sessions.json.as_array().unwrap().len(), 2, "the enrolling session and the winner");
    }

    async fn enrolment_racing_confirmation_never_activates_the_other_secret(app) {
        let (id, access, _) = app.signup("alice").await;
        app.reauthenticate(&access).await;
        let (mut confirmed, mut replaced) = (0, 0);
        for round in 0..40 {
            let first = app.post("/users/me/mfa/totp", Some(&access), json!({})).await;
            assert_eq!(first.status, StatusCode::OK, "{}", first.text);
            let secret = first.json["secret"].as_str().unwrap().to_owned();
            let (confirm, again) = futures::join!(
                app.post("/users/me/mfa/totp/confirm", Some(&access), json!({"code": code(&secret, 0)})),
                app.post("/users/me/mfa/totp", Some(&access), json!({})),
            );
            let factor = app.state.auth.store().totp_factor(id.parse().unwrap()).await.unwrap().unwrap();
            match (confirm.status, again.status) {
                (StatusCode::OK, StatusCode::CONFLICT) => {
                    confirmed += 1;
                    assert!(factor.active, "round {round}");
                    // The confirmed secret is the active one: its next code proves it.
                    let proof = app.post("/auth/reauthenticate", Some(&access), json!({"code": code(&secret, 1)})).await;
                    assert_eq!(proof.status, StatusCode::NO_CONTENT, "round {round}: {}", proof.text);
                    let codes: Vec<Value> = serde_json::from_value(confirm.json["recovery_codes"].clone()).unwrap();
                    let off = app.call(Method::DELETE, "/users/me/mfa/totp", Some(&access), Some(json!({"code": codes[0]}))).await;
                    assert_eq!(off.status, StatusCode::NO_CONTENT, "{}", off.text);
                }
                (StatusCode::BAD_REQUEST, StatusCode::OK) => {
                    replaced += 1;
                    assert!(!factor.active, "round {round}: the replaced secret was activated");
                }
                other => panic!("round {round}: {other:?}: {} / {}", confirm.text, again.text),
            }
        }
        assert_eq!(confirmed + replaced, 40);
    }
}
