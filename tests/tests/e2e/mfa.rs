use auth_core::time;
use serde_json::json;
use tests::*;

/// The authenticator app's code for `secret` (base32), `offset` steps from now.
fn code(secret: &str, offset: i64) -> String {
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + offset * 30;
    auth_core::testkit::totp_code(secret, at)
}

fn amr(app: &TestApp, access: &str) -> Vec<String> {
    app.state.auth.verify(access).unwrap().amr
}

on_both! {
    async fn totp_enrol_login_with_codes_and_disable(app) {
        let (_, token, _) = app.signup("alice").await;
        app.post("/users/me/mfa/totp", Some(&token), json!({}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "reauthentication_required");
        app.reauthenticate(&token).await;
        let e = app.post("/users/me/mfa/totp", Some(&token), json!({})).await;
        assert_eq!(e.status, StatusCode::OK, "{}", e.text);
        let secret = e.json["secret"].as_str().unwrap().to_owned();
        assert!(e.json["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
        app.post("/users/me/mfa/totp/confirm", Some(&token), json!({"code": "12345"}))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "validation_failed");
        let c = app.post("/users/me/mfa/totp/confirm", Some(&token), json!({"code": code(&secret, 0)})).await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.text);
        let recovery: Vec<String> = serde_json::from_value(c.json["recovery_codes"].clone()).unwrap();
        assert_eq!(recovery.len(), 10);
        app.post("/users/me/mfa/totp", Some(&token), json!({}))
            .await
            .assert_error(StatusCode::CONFLICT, "mfa_active");

        // The password alone now gets a challenge, not tokens.
        let login = app.post("/auth/login", None, json!({"login": "alice", "password": "Passw0rd!"})).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        assert_eq!(login.json["mfa_required"], true);
        assert!(login.json.get("access_token").is_none());
        assert_eq!(login.json["expires_in"], 300);
        let challenge = login.json["mfa_token"].as_str().unwrap().to_owned();
        let verify = |code: String| {
            let challenge = challenge.clone();
            let app = &app;
            async move { app.post("/auth/mfa/verify", None, json!({"mfa_token": challenge, "code": code})).await }
        };
        verify("000000".into()).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_code");
        app.post("/auth/mfa/verify", None, json!({"mfa_token": "forged.token", "code": "000000"}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_token");
        // The confirmation used the current step; the next one is within the drift.
        let pair = verify(code(&secret, 1)).await;
        assert_eq!(pair.status, StatusCode::OK, "{}", pair.text);
        assert_eq!(amr(&app, pair.json["access_token"].as_str().unwrap()), ["pwd", "otp"]);
        // The challenge is used up, and so is the step.
        verify(recovery[1].clone()).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_token");
        let again = |code: String| {
            let app = &app;
            async move {
                let login = app.post("/auth/login", None, json!({"login": "alice", "password": "Passw0rd!"})).await;
                let challenge = login.json["mfa_token"].as_str().unwrap().to_owned();
                app.post("/auth/mfa/verify", None, json!({"mfa_token": challenge, "code": code})).await
            }
        };
        again(code(&secret, 1)).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_code");
        // A recovery code works once.
        let by_recovery = again(recovery[0].clone()).await;
        assert_eq!(by_recovery.status, StatusCode::OK, "{}", by_recovery.text);
        again(recovery[0].clone()).await.assert_error(StatusCode::UNAUTHORIZED, "invalid_mfa_code");

        // Disabled with another recovery code: the password alone signs in again.
        let access = by_recovery.json["access_token"].as_str().unwrap().to_owned();
        let off = app.call(Method::DELETE, "/users/me/mfa/totp", Some(&access), Some(json!({"code": recovery[1]}))).await;
        assert_eq!(off.status, StatusCode::NO_CONTENT, "{}", off.text);
        app.call(Method::DELETE, "/users/me/mfa/totp", Some(&access), Some(json!({"code": recovery[2]})))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        let plain = app.login("alice", "Passw0rd!").await;
        assert_eq!(amr(&app, plain["access_token"].as_str().unwrap()), ["pwd"]);
    }

    async fn an_admin_removes_a_lost_second_factor(app) {
        let (id, token, _) = app.signup("alice").await;
        app.reauthenticate(&token).await;
        let e = app.post("/users/me/mfa/totp", Some(&token), json!({})).await;
        let secret = e.json["secret"].as_str().unwrap().to_owned();
        let c = app.post("/users/me/mfa/totp/confirm", Some(&token), json!({"code": code(&secret, 0)})).await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.text);
        let admin = app.admin_token().await;
        let path = format!("/admin/users/{id}/mfa");
        app.call(Method::DELETE, &path, Some(&token), None).await.assert_error(StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
        app.call(Method::DELETE, &path, Some(&admin), None).await.assert_error(StatusCode::NOT_FOUND, "not_found");
        assert!(app.login("alice", "Passw0rd!").await["access_token"].is_string());
    }
}
